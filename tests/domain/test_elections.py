from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.domain.elections import (
    Election, InvalidElection, Office, Phase, Result, Status, clean_statement, electorate, new_election, phase,
    refusal, tally,
)
from chalicelib.domain.membership import Member, Role

OPENED = datetime(2026, 11, 22, 10, 30, tzinfo=timezone.utc)
TODAY = OPENED.date()


def election(**changes) -> Election:
    made = new_election("e1", "avon-and-somerset", "bristol-iag", "chair", opened_at=OPENED, nominations_days=14,
                        voting_days=7)
    return replace(made, **changes)


def member(member_id: str, **changes) -> Member:
    values = dict(member_id=member_id, force_id="avon-and-somerset", group_id="bristol-iag", role=Role.MEMBER,
                  name=f"Member {member_id}", email=f"{member_id}@example.org", phone="", joined_on=date(2026, 1, 5),
                  term_ends_on=date(2029, 1, 5))
    values.update(changes)
    return Member(**values)


def test_an_election_opens_for_nominations_then_voting_for_the_days_asked():
    opened = election()
    assert opened.office is Office.CHAIR and opened.status is Status.NOMINATING
    assert opened.nominations_close == OPENED + timedelta(days=14)
    assert opened.voting_closes == OPENED + timedelta(days=21)


@pytest.mark.parametrize("office, nominations_days, voting_days", [
    ("treasurer", 14, 7), ("chair", 0, 7), ("chair", 14, 0), ("chair", 91, 7), ("chair", 14, 1.5), ("chair", True, 7),
])
def test_an_election_is_for_chair_or_vice_chair_over_whole_days(office, nominations_days, voting_days):
    with pytest.raises(InvalidElection):
        new_election("e1", "f", "g", office, opened_at=OPENED, nominations_days=nominations_days,
                     voting_days=voting_days)


def test_only_the_groups_active_members_whose_term_runs_take_part():
    members = [member("a"), member("b", active=False), member("c", group_id="strategic-iag"),
               member("d", term_ends_on=TODAY - timedelta(days=1)), member("a")]
    assert [m.member_id for m in electorate(members, "bristol-iag", TODAY)] == ["a"]


CLOSES = OPENED + timedelta(days=14)
VOTING_ENDS = OPENED + timedelta(days=21)


@pytest.mark.parametrize("status, at, expected", [
    (Status.NOMINATING, OPENED, Phase.NOMINATING),
    (Status.NOMINATING, CLOSES - timedelta(seconds=1), Phase.NOMINATING),
    (Status.NOMINATING, CLOSES, Phase.NOMINATIONS_CLOSED),  # time ends nominations; ballots are then due
    (Status.NOMINATING, VOTING_ENDS + timedelta(days=9), Phase.NOMINATIONS_CLOSED),
    (Status.VOTING, CLOSES, Phase.VOTING),
    (Status.VOTING, VOTING_ENDS - timedelta(seconds=1), Phase.VOTING),
    (Status.VOTING, VOTING_ENDS, Phase.VOTING_CLOSED),
    (Status.CLOSED, VOTING_ENDS, Phase.CLOSED),
    (Status.CLOSED, OPENED, Phase.CLOSED),
])
def test_the_phase_is_the_stored_status_and_whether_time_has_ended_it(status, at, expected):
    assert phase(election(status=status), at) is expected


@pytest.mark.parametrize("action, status, at, refused", [
    ("nominate", Status.NOMINATING, OPENED, None),
    ("nominate", Status.NOMINATING, CLOSES, "Nominations for this election have closed"),
    ("nominate", Status.VOTING, CLOSES, "Nominations for this election have closed"),
    ("start_voting", Status.NOMINATING, OPENED, "Nominations are still open"),
    ("start_voting", Status.NOMINATING, CLOSES, None),
    ("start_voting", Status.VOTING, CLOSES, "Voting has already started"),
    ("vote", Status.NOMINATING, OPENED, "Voting has not started yet"),
    ("vote", Status.NOMINATING, CLOSES, "Voting has not started yet"),
    ("vote", Status.VOTING, CLOSES, None),
    ("vote", Status.VOTING, VOTING_ENDS, "Voting in this election has closed"),
    ("vote", Status.CLOSED, CLOSES, "This election is over"),
    ("close", Status.VOTING, CLOSES, "Voting is still open"),
    ("close", Status.VOTING, VOTING_ENDS, None),
    ("close", Status.NOMINATING, CLOSES, None),  # the service allows it only when nobody stood
    ("close", Status.CLOSED, VOTING_ENDS, "This election is over"),
])
def test_each_action_is_allowed_only_in_its_phase(action, status, at, refused):
    assert refusal(election(status=status), action, at) == refused


def test_the_most_votes_wins():
    result = tally({"a": 3, "b": 5, "c": 0})
    assert result == Result((("b", 5), ("a", 3), ("c", 0)), ("b",))
    assert result.elected == "b" and not result.tie and result.total == 8


def test_a_tie_is_reported_as_a_tie_and_never_broken():
    result = tally({"b": 4, "a": 4, "c": 1})
    assert result.tie and result.winners == ("a", "b") and result.elected is None
    assert result.counts == (("a", 4), ("b", 4), ("c", 1))


@pytest.mark.parametrize("votes", [{}, {"a": 0, "b": 0}])
def test_nobody_is_elected_when_no_vote_was_cast(votes):
    result = tally(votes)
    assert result.winners == () and result.elected is None and not result.tie and result.total == 0


def test_a_count_cannot_be_negative():
    with pytest.raises(ValueError):
        tally({"a": -1})


def test_a_statement_is_trimmed_required_and_short():
    assert clean_statement("  I have   served for\n\n\n\nthree years.  ") == "I have served for\n\nthree years."
    for bad in ("", "   \n ", "x" * 1001):
        with pytest.raises(InvalidElection):
            clean_statement(bad)
