import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from chalicelib.domain.eligibility import Candidate, age_on, assess
from chalicelib.domain.forces import ForceProfile

PROFILES = Path(__file__).resolve().parents[2] / "chalicelib" / "forces"
TODAY = date(2026, 11, 22)


def profile(force_id: str) -> ForceProfile:
    return ForceProfile.from_dict(json.loads((PROFILES / f"{force_id}.json").read_text()))


def candidate(**changes) -> Candidate:
    base = Candidate(
        date_of_birth=date(1985, 3, 27), postcode="DE5 3RS", connection_to_area="lives", work_postcode=None,
        declarations={"police_employee": False, "police_connection": False, "judiciary_connection": False,
                      "civic_role": False},
        convictions_or_police_contact="", requirements_confirmed=frozenset())
    return replace(base, **changes)


def codes(force_id, group_id, who):
    force = profile(force_id)
    return [r.code for r in assess(force, force.group(group_id), who, TODAY).reasons]


@pytest.mark.parametrize("born, age", [
    (date(2008, 11, 22), 18), (date(2008, 11, 23), 17), (date(2000, 2, 29), 26), (date(1950, 1, 1), 76),
])
def test_age_counts_whole_years_including_the_birthday_itself(born, age):
    assert age_on(born, TODAY) == age


def test_someone_turning_18_today_is_old_enough_and_someone_turning_18_tomorrow_is_not():
    assert codes("derbyshire", "derbyshire-iag", candidate(date_of_birth=date(2008, 11, 22))) == []
    assert codes("derbyshire", "derbyshire-iag", candidate(date_of_birth=date(2008, 11, 23))) == ["under_minimum_age"]


def test_living_outside_the_area_but_working_inside_it_qualifies():
    who = candidate(postcode="M1 1AE", connection_to_area="works", work_postcode="DE1 2AA")
    assert codes("derbyshire", "derbyshire-iag", who) == []


def test_working_outside_the_area_while_saying_you_live_there_with_an_outside_postcode_does_not():
    who = candidate(postcode="M1 1AE", connection_to_area="both", work_postcode="B1 1AA")
    assert codes("derbyshire", "derbyshire-iag", who) == ["outside_force_area"]


def test_every_failing_rule_is_reported_not_just_the_first():
    who = candidate(date_of_birth=date(2010, 1, 1), postcode="M1 1AE",
                    declarations={"police_employee": True, "police_connection": True,
                                  "judiciary_connection": True, "civic_role": True})
    assert codes("thames-valley", "reading", who) == [
        "under_minimum_age", "outside_force_area",
        "not_independent:police_employee", "not_independent:police_connection",
        "not_independent:judiciary_connection", "not_independent:civic_role",
    ]


def test_a_specialist_group_lists_each_requirement_not_confirmed():
    who = candidate(postcode="BS1 4DJ")
    assert codes("avon-and-somerset", "counter-terrorism", who) == [
        "requirement_not_met:ct-screening-consent", "requirement_not_met:ct-community-insight"]
    confirmed = candidate(postcode="BS1 4DJ", requirements_confirmed=frozenset(
        {"ct-screening-consent", "ct-community-insight"}))
    assert codes("avon-and-somerset", "counter-terrorism", confirmed) == []


def test_a_group_with_an_upper_age_turns_away_older_applicants_and_suggests_another():
    force = profile("avon-and-somerset")
    assessment = assess(force, force.group("youth"), candidate(postcode="BS1 4DJ"), TODAY)
    assert [r.code for r in assessment.reasons] == ["over_group_maximum_age"]
    assert "local IAG instead" in assessment.reasons[0].message


def test_a_declared_conviction_is_noted_for_the_panel_where_it_is_no_bar():
    force = profile("northamptonshire")
    assessment = assess(force, force.group("northampton"),
                        candidate(postcode="NN1 1DT", convictions_or_police_contact="Caution, 2009"), TODAY)
    assert assessment.eligible
    assert assessment.screening == "basic"
    assert any("conviction" in note for note in assessment.panel_notes)


def test_a_force_that_bars_convictions_refuses_on_a_declared_one():
    data = json.loads((PROFILES / "derbyshire.json").read_text())
    data["eligibility"]["convictions_bar"] = True
    force = ForceProfile.from_dict(data)
    assessment = assess(force, force.group("derbyshire-iag"), candidate(convictions_or_police_contact="Fine, 2019"), TODAY)
    assert [r.code for r in assessment.reasons] == ["conviction_declared"]
