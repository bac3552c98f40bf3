"""The business of a meeting, beyond its invitation: agenda items proposed by those the profile names before a
deadline, papers, members' answers (attending or apologies), who came, and minutes with actions (an owner, a due
date, and whether it is feedback to the police) that are reminded until closed."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Optional

from .meeting_plans import PlannedMeeting

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PAPER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()-]{0,99}\.(pdf|docx|odt|txt|html)$")
MAX_PAPER_BYTES = 4 * 1024 * 1024  # sent base64 in one JSON body: under API Gateway and Lambda's 6 MB
MAX_TITLE = 200
MAX_MINUTES = 20000
MAX_ITEMS = 10


class Answer(str, Enum):
    ATTENDING = "attending"
    APOLOGIES = "apologies"


ANSWER_WORDS = {Answer.ATTENDING: "I will attend", Answer.APOLOGIES: "I send my apologies"}


class BusinessRefused(ValueError):
    """The meeting's business cannot be changed so; nothing was changed."""


@dataclass(frozen=True)
class AgendaItem:
    title: str
    proposed_by: str  # the profile's role, e.g. "iag_chair" or "local_inspector"
    proposer: str  # the name of whoever holds it
    at: datetime


@dataclass(frozen=True)
class Paper:
    filename: str
    title: str
    key: str  # where it lies in the private bucket
    uploaded_at: datetime


@dataclass(frozen=True)
class Action:
    id: str
    meeting: str  # the uid_key of the meeting whose minutes set it
    title: str
    owner_name: str
    owner_email: str
    due_on: date
    feedback_to_police: bool
    set_on: date
    closed_on: Optional[date] = None


@dataclass(frozen=True)
class Minutes:
    text: str
    published_at: datetime
    published_by: str
    action_ids: tuple[str, ...] = ()


def agenda_deadline(planned: PlannedMeeting, deadline_days: int) -> datetime:
    return planned.meeting.starts_at - timedelta(days=deadline_days)


def papers_due(planned: PlannedMeeting, days_before: int) -> datetime:
    return planned.meeting.starts_at - timedelta(days=days_before)


def agenda_items(planned: PlannedMeeting, text: str, role: str, proposer: str, now: datetime,
                 deadline_days: int) -> list[AgendaItem]:
    """One item per non-empty line, before the deadline; BusinessRefused says why not."""
    if planned.cancelled:
        raise BusinessRefused("the meeting is cancelled")
    if now >= agenda_deadline(planned, deadline_days):
        raise BusinessRefused("the deadline for agenda items has passed; ask the IAG coordinator")
    titles = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not titles:
        raise BusinessRefused("Write at least one agenda item, one to a line")
    if len(titles) > MAX_ITEMS or any(len(t) > MAX_TITLE for t in titles):
        raise BusinessRefused(f"Give up to {MAX_ITEMS} items of up to {MAX_TITLE} characters each")
    return [AgendaItem(t, role, proposer, now) for t in titles]


def paper(planned: PlannedMeeting, force_id: str, group_id: str, filename: str, title: str, size: int,
          now: datetime) -> Paper:
    if planned.cancelled or planned.meeting.ends_at <= now:
        raise BusinessRefused("the meeting is cancelled or over")
    if not PAPER_NAME.match(filename or ""):
        raise BusinessRefused("the file name must end .pdf, .docx, .odt, .txt or .html, with letters, digits, "
                              "spaces, dots, dashes or brackets")
    if not 0 < size <= MAX_PAPER_BYTES:
        raise BusinessRefused(f"a paper must hold between 1 byte and {MAX_PAPER_BYTES // (1024 * 1024)} MB")
    title = (title or filename).strip()[:MAX_TITLE]
    return Paper(filename, title, f"papers/{force_id}/{group_id}/{planned.meeting.uid_key}/{filename}", now)


def actions_from(raw: object, meeting: str, today: date, ids: list[str]) -> list[Action]:
    """Actions as a coordinator writes them: a list of {title, owner_name, owner_email, due_on,
    feedback_to_police}. Every problem is named; none is half-taken."""
    if not isinstance(raw, list) or len(raw) > 50:
        raise BusinessRefused("actions must be a list (up to 50)")
    actions, problems = [], []
    for n, entry in enumerate(raw, 1):
        entry = entry if isinstance(entry, dict) else {}
        title = str(entry.get("title") or "").strip()
        owner = str(entry.get("owner_name") or "").strip()
        email = str(entry.get("owner_email") or "").strip()
        try:
            due = date.fromisoformat(str(entry.get("due_on")))
        except ValueError:
            due = None
        if not title or len(title) > MAX_TITLE:
            problems.append(f"action {n}: give what is to be done (up to {MAX_TITLE} characters)")
        if not owner or not EMAIL.match(email):
            problems.append(f"action {n}: give the owner's name and email address")
        if due is None or due < today:
            problems.append(f"action {n}: give a due date (YYYY-MM-DD), today or later")
        if not problems and due is not None:  # (a missing due date is a problem already)
            actions.append(Action(ids[n - 1], meeting, title, owner, email, due,
                                  bool(entry.get("feedback_to_police")), today))
    if problems:
        raise BusinessRefused("; ".join(problems))
    return actions


def reminder_due(action: Action, today: date, every_days: int) -> Optional[str]:
    """The reminder an open action owes today (a key for it, sent once), or None: one when it comes within
    `every_days` of its due date, then every `every_days` days while it stays open."""
    if action.closed_on is not None or today < action.due_on - timedelta(days=every_days):
        return None
    period = (today - (action.due_on - timedelta(days=every_days))).days // every_days
    return f"action-{action.id}-r{period}"
