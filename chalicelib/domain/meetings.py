"""Meeting dates worked out from a group's meeting series in its force profile.

For the dates a new member is told when they join, and later for the meeting series of each group
(calendar files, reminders). Times are London wall-clock times: an 18:30 meeting stays 18:30 in
both GMT and BST. A meeting that would fall on an avoided date (a bank holiday, say) moves a week later,
on the same weekday, at the same London time.
"""
from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from itertools import islice
from typing import Iterable, Iterator, Optional
from zoneinfo import ZoneInfo

from .forces import ForceProfile, Group, MeetingSeries

LONDON = ZoneInfo("Europe/London")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Meeting:
    uid_key: str  # stable identity: "<force>.<group>.<series-slug>.<YYYY-MM-DD>", the date actually met
    title: str
    starts_at: datetime  # aware, Europe/London
    ends_at: datetime
    venue: str
    online_option: bool
    online_link: str = ""  # where to join online (set per series or per meeting by an operator)


def upcoming(
    force_id: str,
    group_id: str,
    group_name: str,
    series: MeetingSeries,
    *,
    after: datetime,
    count: int,
    avoid: frozenset[date] = frozenset(),
) -> list[Meeting]:
    """The next `count` meetings of `series` strictly after `after` (an aware datetime).

    Meetings fall in the months first_month, first_month + interval_months, ..., wrapping through the
    year (every 3 months from April includes January), on the week_of_month-th weekday (-1: the last).
    A series whose profile lacks any of these, the start time or the duration has no knowable dates: [].
    A meeting on a date in `avoid` moves a week later (again while that is avoided); its uid_key carries
    the date it actually meets, so a calendar shows the moved meeting rather than the scheduled one.
    """
    needed = (series.weekday, series.week_of_month, series.start_time, series.first_month, series.duration_minutes)
    if None in needed or count <= 0:
        return []
    return list(islice(_meetings(force_id, group_id, group_name, series, after, avoid), count))


def upcoming_for_group(
    force: ForceProfile, group: Group, *, after: datetime, count: int, avoid: frozenset[date] = frozenset(),
    opted_into: Optional[Iterable[str]] = None,
) -> list[Meeting]:
    """The next `count` meetings of all the group's series, earliest first, moved off `avoid` dates. Given the
    optional series a member opted into, an optional series (e.g. scrutiny panels) they did not choose is left out."""
    chosen = None if opted_into is None else set(opted_into)
    meetings = [
        meeting
        for series in group.meetings
        if chosen is None or not series.optional or series.name in chosen
        for meeting in upcoming(force.id, group.id, group.name, series, after=after, count=count, avoid=avoid)
    ]
    return sorted(meetings, key=lambda m: m.starts_at)[:count]


def _meetings(
    force_id: str, group_id: str, group_name: str, series: MeetingSeries, after: datetime, avoid: frozenset[date]
) -> Iterator[Meeting]:
    first_month, interval, weekday = series.first_month, series.interval_months, series.weekday
    week_of_month, start_time, minutes = series.week_of_month, series.start_time, series.duration_minutes
    if (first_month is None or interval is None or weekday is None or week_of_month is None or start_time is None
            or minutes is None):
        raise ValueError(f"the meeting series {series.name!r} does not say when it meets")
    slug = re.sub(r"[^a-z0-9]+", "-", series.name.lower()).strip("-")
    local = after.astimezone(LONDON)
    # Start a month early: last month's meeting may have moved past `after` (31 August to 7 September).
    year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
    previous: date | None = None
    while True:
        if (month - first_month) % interval == 0:
            day = _nth_weekday(year, month, WEEKDAYS.index(weekday), week_of_month)
            while day in avoid:
                day += timedelta(weeks=1)
            starts_at = datetime.combine(day, time.fromisoformat(start_time), tzinfo=LONDON)
            # Every date of a series is the same weekday, so moved dates never overtake one another; they can
            # only coincide when `avoid` covers every week between two meetings, and then they meet once.
            if starts_at > after and day != previous:
                previous = day
                # Added in UTC so that the duration is elapsed time even across a clock change.
                ends_at = starts_at.astimezone(timezone.utc) + timedelta(minutes=minutes)
                yield Meeting(
                    uid_key=f"{force_id}.{group_id}.{slug}.{day.isoformat()}",
                    title=f"{group_name}: {series.name}",
                    starts_at=starts_at,
                    ends_at=ends_at.astimezone(LONDON),
                    venue=series.venue,
                    online_option=series.online_option,
                )
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _nth_weekday(year: int, month: int, weekday: int, week_of_month: int) -> date:
    days = [d for d in range(1, monthrange(year, month)[1] + 1) if date(year, month, d).weekday() == weekday]
    return date(year, month, days[week_of_month - 1 if week_of_month > 0 else -1])
