from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.slots import Invitee, choose_slot

LONDON = ZoneInfo("Europe/London")
LOCAL_IAGS = {"northampton", "north-northamptonshire", "east-northamptonshire", "daventry-south-northamptonshire"}
ROLES = {"senior_police", "opfcc"}

MAR_25 = datetime(2027, 3, 25, 14, 0, tzinfo=LONDON)  # GMT: clocks go forward on 28 March 2027
APR_01 = datetime(2027, 4, 1, 14, 0, tzinfo=LONDON)  # BST
APR_08 = datetime(2027, 4, 8, 14, 0, tzinfo=LONDON)
SLOTS = [MAR_25, APR_01, APR_08]


def strategic_iag() -> list[Invitee]:
    """Northamptonshire's Strategic IAG: each local IAG's chair and one other, a senior officer and the OPFCC."""
    nominees = [Invitee(f"{group}-{who}", group) for group in sorted(LOCAL_IAGS) for who in ("chair", "other")]
    return [*nominees, Invitee("ch-supt", "senior_police"), Invitee("opfcc-officer", "opfcc")]


def everyone_free(invitees, slots=SLOTS) -> dict[str, dict[datetime, bool]]:
    return {i.person_id: {slot: True for slot in slots} for i in invitees}


def choose(answers, invitees=None, slots=SLOTS, groups=LOCAL_IAGS, roles=frozenset({"senior_police"})):
    invitees = strategic_iag() if invitees is None else invitees
    return choose_slot(slots, invitees, answers, required_groups=set(groups), required_roles=set(roles))


def test_when_everyone_is_free_every_date_the_earliest_is_chosen_with_full_attendance():
    choice = choose(everyone_free(strategic_iag()))
    assert (choice.slot, choice.attendance, choice.quorate) == (MAR_25, 10, True)
    assert [o.slot for o in choice.options] == SLOTS


def test_ties_go_to_the_earliest_slot_whatever_order_they_are_offered_in():
    answers = everyone_free(strategic_iag())
    answers["opfcc-officer"][MAR_25] = False
    answers["northampton-other"][MAR_25] = True
    choice = choose(answers, slots=[APR_08, MAR_25, APR_01])
    assert choice.slot == APR_01 and choice.attendance == 10
    assert [(o.slot, o.attendance) for o in choice.options] == [(APR_01, 10), (APR_08, 10), (MAR_25, 9)]


def test_if_one_local_iag_has_nobody_free_on_any_date_no_slot_is_chosen_and_each_option_says_what_it_misses():
    answers = everyone_free(strategic_iag())
    answers["east-northamptonshire-chair"] = {slot: False for slot in SLOTS}
    answers["east-northamptonshire-other"] = {slot: False for slot in SLOTS}
    answers["ch-supt"][APR_01] = False
    choice = choose(answers)
    assert (choice.slot, choice.attendance, choice.quorate) == (None, 0, False)
    assert [(o.slot, o.attendance, o.missing_groups, o.missing_roles, o.quorate) for o in choice.options] == [
        (MAR_25, 8, {"east-northamptonshire"}, frozenset(), False),
        (APR_08, 8, {"east-northamptonshire"}, frozenset(), False),
        (APR_01, 7, {"east-northamptonshire"}, {"senior_police"}, False),
    ]


def test_a_bigger_attendance_loses_to_a_smaller_one_that_meets_quorum():
    answers = everyone_free(strategic_iag())
    # 25 March: nine of ten, but neither North Northamptonshire nominee. 1 April: only one from each group.
    answers["north-northamptonshire-chair"][MAR_25] = False
    for other in [f"{group}-other" for group in LOCAL_IAGS]:
        answers[other][APR_01] = False
    answers["opfcc-officer"][APR_08] = answers["ch-supt"][APR_08] = False
    choice = choose(answers, invitees=[i for i in strategic_iag() if i.person_id != "north-northamptonshire-other"])
    assert (choice.slot, choice.attendance, choice.quorate) == (APR_01, 6, True)
    assert [(o.slot, o.attendance) for o in choice.options] == [(APR_01, 6), (MAR_25, 8), (APR_08, 7)]
    assert choice.options[1].missing_groups == {"north-northamptonshire"}


