"""Trouble operators are told about, and how soon: a rule table, not code.

Urgent trouble leaves a person waiting with nobody acting (an application's run that keeps failing, a panel's
decision that never reached its run, an email that cannot be sent): the platform operator and the force's
coordinator are emailed at once. The rest (a role nobody holds, a Strategic IAG cycle with no quorum) already
has its own notice to whoever must act, so operators read it in the next daily digest.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum


class Trouble(str, Enum):
    RUN_FAILING = "run-failing"  # a flow run failed or crashed twice
    DECISION_UNDELIVERED = "decision-undelivered"  # recorded in DynamoDB, its run not resumed for over an hour
    EMAIL_FAILING = "email-failing"  # the mailer keeps refusing one email
    ROLE_EMPTY = "role-empty"  # a flow waits for a role nobody holds
    NO_QUORUM = "no-quorum"  # a Strategic IAG cycle found no date with a quorum


URGENT = frozenset({Trouble.RUN_FAILING, Trouble.DECISION_UNDELIVERED, Trouble.EMAIL_FAILING})

UNDELIVERED_FOR = timedelta(hours=1)  # a decision older than this, still not told to its run, is trouble
FAILURES_BEFORE_ALERT = 3  # sends of one email that failed (a refusal a person must fix counts at once)
RUN_FAILURES_BEFORE_ALERT = 2  # the automation's threshold: one failure is retried by reconciliation


@dataclass(frozen=True)
class Alert:
    """One incident: `incident` names it so that it is told once however often it is seen again."""
    force_id: str
    trouble: Trouble
    incident: str
    summary: str  # what is wrong, in a sentence
    action: str  # what the reader can do about it
    seen_at: datetime

    @property
    def urgent(self) -> bool:
        return self.trouble in URGENT

    @property
    def key(self) -> str:
        return f"{self.trouble.value}:{self.incident}"


def digest_day(at: datetime) -> date:
    """The day whose digest an alert noted at `at` goes in (UTC days: the digest says so)."""
    return at.date()


def days_to_digest(today: date, back: int = 3) -> list[date]:
    """Days whose digest is due on `today`: yesterday and a few before, so a digest missed while the scheduler
    was down still goes (each at most once)."""
    return [today - timedelta(days=n) for n in range(back, 0, -1)]
