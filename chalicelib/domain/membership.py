"""Members of a group, created only when onboarding completes, the agreement each one signed, and what happens
to a membership afterwards: stepping down, suspension or removal, the end of a term (renewed or not), and a
screening check that runs out. Each change is a row of LIFECYCLE; a change no row allows is refused."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any, Optional

from .application import Application
from .forces import ForceProfile
from .screening import ScreeningResult, add_months


class Role(str, Enum):
    MEMBER = "member"
    CHAIR = "chair"
    VICE_CHAIR = "vice_chair"
    STRATEGIC_NOMINEE = "strategic_nominee"


class Status(str, Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # by a force administrator, with a reason; may be reinstated
    STEPPED_DOWN = "stepped_down"  # the member's own choice
    REMOVED = "removed"  # by a force administrator, with a reason
    TERM_ENDED = "term_ended"  # the term ran out without renewal


class Change(str, Enum):
    STEP_DOWN = "step_down"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    REMOVE = "remove"
    END_TERM = "end_term"


# (standing now, change) -> standing after. Anything else is refused.
LIFECYCLE: dict[tuple[Status, Change], Status] = {
    (Status.ACTIVE, Change.STEP_DOWN): Status.STEPPED_DOWN,
    (Status.SUSPENDED, Change.STEP_DOWN): Status.STEPPED_DOWN,
    (Status.ACTIVE, Change.SUSPEND): Status.SUSPENDED,
    (Status.SUSPENDED, Change.REINSTATE): Status.ACTIVE,
    (Status.ACTIVE, Change.REMOVE): Status.REMOVED,
    (Status.SUSPENDED, Change.REMOVE): Status.REMOVED,
    (Status.ACTIVE, Change.END_TERM): Status.TERM_ENDED,
    (Status.SUSPENDED, Change.END_TERM): Status.TERM_ENDED,
}
REASON_NEEDED = frozenset({Change.SUSPEND, Change.REMOVE})
MAX_REASON = 500
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()-]{7,20}$")
CONTACT_CHANNELS = ("email", "phone")


class MemberChangeRefused(ValueError):
    """The change cannot be made to this membership now; nothing was changed."""


@dataclass(frozen=True)
class SignedAgreement:
    """Who signed which version of which document, when, and from where."""
    reference: str
    document_id: str
    document_version: str
    document_fingerprint: str  # the stored file shown, e.g. its ETag and S3 version
    signed_name: str  # the name the person typed
    signed_at: datetime
    source_ip: str
    user_agent: str = ""


@dataclass(frozen=True)
class Member:
    member_id: str  # the reference of the application that made them a member
    force_id: str
    group_id: str
    role: Role
    name: str
    email: str
    phone: str
    joined_on: date
    term_ends_on: date
    contact_preferences: dict[str, Any] = field(default_factory=dict)  # e.g. {"email": True, "phone": False}
    screening: Optional[dict[str, Any]] = None  # level, outcome, completed_on, expires_on: never more
    agreement_version: str = ""
    active: bool = True
    # The lifecycle (all optional: a member stored before them reads as active, or removed if not active).
    status: Optional[Status] = None
    status_reason: str = ""
    status_on: Optional[date] = None
    renewal: Optional[dict[str, Any]] = None  # asked_on, then decision ("agreed" | "declined"), decided_on, decided_by
    callouts_paused: str = ""  # why the member is not called out (e.g. their screening has expired)
    optional_series: tuple[str, ...] = ()  # optional meeting series (e.g. scrutiny panels) the member opted into
    changes: int = 0  # raised by every change after joining: a change made from a stale read is refused

    @property
    def standing(self) -> Status:
        return self.status or (Status.ACTIVE if self.active else Status.REMOVED)

    def serving(self, today: date) -> bool:
        """Active and within their term: asked to meetings, call-outs and votes."""
        return self.active and today < self.term_ends_on


@dataclass(frozen=True)
class MemberEvent:
    """One change to a membership, for the audit trail: what, when, by whom (an operator, "member", "system")."""
    member_id: str
    group_id: str
    what: str
    at: datetime
    by: str
    reason: str = ""


def changed(member: Member, change: Change, reason: str, today: date) -> Member:
    """The membership after `change`, or MemberChangeRefused (with why) when LIFECYCLE has no such row."""
    after = LIFECYCLE.get((member.standing, change))
    if after is None:
        raise MemberChangeRefused(f"a membership that is {member.standing.value.replace('_', ' ')} cannot be "
                                  f"changed by '{change.value.replace('_', ' ')}'")
    reason = (reason or "").strip()
    if change in REASON_NEEDED and not reason:
        raise MemberChangeRefused("give the reason: the member is told it")
    if len(reason) > MAX_REASON:
        raise MemberChangeRefused(f"keep the reason to {MAX_REASON} characters")
    return replace(member, status=after, active=after is Status.ACTIVE, status_reason=reason, status_on=today,
                   changes=member.changes + 1)


def term_step(member: Member, today: date, remind_days: int) -> Optional[str]:
    """What a term needs today: "end" (it ran out, not renewed), "remind" (it ends within `remind_days`), or None.
    A renewal the coordinator agreed has already moved term_ends_on on, so it never ends silently."""
    if member.standing not in (Status.ACTIVE, Status.SUSPENDED):
        return None
    if today >= member.term_ends_on:
        return "end"
    if today >= member.term_ends_on - timedelta(days=remind_days):
        return "remind"
    return None


def renewal_asked(member: Member, today: date) -> Member:
    if member.standing is not Status.ACTIVE or today >= member.term_ends_on:
        raise MemberChangeRefused("only a serving member can ask to continue, before their term ends")
    if member.renewal and not member.renewal.get("decision"):
        raise MemberChangeRefused("you have already asked to continue; the IAG coordinator will reply")
    return replace(member, renewal={"asked_on": today.isoformat()}, changes=member.changes + 1)


def renewal_decided(member: Member, agreed: bool, today: date, term_years: int, by: str, reason: str) -> Member:
    """Agreed: a new term from the end of this one. Declined: the term ends on its date (and then membership)."""
    if member.standing is not Status.ACTIVE or today >= member.term_ends_on:
        raise MemberChangeRefused("only a serving member's renewal can be decided, before the term ends")
    if not member.renewal or member.renewal.get("decision"):
        raise MemberChangeRefused("the member has not asked to continue (or it was already decided)")
    if len((reason or "").strip()) > MAX_REASON:
        raise MemberChangeRefused(f"keep the reason to {MAX_REASON} characters")
    renewal = {**member.renewal, "decision": "agreed" if agreed else "declined", "decided_on": today.isoformat(),
               "decided_by": by, "reason": (reason or "").strip(), "term_was": member.term_ends_on.isoformat()}
    term = add_months(member.term_ends_on, 12 * term_years) if agreed else member.term_ends_on
    return replace(member, renewal=renewal, term_ends_on=term, changes=member.changes + 1)


def screening_step(member: Member, group_screening: str, today: date, lead_days: int) -> Optional[str]:
    """Where the group screens: "expired" (pause from call-outs), "renew" (ask the vetting unit, tell the
    member) within `lead_days` of expiry, else None."""
    if group_screening == "none" or member.standing is not Status.ACTIVE or not member.screening:
        return None
    expires = date.fromisoformat(member.screening.get("expires_on", "0001-01-01"))
    if today >= expires:
        return "expired"
    if today >= expires - timedelta(days=lead_days):
        return "renew"
    return None


def screening_renewed(member: Member, level: str, outcome: str, completed_on: date, expires_on: date) -> Member:
    """A new check recorded: it replaces the old one; a clear (or referred) check lifts a pause it caused."""
    screening = {"level": level, "outcome": outcome, "completed_on": completed_on.isoformat(),
                 "expires_on": expires_on.isoformat()}
    paused = "" if outcome in ("clear", "refer") and expires_on > completed_on else member.callouts_paused
    return replace(member, screening=screening, callouts_paused=paused, changes=member.changes + 1)


def paused(member: Member, why: str) -> Member:
    return replace(member, callouts_paused=why, changes=member.changes + 1)


def details_updated(member: Member, fields: dict[str, Any], optional_series: tuple[str, ...]) -> Member:
    """The member's own contact details and preferences, checked; MemberChangeRefused says what to correct."""
    email = (fields.get("email") or "").strip()
    phone = (fields.get("phone") or "").strip()
    if not EMAIL.match(email) or len(email) > 254:
        raise MemberChangeRefused("Enter an email address, like name@example.org")
    if phone and not PHONE.match(phone):
        raise MemberChangeRefused("Enter a phone number of 7 to 20 digits, or leave it empty")
    preferences = {channel: fields.get(f"contact_{channel}") in ("yes", "on", True) for channel in CONTACT_CHANNELS}
    if preferences["phone"] and not phone:
        raise MemberChangeRefused("Give a phone number, or do not choose to be contacted by phone")
    chosen = fields.get("series") or ()
    chosen = (chosen,) if isinstance(chosen, str) else tuple(chosen)
    unknown = [name for name in chosen if name not in optional_series]
    if unknown:
        raise MemberChangeRefused(f"There is no optional series {unknown[0]!r} in this group")
    return replace(member, email=email, phone=phone, contact_preferences=preferences,
                   optional_series=tuple(name for name in optional_series if name in chosen),
                   changes=member.changes + 1)


def member_from(application: Application, force: ForceProfile, joined_on: date, agreement: SignedAgreement,
                screening: Optional[ScreeningResult]) -> Member:
    applicant = application.applicant
    phone = applicant.get("phone") or ""
    return Member(
        member_id=application.reference, force_id=application.force_id, group_id=application.group_id,
        role=Role.MEMBER, name=f"{applicant['given_name']} {applicant['family_name']}", email=applicant["email"],
        phone=phone, joined_on=joined_on, term_ends_on=add_months(joined_on, 12 * force.onboarding.term_years),
        contact_preferences={"email": True, "phone": bool(phone)},
        screening=None if screening is None else {
            "level": screening.level, "outcome": screening.outcome.value,
            "completed_on": screening.completed_on.isoformat(), "expires_on": screening.expires_on.isoformat()},
        agreement_version=f"{agreement.document_id}@{agreement.document_version}")
