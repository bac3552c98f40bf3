import pytest

from chalicelib.domain.lifecycle import (
    ENDED, TRANSITIONS, Action, IllegalTransition, Stage, allowed_actions, is_live, next_stage,
)

S, A = Stage, Action


@pytest.mark.parametrize("stage, action, expected", [
    (S.SUBMITTED, A.PASS_ELIGIBILITY, S.AWAITING_REVIEW),
    (S.SUBMITTED, A.FAIL_ELIGIBILITY, S.INELIGIBLE),
    (S.AWAITING_REVIEW, A.APPROVE, S.APPROVED),
    (S.AWAITING_REVIEW, A.REJECT, S.REJECTED),
    (S.AWAITING_REVIEW, A.REDIRECT, S.REDIRECTED),
    (S.AWAITING_REVIEW, A.REQUEST_DISCUSSION, S.DISCUSSION_REQUESTED),
    (S.DISCUSSION_REQUESTED, A.HOLD_DISCUSSION, S.AWAITING_REVIEW),
    (S.DISCUSSION_REQUESTED, A.APPROVE, S.APPROVED),
    (S.REDIRECTED, A.JOIN_NEW_PANEL, S.AWAITING_REVIEW),
    (S.APPROVED, A.START_SCREENING, S.SCREENING),
    (S.APPROVED, A.MAKE_OFFER, S.OFFERED),
    (S.SCREENING, A.CLEAR_SCREENING, S.OFFERED),
    (S.SCREENING, A.REFER_SCREENING, S.AWAITING_REVIEW),
    (S.REJECTED, A.LODGE_APPEAL, S.APPEAL_LODGED),
    (S.APPEAL_LODGED, A.UPHOLD_APPEAL, S.APPEAL_UPHELD),
    (S.APPEAL_LODGED, A.DISMISS_APPEAL, S.APPEAL_DISMISSED),
    (S.APPEAL_UPHELD, A.START_SCREENING, S.SCREENING),
    (S.APPEAL_UPHELD, A.MAKE_OFFER, S.OFFERED),
    (S.OFFERED, A.ACCEPT_OFFER, S.ONBOARDING),
    (S.OFFERED, A.EXPIRE, S.EXPIRED),
    (S.ONBOARDING, A.COMPLETE_ONBOARDING, S.MEMBER),
    (S.ONBOARDING, A.WITHDRAW, S.WITHDRAWN),
])
def test_each_step_of_an_applications_life_leads_to_the_next_stage(stage, action, expected):
    assert next_stage(stage, action) is expected


@pytest.mark.parametrize("stage, action", [
    (S.INELIGIBLE, A.APPROVE),
    (S.SUBMITTED, A.APPROVE),
    (S.APPROVED, A.REJECT),
    (S.REJECTED, A.APPROVE),
    (S.APPEAL_DISMISSED, A.LODGE_APPEAL),
    (S.MEMBER, A.WITHDRAW),
    (S.OFFERED, A.COMPLETE_ONBOARDING),
    (S.WITHDRAWN, A.WITHDRAW),
])
def test_a_move_the_table_does_not_list_is_refused(stage, action):
    with pytest.raises(IllegalTransition, match=f"cannot {action.value}"):
        next_stage(stage, action)


def test_every_stage_is_reachable_from_submission():
    reached, frontier = {S.SUBMITTED}, [S.SUBMITTED]
    while frontier:
        stage = frontier.pop()
        for action in allowed_actions(stage):
            target = TRANSITIONS[(stage, action)]
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(Stage)


def test_ended_applications_allow_no_further_move():
    assert all(allowed_actions(stage) == [] for stage in ENDED)


def test_an_applicant_can_withdraw_at_any_stage_until_the_application_ends_or_makes_them_a_member():
    for stage in Stage:
        can_withdraw = (stage, A.WITHDRAW) in TRANSITIONS
        assert can_withdraw == (stage not in ENDED and stage is not S.MEMBER), stage


def test_only_ended_stages_free_the_applicant_to_apply_again():
    assert not is_live(S.WITHDRAWN) and not is_live(S.INELIGIBLE)
    assert is_live(S.AWAITING_REVIEW) and is_live(S.REJECTED) and is_live(S.MEMBER)
