"""How long personal data is kept, and what retention and erasure do to each kind of item.

An unsuccessful application (one that ended without making a member) is deleted once the force's
`retention.unsuccessful_months` have passed since its decision, the moment it reached that stage.
A redirected application went on to another group's panel: it is not unsuccessful.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import Enum
from typing import Optional
from zoneinfo import ZoneInfo

from .lifecycle import Stage
from .screening import add_months

LONDON = ZoneInfo("Europe/London")

# An unsent application ("draft") lives this long after its last change, and so does the record of each link
# to it that was emailed: DynamoDB's TTL removes them together.
DRAFT_LIFETIME = timedelta(days=28)

# Rejected waits out the appeal window, but the window is days and retention months: counted from the refusal.
UNSUCCESSFUL = frozenset({Stage.INELIGIBLE, Stage.REJECTED, Stage.APPEAL_DISMISSED, Stage.WITHDRAWN, Stage.EXPIRED})


def is_unsuccessful(stage: Stage) -> bool:
    return stage in UNSUCCESSFUL


def deletion_date(stage: Stage, decided_at: datetime, months: int) -> Optional[date]:
    """The London day an application at `stage` since `decided_at` is deleted; None while it is not unsuccessful."""
    if not is_unsuccessful(stage):
        return None
    return add_months(decided_at.astimezone(LONDON).date(), months)


def due_for_deletion(stage: Stage, decided_at: datetime, months: int, today: date) -> bool:
    deleted_on = deletion_date(stage, decided_at, months)
    return deleted_on is not None and today >= deleted_on


def earliest_undue_submission(today: date, months: int) -> date:
    """Applications submitted on or after this day cannot be due yet: a decision follows submission, and
    `months` months are at least 28 days each. Lets retention read only the older part of the stage index."""
    return today - timedelta(days=28 * months - 1)


class Fate(str, Enum):
    KEEP = "keep"
    DELETE = "delete"
    ANONYMISE = "anonymise"  # identity removed, the rest kept (e.g. stage and dates, an answer, a count)


K, D, A = Fate.KEEP, Fate.DELETE, Fate.ANONYMISE

# item type -> (when retention deletes the application, when the person asks for erasure).
# Types not listed hold no personal data of an applicant or member.
FATES: dict[str, tuple[Fate, Fate]] = {
    "application": (D, A),  # erasure keeps a shell: reference, group, stage, dates
    "event": (D, K),  # audit: no personal data, kept after erasure
    "equality": (D, D),
    "live": (D, D),
    "applicant_index": (D, D),
    "email": (D, A),  # outbox: erasure drops what was never sent and the detail of what was
    "decision": (D, A),  # the panel's choice stays, their reason and note about the person go
    "screening": (D, D),
    "appeal": (D, D),
    "agreement": (D, A),  # which document version was signed and when stays; name, IP and browser go
    "wake": (D, K),
    "run_not_started": (D, D),  # a marker for reconciliation: no personal data
    "pack_request": (K, D),  # not an application: erased on request only
    "member": (K, D),  # members are never unsuccessful; erasure ends the membership
    "member_event": (K, A),  # a membership's history stays (what, when, by whom); the reason given goes
    "member_audit": (K, K),  # an import's changes: field names, operator and line only
    "callout_response": (K, A),
    "candidate": (K, A),
    "strategic_nominations": (K, A),
    "strategic_availability": (K, K),  # holds a member id and dates only
    "member_ref": (K, D),  # finds a member's candidacies, nominations, availability; goes with the membership
    "reviewer": (K, D),
}


def fate(item_type: str, *, erasure: bool) -> Fate:
    retention_fate, erasure_fate = FATES.get(item_type, (K, K))
    return erasure_fate if erasure else retention_fate
