import pytest

from chalicelib.domain.lifecycle import Action
from chalicelib.domain.review import Choice, Decision, InvalidDecision, Outcome, check_decision, panel_outcome

PANEL = ("iag_chair", "police_coordinator")


def decided(**choices) -> dict:
    return {role: Decision(role, Choice(value if isinstance(value, str) else value[0]),
                           target_group=None if isinstance(value, str) else value[1])
            for role, value in choices.items()}


@pytest.mark.parametrize("decisions, expected", [
    (decided(), None),
    (decided(iag_chair="approve"), None),
    (decided(iag_chair="approve", police_coordinator="approve"), Outcome(Action.APPROVE)),
    (decided(iag_chair="reject"), Outcome(Action.REJECT)),
    (decided(iag_chair="approve", police_coordinator="reject"), Outcome(Action.REJECT)),
    (decided(police_coordinator="discuss"), Outcome(Action.REQUEST_DISCUSSION)),
    (decided(iag_chair="reject", police_coordinator="discuss"), Outcome(Action.REJECT)),
    (decided(iag_chair=("redirect", "bath"), police_coordinator=("redirect", "bath")),
     Outcome(Action.REDIRECT, target_group="bath")),
    (decided(iag_chair=("redirect", "bath")), None),
    (decided(iag_chair=("redirect", "bath"), police_coordinator=("redirect", "youth")),
     Outcome(Action.RECONSIDER, disagreement=True)),
    (decided(iag_chair="approve", police_coordinator=("redirect", "bath")), Outcome(Action.RECONSIDER, disagreement=True)),
])
def test_the_unanimous_rule_turns_the_panels_decisions_into_one_outcome(decisions, expected):
    assert panel_outcome(PANEL, decisions) == expected


def test_decisions_by_people_outside_the_panel_do_not_count():
    assert panel_outcome(PANEL, decided(iag_chair="approve", superintendent="approve")) is None


@pytest.mark.parametrize("decision, message", [
    (Decision("iag_chair", Choice.REJECT, reason="  "), "reason"),
    (Decision("iag_chair", Choice.REDIRECT, target_group="nowhere"), "group to suggest"),
    (Decision("iag_chair", Choice.REDIRECT, target_group="bristol"), "different group"),
    (Decision("iag_chair", Choice.DISCUSS), "discussion should cover"),
])
def test_a_decision_that_cannot_be_acted_on_is_refused_before_it_is_stored(decision, message):
    with pytest.raises(InvalidDecision, match=message):
        check_decision(decision, group_ids={"bristol", "bath"}, current_group="bristol")
