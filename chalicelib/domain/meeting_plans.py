"""A group's planned meetings: what members have been told, and how a change is told again.

A planned meeting keeps the uid_key it was first sent with; moving or cancelling it raises its sequence, so
calendars that already hold it update the same event (RFC 5545: same UID, higher SEQUENCE).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from .meetings import Meeting


@dataclass(frozen=True)
class PlannedMeeting:
    meeting: Meeting
    sequence: int = 0
    cancelled: bool = False
    note: str = ""


class MeetingChangeRefused(ValueError):
    pass


def moved(planned: PlannedMeeting, starts_at: datetime, now: datetime, note: str) -> PlannedMeeting:
    if planned.cancelled:
        raise MeetingChangeRefused("a cancelled meeting cannot be moved; plan an extra meeting instead")
    if starts_at.tzinfo is None or starts_at <= now:
        raise MeetingChangeRefused("the new time must be in the future, with its time zone")
    length = planned.meeting.ends_at - planned.meeting.starts_at
    meeting = replace(planned.meeting, starts_at=starts_at, ends_at=starts_at + length)
    return PlannedMeeting(meeting, planned.sequence + 1, False, note)


def with_online_link(planned: PlannedMeeting, url: str, now: datetime) -> PlannedMeeting:
    """The meeting with its joining link (or none, for ""), told again as an update (a higher sequence)."""
    if planned.cancelled or planned.meeting.ends_at <= now:
        raise MeetingChangeRefused("the meeting is cancelled or over")
    url = url.strip()
    if url and (not url.startswith("https://") or len(url) > 500 or any(c.isspace() for c in url)):
        raise MeetingChangeRefused("the online link must be an https:// address of up to 500 characters")
    return PlannedMeeting(replace(planned.meeting, online_link=url), planned.sequence + 1, False, planned.note)


def cancelled(planned: PlannedMeeting, now: datetime, note: str) -> PlannedMeeting:
    if planned.cancelled:
        raise MeetingChangeRefused("the meeting is already cancelled")
    if planned.meeting.starts_at <= now:
        raise MeetingChangeRefused("the meeting has already started")
    return PlannedMeeting(planned.meeting, planned.sequence + 1, True, note)
