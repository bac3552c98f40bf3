import json
from datetime import date
from pathlib import Path

import pytest

from chalicelib.domain.forces import ForceProfile, UnknownGroup

PROFILES = Path(__file__).resolve().parents[2] / "chalicelib" / "forces"


def profile_with(force_id: str, **changes) -> ForceProfile:
    data = json.loads((PROFILES / f"{force_id}.json").read_text())
    data.update(changes)
    return ForceProfile.from_dict(data)


def campaign(opens, closes, groups="all"):
    return {"id": "spring", "name": "Spring recruitment", "opens": opens, "closes": closes, "groups": groups}


def test_a_group_without_campaigns_takes_applications_any_day():
    force = profile_with("derbyshire")
    assert force.openness(force.group("derbyshire-iag"), date(2030, 1, 1)).open


def test_a_campaign_opens_on_its_first_day_and_closes_after_its_last():
    force = profile_with("derbyshire", campaigns=[campaign("2027-04-01", "2027-04-30")])
    group = force.group("derbyshire-iag")
    before, first, last, after = (force.openness(group, date(2027, m, d)) for m, d in ((3, 31), (4, 1), (4, 30), (5, 1)))
    assert (before.open, first.open, last.open, after.open) == (False, True, True, False)
    assert before.reason == "Applications to the Derbyshire Independent Advisory Group open on 1 April 2027."
    assert "has closed" in after.reason


def test_a_campaign_for_some_groups_leaves_the_others_to_their_own_rules():
    force = profile_with("greater-manchester", campaigns=[campaign("2027-04-01", None, ["bolton"])])
    assert not force.openness(force.group("bolton"), date(2027, 1, 1)).open
    assert force.openness(force.group("bury"), date(2027, 1, 1)).open


def test_a_closed_group_gives_its_own_reason():
    force = profile_with("avon-and-somerset")
    openness = force.openness(force.group("strategic"), date(2026, 11, 22))
    assert not openness.open and "not open to new applicants" in openness.reason


def test_a_group_inherits_the_force_screening_unless_it_sets_its_own():
    northants, avon = profile_with("northamptonshire"), profile_with("avon-and-somerset")
    assert {g.screening for g in northants.groups} == {"basic"}
    assert {g.id: g.screening for g in avon.groups if g.screening != "none"} == {"counter-terrorism": "limited"}


def test_meeting_cadence_reads_as_plain_english():
    force = profile_with("derbyshire")
    meeting, scrutiny = force.group("derbyshire-iag").meetings
    assert meeting.describe().startswith("Every 2 months, on a Tuesday evening, at Force Headquarters")
    assert meeting.describe().endswith("with an option to join online.")
    assert scrutiny.describe().startswith("Every month, on a Thursday during office hours")


def test_a_group_data_is_held_for_but_missing_from_the_profile_fails_loudly_by_name():
    force = profile_with("derbyshire")
    assert force.require_group("derbyshire-iag").id == "derbyshire-iag"
    with pytest.raises(UnknownGroup, match="derbyshire has no group 'gone-iag'"):
        force.require_group("gone-iag")
