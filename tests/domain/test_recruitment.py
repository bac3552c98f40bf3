from datetime import date

from chalicelib.domain.lifecycle import Stage
from chalicelib.domain.recruitment import IMPLIED, Journey, StageCount, funnel, review_queues

S = Stage
TODAY = date(2026, 11, 22)


def journey(stage, *seen, group="g", submitted=date(2026, 11, 1)):
    return Journey(group, stage, frozenset(seen), submitted)


def test_every_stage_says_what_it_implies():
    assert set(IMPLIED) == set(Stage)


def test_a_member_has_passed_every_step_and_a_screened_one_counts_as_screened():
    result = funnel("f", ["g"], [journey(S.MEMBER, S.SCREENING)], [], frozenset({"g"}), TODAY)
    assert result.group("g").steps == {"applied": 1, "eligible": 1, "reviewed": 1, "approved": 1, "screened": 1,
                                       "offered": 1, "members": 1}


def test_screened_is_no_step_where_no_group_screens():
    result = funnel("f", ["g"], [journey(S.MEMBER)], [], frozenset(), TODAY)
    assert result.group("g").steps["screened"] is None and result.total.steps["screened"] is None


def test_a_rejection_whose_appeal_window_closed_counts_as_rejected_not_expired():
    result = funnel("f", ["g"], [journey(S.EXPIRED, S.AWAITING_REVIEW, S.REJECTED),
                                 journey(S.EXPIRED, S.APPROVED, S.OFFERED)], [], frozenset(), TODAY)
    exits = result.group("g").exits
    assert exits["rejected"] == 1 and exits["expired"] == 1
    assert result.group("g").steps["offered"] == 1


def test_an_upheld_appeal_is_no_longer_a_rejection():
    result = funnel("f", ["g"], [journey(S.OFFERED, S.REJECTED, S.APPEAL_LODGED, S.APPEAL_UPHELD)], [],
                    frozenset(), TODAY)
    g = result.group("g")
    assert g.exits["rejected"] == 0 and g.exits["appeals_upheld"] == 1 and g.steps["approved"] == 1


def test_deleted_applications_still_count_by_what_their_stage_implies():
    counts = [StageCount("g", S.MEMBER, 2, deleted=True), StageCount("g", S.INELIGIBLE, 3, deleted=True),
              StageCount("g", S.APPEAL_DISMISSED, 1, deleted=True)]
    g = funnel("f", ["g"], [journey(S.AWAITING_REVIEW)], counts, frozenset({"g"}), TODAY).group("g")
    assert g.steps["applied"] == 7 and g.steps["eligible"] == 4 and g.steps["members"] == 2
    assert g.steps["screened"] == 2  # a screening group screens before every offer
    assert g.exits["ineligible"] == 3 and g.exits["appeals_dismissed"] == 1 and g.exits["rejected"] == 1
    assert g.deleted == 6


def test_groups_left_out_of_the_profile_still_count_force_wide():
    result = funnel("f", ["g"], [journey(S.MEMBER, group="old")], [], frozenset(), TODAY)
    assert result.group("g").steps["applied"] == 0 and result.total.steps["applied"] == 1


def test_the_queue_counts_review_and_discussion_with_the_oldest_and_median_age_in_days():
    journeys = [journey(S.AWAITING_REVIEW, submitted=date(2026, 11, 20)),
                journey(S.AWAITING_REVIEW, submitted=date(2026, 10, 23)),
                journey(S.DISCUSSION_REQUESTED, submitted=date(2026, 11, 12)),
                journey(S.APPROVED, submitted=date(2026, 1, 1))]
    queue = review_queues("f", ["g", "empty"], journeys, TODAY).group("g")
    assert (queue.awaiting_review, queue.in_discussion, queue.oldest_days, queue.median_days) == (2, 1, 30, 10.0)
    empty = review_queues("f", ["g", "empty"], journeys, TODAY).group("empty")
    assert empty.waiting == 0 and empty.oldest_days is None and empty.median_days is None
