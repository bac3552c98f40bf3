"""Panel review: what each member decided, and what the panel's decisions add up to.

The outcome rule is data in the force profile; "unanimous" is the seed forces'
rule (Avon and Somerset's Stage 2): every member approves to approve, any
reject rejects, any request for an informal discussion starts one, and a
redirect needs every member to name the same group.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Mapping, Optional

from .lifecycle import Action


class Choice(str, Enum):
    APPROVE = "approve"
    REJECT = "reject"
    REDIRECT = "redirect"
    DISCUSS = "discuss"
    UPHOLD = "uphold"  # appeals only
    DISMISS = "dismiss"  # appeals only


@dataclass(frozen=True)
class Decision:
    role: str
    choice: Choice
    reason: str = ""  # required for a rejection
    target_group: Optional[str] = None  # required for a redirect
    note: str = ""  # for a discussion, what to talk about


class InvalidDecision(ValueError):
    pass


def check_decision(decision: Decision, *, group_ids: set[str], current_group: str) -> None:
    """Refuse a decision that cannot be acted on, before anything is stored."""
    if decision.choice is Choice.REJECT and not decision.reason.strip():
        raise InvalidDecision("Give the reason for rejecting the application")
    if decision.choice is Choice.REDIRECT:
        if decision.target_group not in group_ids:
            raise InvalidDecision("Choose the group to suggest instead")
        if decision.target_group == current_group:
            raise InvalidDecision("Choose a different group from the one applied to")
    if decision.choice is Choice.DISCUSS and not decision.note.strip():
        raise InvalidDecision("Say what the informal discussion should cover")


@dataclass(frozen=True)
class Outcome:
    action: Action
    target_group: Optional[str] = None
    disagreement: bool = False  # everyone decided but the rule gives no result: ask again


def panel_outcome(panel: tuple[str, ...], decisions: Mapping[str, Decision], rule: str = "unanimous") -> Optional[Outcome]:
    """The panel's result so far, or None while it still waits for someone."""
    if rule != "unanimous":
        raise ValueError(f"unknown outcome rule {rule!r}")
    made = [decisions[role] for role in panel if role in decisions]
    if any(d.choice is Choice.REJECT for d in made):
        return Outcome(Action.REJECT)
    if any(d.choice is Choice.DISCUSS for d in made):
        return Outcome(Action.REQUEST_DISCUSSION)
    if len(made) < len(panel):
        return None
    if all(d.choice is Choice.APPROVE for d in made):
        return Outcome(Action.APPROVE)
    targets = {d.target_group for d in made}
    if all(d.choice is Choice.REDIRECT for d in made) and len(targets) == 1:
        return Outcome(Action.REDIRECT, target_group=targets.pop())
    return Outcome(Action.RECONSIDER, disagreement=True)


def check_appeal_decision(decision: Decision) -> None:
    if decision.choice not in (Choice.UPHOLD, Choice.DISMISS):
        raise InvalidDecision("Choose whether to uphold or dismiss the appeal")
    if decision.choice is Choice.DISMISS and not decision.reason.strip():
        raise InvalidDecision("Give the reason for dismissing the appeal")


def appeal_outcome(panel: tuple[str, ...], decisions: Mapping[str, Decision]) -> Optional[Outcome]:
    """An appeal is upheld when every member of the appeal panel upholds it; one dismissal dismisses it.

    The original refusal stands unless the whole appeal panel overturns it.
    """
    made = [decisions[role] for role in panel if role in decisions]
    if any(d.choice is Choice.DISMISS for d in made):
        return Outcome(Action.DISMISS_APPEAL)
    if len(made) == len(panel):
        return Outcome(Action.UPHOLD_APPEAL)
    return None
