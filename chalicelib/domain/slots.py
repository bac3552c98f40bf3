"""Choosing a meeting date from an availability poll.

Made for the Strategic IAG (Northamptonshire's: two nominees from each local IAG, the chair and one other,
with a senior police and an OPFCC representative), which meets only twice a year, so a date at which a
local IAG has nobody, or the police no senior representative, is no meeting at all. The rule: among the
slots that meet every requirement, the one most people can attend; a tie goes to the earliest slot. When
no slot meets them, no slot is chosen and the arranging officer is shown every option with what it misses.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional


@dataclass(frozen=True)
class Invitee:
    person_id: str
    represents: str  # a local group id for a nominee, or a role such as "senior_police" or "opfcc"


@dataclass(frozen=True)
class SlotOption:
    slot: datetime
    attendance: int  # how many of the invitees said they are available
    missing_groups: frozenset[str]  # required groups with no nominee available
    missing_roles: frozenset[str]  # required roles with nobody available

    @property
    def quorate(self) -> bool:
        return not self.missing_groups and not self.missing_roles


@dataclass(frozen=True)
class SlotChoice:
    slot: Optional[datetime]  # None when no slot is quorate: never a silent pick
    attendance: int  # at the chosen slot; 0 when there is none
    quorate: bool
    options: list[SlotOption]  # every slot, best first: quorate ones, then most attending, then earliest


def choose_slot(
    slots: Iterable[datetime],
    invitees: Iterable[Invitee],
    answers: Mapping[str, Mapping[datetime, bool]],
    *,
    required_groups: set[str],
    required_roles: set[str],
) -> SlotChoice:
    """The best of `slots` (aware datetimes) for `invitees`, given their `answers` (person_id -> slot -> free).

    Someone who did not answer, or did not answer for a slot, counts as unavailable for it. A required group
    or role with no invitee at all can never be met. Slots are compared as instants, whatever their zone,
    and are returned as given.
    """
    invitees = list(invitees)
    slots = list(dict.fromkeys(slots))  # a slot offered twice is one option
    if any(slot.tzinfo is None or slot.utcoffset() is None for slot in slots):
        raise ValueError("Poll slots must be aware datetimes")
    options = sorted(
        (_option(slot, invitees, answers, required_groups, required_roles) for slot in slots),
        key=lambda o: (not o.quorate, -o.attendance, o.slot.astimezone(timezone.utc)),
    )
    if options and options[0].quorate:
        return SlotChoice(slot=options[0].slot, attendance=options[0].attendance, quorate=True, options=options)
    return SlotChoice(slot=None, attendance=0, quorate=False, options=options)


def _option(
    slot: datetime,
    invitees: list[Invitee],
    answers: Mapping[str, Mapping[datetime, bool]],
    required_groups: set[str],
    required_roles: set[str],
) -> SlotOption:
    available = [i for i in invitees if answers.get(i.person_id, {}).get(slot, False)]
    represented = {i.represents for i in available}
    return SlotOption(
        slot=slot,
        attendance=len({i.person_id for i in available}),
        missing_groups=frozenset(required_groups - represented),
        missing_roles=frozenset(required_roles - represented),
    )
