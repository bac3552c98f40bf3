"""Critical-incident call-outs: who may be called, and what their answers add up to.

An operator raises an incident for a force (optionally some of its groups). Every active member of a
group that is called for incidents, whose screening (where the group requires it) is valid and who has
signed the confidentiality agreement, is asked once; each answers once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Iterable, Optional

from .forces import ForceProfile
from .membership import Member
from .screening import LEVELS, NONE


class Answer(str, Enum):
    AVAILABLE = "available"
    LATER = "available_later"
    NOT_AVAILABLE = "not_available"


ANSWER_WORDS = {Answer.AVAILABLE: "Available now", Answer.LATER: "Available later",
                Answer.NOT_AVAILABLE: "Not available"}


@dataclass(frozen=True)
class Incident:
    id: str
    force_id: str
    title: str
    summary: str  # what members are told; operators keep personal data out of it
    groups: tuple[str, ...]  # the groups called
    raised_at: datetime
    respond_by: datetime
    police_lead_name: str
    police_lead_email: str
    raised_by: str


@dataclass(frozen=True)
class Response:
    member_id: str
    group_id: str
    name: str
    answer: Optional[Answer] = None
    note: str = ""
    answered_at: Optional[datetime] = None


def groups_called(force: ForceProfile, wanted: Optional[Iterable[str]]) -> tuple[str, ...]:
    """The groups an incident calls: those asked for (or all), that the profile says are called for incidents."""
    callable_ids = [g.id for g in force.groups if g.called_for_incidents]
    if wanted is None:
        return tuple(callable_ids)
    unknown = [g for g in wanted if force.group(g) is None]
    if unknown:
        raise ValueError(f"no such group in {force.name}: {', '.join(unknown)}")
    return tuple(g for g in callable_ids if g in set(wanted))


def can_be_called(force: ForceProfile, member: Member, today: date) -> bool:
    group = force.group(member.group_id)
    if (group is None or not member.serving(today) or not group.called_for_incidents or not member.agreement_version
            or member.callouts_paused):
        return False
    if group.screening == NONE:
        return True
    screening = member.screening or {}
    return (screening.get("outcome") in ("clear", "refer")
            and LEVELS.index(screening.get("level", NONE)) >= LEVELS.index(group.screening)
            and date.fromisoformat(screening.get("expires_on", "0001-01-01")) > today)


def tally(responses: Iterable[Response]) -> dict[str, int]:
    counts = {answer.value: 0 for answer in Answer} | {"no_answer": 0}
    for response in responses:
        counts[response.answer.value if response.answer else "no_answer"] += 1
    return counts
