"""Meetings as an RFC 5545 calendar file (.ics) that members add to their own calendars.

Each event's UID comes from the meeting's stable uid_key, so a later file with the same UIDs and a
higher SEQUENCE updates (with METHOD:CANCEL, cancels) the events a member already has.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from chalicelib.domain.meetings import Meeting

LONDON = ZoneInfo("Europe/London")
PRODID = "-//IAG Back Office//EN"
UID_DOMAIN = "iag-backoffice"


def calendar_file(
    meetings: list[Meeting],
    *,
    calendar_name: str,
    organiser_email: str | None = None,
    method: str = "PUBLISH",
    sequence: int = 0,
    stamp: datetime | None = None,
) -> bytes:
    """The .ics bytes for `meetings`; `stamp` (DTSTAMP, when this copy was made) defaults to now."""
    calendar = Calendar()  # not Calendar.new(), which adds a random UID to the calendar itself
    calendar.prodid = PRODID
    calendar.version = "2.0"
    calendar.method = method.upper()
    calendar.calendar_name = calendar_name  # writes both NAME (RFC 7986) and X-WR-CALNAME
    stamp = stamp or datetime.now(timezone.utc)
    for meeting in meetings:
        location = f"{meeting.venue}, or online" if meeting.online_option or meeting.online_link else meeting.venue
        joining = f"\nJoin online: {meeting.online_link}" if meeting.online_link else ""
        calendar.add_component(Event.new(
            uid=f"{meeting.uid_key}@{UID_DOMAIN}",
            stamp=stamp,
            # Named zone, whatever offset the time was stored with: a fixed "+01:00" would be written as a
            # TZID no calendar knows.
            start=meeting.starts_at.astimezone(LONDON),
            end=meeting.ends_at.astimezone(LONDON),
            summary=meeting.title,
            location=location,
            description=f"{meeting.title}\nWhere: {location}{joining}",
            url=meeting.online_link or None,
            organizer=f"mailto:{organiser_email}" if organiser_email else None,
            sequence=sequence,
        ))
        if method.upper() == "CANCEL":
            calendar.subcomponents[-1].add("status", "CANCELLED")
    if meetings:
        # Without a window icalendar writes every transition from 1970 to 2038 as RDATE lists (and
        # nothing after 2038); the years of these meetings are enough and keep the file small.
        first_year = min(m.starts_at.year for m in meetings)
        last_year = max(m.ends_at.year for m in meetings)
        calendar.add_missing_timezones(first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1))
    return calendar.to_ical()
