"""The life of an application as a transition table.

`TRANSITIONS[(stage, action)]` is the only place that says which moves are
legal; services and flows ask it and never compare stages themselves.
"""
from __future__ import annotations

from enum import Enum


class Stage(str, Enum):
    SUBMITTED = "submitted"
    INELIGIBLE = "ineligible"
    AWAITING_REVIEW = "awaiting_review"
    DISCUSSION_REQUESTED = "discussion_requested"
    REDIRECTED = "redirected"
    APPROVED = "approved"
    REJECTED = "rejected"
    APPEAL_LODGED = "appeal_lodged"
    APPEAL_UPHELD = "appeal_upheld"
    APPEAL_DISMISSED = "appeal_dismissed"
    RESIDENCY = "residency"  # approved; waiting for evidence of residency before the offer (where the profile asks)
    SCREENING = "screening"
    OFFERED = "offered"
    ONBOARDING = "onboarding"
    MEMBER = "member"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class Action(str, Enum):
    PASS_ELIGIBILITY = "pass_eligibility"  # nosec B105 # an action name, not a password
    FAIL_ELIGIBILITY = "fail_eligibility"
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_DISCUSSION = "request_discussion"
    HOLD_DISCUSSION = "hold_discussion"
    REDIRECT = "redirect"
    RECONSIDER = "reconsider"
    JOIN_NEW_PANEL = "join_new_panel"
    REQUEST_RESIDENCY = "request_residency"
    RECORD_RESIDENCY = "record_residency"  # the applicant uploaded evidence, or a coordinator saw it
    START_SCREENING = "start_screening"
    CLEAR_SCREENING = "clear_screening"
    REFER_SCREENING = "refer_screening"
    SCREENING_NOT_COMPLETED = "screening_not_completed"
    MAKE_OFFER = "make_offer"
    LODGE_APPEAL = "lodge_appeal"
    UPHOLD_APPEAL = "uphold_appeal"
    DISMISS_APPEAL = "dismiss_appeal"
    ACCEPT_OFFER = "accept_offer"
    DECLINE_OFFER = "decline_offer"
    COMPLETE_ONBOARDING = "complete_onboarding"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"


S, A = Stage, Action

_PANEL_DECISIONS = {
    A.APPROVE: S.APPROVED,
    A.REJECT: S.REJECTED,
    A.REDIRECT: S.REDIRECTED,
}

TRANSITIONS: dict[tuple[Stage, Action], Stage] = {
    (S.SUBMITTED, A.PASS_ELIGIBILITY): S.AWAITING_REVIEW,
    (S.SUBMITTED, A.FAIL_ELIGIBILITY): S.INELIGIBLE,
    **{(S.AWAITING_REVIEW, a): s for a, s in _PANEL_DECISIONS.items()},
    (S.AWAITING_REVIEW, A.REQUEST_DISCUSSION): S.DISCUSSION_REQUESTED,
    **{(S.DISCUSSION_REQUESTED, a): s for a, s in _PANEL_DECISIONS.items()},
    (S.DISCUSSION_REQUESTED, A.HOLD_DISCUSSION): S.AWAITING_REVIEW,
    # The panel decided but disagreed: each member is asked again.
    (S.AWAITING_REVIEW, A.RECONSIDER): S.AWAITING_REVIEW,
    (S.DISCUSSION_REQUESTED, A.RECONSIDER): S.DISCUSSION_REQUESTED,
    # The other group's panel takes the application with its details.
    (S.REDIRECTED, A.JOIN_NEW_PANEL): S.AWAITING_REVIEW,
    # Residency is validated before anything else that leads to the offer; the evidence stays on the application.
    (S.APPROVED, A.REQUEST_RESIDENCY): S.RESIDENCY,
    (S.APPEAL_UPHELD, A.REQUEST_RESIDENCY): S.RESIDENCY,
    (S.RESIDENCY, A.RECORD_RESIDENCY): S.RESIDENCY,
    (S.RESIDENCY, A.START_SCREENING): S.SCREENING,
    (S.RESIDENCY, A.MAKE_OFFER): S.OFFERED,
    (S.APPROVED, A.START_SCREENING): S.SCREENING,
    (S.APPROVED, A.MAKE_OFFER): S.OFFERED,
    (S.SCREENING, A.CLEAR_SCREENING): S.OFFERED,
    # A screening result is never an automatic refusal: the panel decides again.
    (S.SCREENING, A.REFER_SCREENING): S.AWAITING_REVIEW,
    (S.SCREENING, A.SCREENING_NOT_COMPLETED): S.AWAITING_REVIEW,
    (S.REJECTED, A.LODGE_APPEAL): S.APPEAL_LODGED,
    (S.REJECTED, A.EXPIRE): S.EXPIRED,
    (S.APPEAL_LODGED, A.UPHOLD_APPEAL): S.APPEAL_UPHELD,
    (S.APPEAL_LODGED, A.DISMISS_APPEAL): S.APPEAL_DISMISSED,
    (S.APPEAL_UPHELD, A.START_SCREENING): S.SCREENING,
    (S.APPEAL_UPHELD, A.MAKE_OFFER): S.OFFERED,
    (S.OFFERED, A.ACCEPT_OFFER): S.ONBOARDING,
    (S.OFFERED, A.DECLINE_OFFER): S.WITHDRAWN,
    (S.OFFERED, A.EXPIRE): S.EXPIRED,
    (S.ONBOARDING, A.COMPLETE_ONBOARDING): S.MEMBER,
    (S.ONBOARDING, A.EXPIRE): S.EXPIRED,
}

# Ended applications: nothing more happens to them and the applicant may apply again.
ENDED = frozenset({S.INELIGIBLE, S.APPEAL_DISMISSED, S.WITHDRAWN, S.EXPIRED})

# An applicant can withdraw at any time before the application has ended or made them a member.
for _stage in Stage:
    if _stage not in ENDED and _stage is not S.MEMBER:
        TRANSITIONS.setdefault((_stage, A.WITHDRAW), S.WITHDRAWN)

# Reviews that wait on people can lapse.
for _stage in (S.AWAITING_REVIEW, S.DISCUSSION_REQUESTED, S.APPEAL_LODGED, S.SCREENING):
    TRANSITIONS.setdefault((_stage, A.EXPIRE), S.EXPIRED)


class IllegalTransition(Exception):
    def __init__(self, stage: Stage, action: Action):
        super().__init__(f"cannot {action.value} an application that is {stage.value}")
        self.stage = stage
        self.action = action


def next_stage(stage: Stage, action: Action) -> Stage:
    try:
        return TRANSITIONS[(stage, action)]
    except KeyError:
        raise IllegalTransition(stage, action) from None


def allowed_actions(stage: Stage) -> list[Action]:
    return [action for (from_stage, action) in TRANSITIONS if from_stage is stage]


REVIEWING = frozenset({S.AWAITING_REVIEW, S.DISCUSSION_REQUESTED})


def is_live(stage: Stage) -> bool:
    """A live application blocks a second one from the same person to the same group."""
    return stage not in ENDED