def test_a_local_iag_with_no_nominees_at_all_means_no_quorum():
    invitees = [i for i in strategic_iag() if i.represents != "daventry-south-northamptonshire"]
    choice = choose(everyone_free(invitees), invitees=invitees)
    assert choice.slot is None and not choice.quorate
    assert all(o.missing_groups == {"daventry-south-northamptonshire"} for o in choice.options)
    assert [o.attendance for o in choice.options] == [8, 8, 8]


def test_the_senior_police_representative_is_required():
    answers = everyone_free(strategic_iag())
    answers["ch-supt"] = {MAR_25: False, APR_01: False, APR_08: False}
    choice = choose(answers)
    assert choice.slot is None
    assert all(o.missing_roles == {"senior_police"} and not o.missing_groups for o in choice.options)


def test_every_required_role_must_be_met_and_the_opfcc_can_be_required_too():
    answers = everyone_free(strategic_iag())
    answers["opfcc-officer"] = {APR_08: True}
    answers["northampton-other"][APR_08] = answers["east-northamptonshire-other"][APR_08] = False
    assert choose(answers, roles=ROLES).slot == APR_08  # 8 attending, but the only date the OPFCC can do
    assert choose(answers).slot == MAR_25  # 9 attending; only the senior police representative is required


def test_people_who_did_not_answer_count_as_unavailable_for_every_slot():
    answers = everyone_free(strategic_iag())
    del answers["northampton-chair"], answers["northampton-other"]
    answers["ch-supt"] = {APR_01: True}  # answered for one slot only
    choice = choose(answers)
    assert choice.slot is None
    assert [o.attendance for o in choice.options] == [8, 7, 7]
    assert choice.options[0].missing_groups == {"northampton"}
    assert choice.options[1].missing_roles == {"senior_police"}


def test_a_false_answer_is_unavailable_and_is_not_counted():
    answers = everyone_free(strategic_iag())
    answers["opfcc-officer"][MAR_25] = False
    assert choose(answers).options[0].attendance == 10
    assert next(o for o in choose(answers).options if o.slot == MAR_25).attendance == 9


def test_slots_either_side_of_the_clock_change_compare_as_instants_and_keep_their_zone():
    # 14:00 GMT on 25 March is 14:00 UTC; 14:00 BST on 1 April is 13:00 UTC. Answers may name them in UTC.
    apr_01_utc = datetime(2027, 4, 1, 13, 0, tzinfo=timezone.utc)
    invitees = strategic_iag()
    answers = {i.person_id: {datetime(2027, 3, 25, 14, 0, tzinfo=timezone.utc): True, apr_01_utc: True}
               for i in invitees}
    choice = choose(answers, invitees=invitees, slots=[APR_01, MAR_25])
    assert choice.slot == MAR_25 and choice.slot.tzinfo is LONDON
    assert choice.slot.utcoffset().total_seconds() == 0
    second = choice.options[1]
    assert second.slot == apr_01_utc and second.attendance == 10
    assert second.slot.tzinfo is LONDON and second.slot.isoformat() == "2027-04-01T14:00:00+01:00"


def test_slots_in_different_zones_are_ordered_by_instant_not_by_wall_clock():
    # 13:30 UTC is 14:30 BST, after 14:00 BST on the same day: the London slot is the earlier.
    later_in_utc = datetime(2027, 4, 1, 13, 30, tzinfo=timezone.utc)
    invitees = strategic_iag()
    choice = choose(everyone_free(invitees, [later_in_utc, APR_01]), invitees=invitees, slots=[later_in_utc, APR_01])
    assert choice.slot is APR_01


def test_an_empty_poll_chooses_nothing():
    choice = choose({}, slots=[])
    assert (choice.slot, choice.quorate, choice.options) == (None, False, [])


def test_slots_must_be_aware():
    with pytest.raises(ValueError, match="aware"):
        choose({}, slots=[datetime(2027, 3, 25, 14, 0)])
