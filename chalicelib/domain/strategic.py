"""The twice-yearly Strategic IAG: who is invited, which dates are offered, where a cycle stands.

Each local IAG sends nominees (Northamptonshire: two, its chair and one other); the profile names the senior
representatives (the Chief Superintendent, who arranges the meeting, and the OPFCC). A cycle asks for
nominations, polls everyone invited over candidate dates, and chooses with `slots.choose_slot`: at least one
nominee from every local IAG and the arranging officer, else it reports the options instead of picking.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any, Optional

from .forces import ForceProfile, Group, GroupKind
from .meetings import Meeting
from .slots import Invitee


class Status(str, Enum):
    NOMINATING = "nominating"
    POLLING = "polling"
    SCHEDULED = "scheduled"
    NO_QUORUM = "no_quorum"


OPEN = (Status.NOMINATING, Status.POLLING)


@dataclass(frozen=True)
class Cycle:
    id: str
    force_id: str
    group_id: str  # the strategic group
    status: Status
    meeting: Meeting  # the meeting as the cadence places it; its time is the first candidate
    slots: tuple[datetime, ...]
    nominations_close: datetime
    poll_close: datetime
    chosen: Optional[datetime] = None


@dataclass(frozen=True)
class Nominee:
    member_id: str
    name: str
    email: str
    group_id: str


def strategic_group(force: ForceProfile) -> Optional[Group]:
    """The force's strategic group, if its profile says how it is composed from local groups."""
    return next((g for g in force.groups if g.kind is GroupKind.STRATEGIC
                 and g.composition.get("nominees_per_local_group")), None)


def chair_not_nominated(composition: dict[str, Any], chosen: list[str], chair_id: Optional[str]) -> Optional[str]:
    """Why a local group's nominees break its profile (Northamptonshire: "the operational IAG chair and one
    other"), or None. `chair_id` is the group's chair among its serving members, None when it has none."""
    if not composition.get("local_chair_is_nominee"):
        return None
    if chair_id is None:
        return "Your IAG has no chair recorded, and its chair must be one of its nominees: ask the IAG coordinator " \
               "to record the chair first"
    if chair_id not in chosen:
        return "Your IAG's chair must be one of its nominees: choose the chair and one other"
    return None


def local_groups(force: ForceProfile) -> list[Group]:
    return [g for g in force.groups if g.kind is GroupKind.LOCAL]


def candidate_slots(meeting: Meeting, count: int, avoid: frozenset[date] = frozenset()) -> tuple[datetime, ...]:
    """The cadence's date and the same weekday and wall-clock time in the following weeks, off avoided days."""
    slots: list[datetime] = []
    week = 0
    while len(slots) < count:
        day = meeting.starts_at.date() + timedelta(weeks=week)
        week += 1
        if day not in avoid:
            slots.append(meeting.starts_at.replace(year=day.year, month=day.month, day=day.day))
    return tuple(slots)


def invitees(nominees: list[Nominee], senior_roles: list[str]) -> list[Invitee]:
    return [Invitee(n.member_id, n.group_id) for n in nominees] + [Invitee(role, role) for role in senior_roles]


def cycle_id(group: Group, meeting: Meeting) -> str:
    return f"{group.id}-{meeting.starts_at:%Y-%m}"
