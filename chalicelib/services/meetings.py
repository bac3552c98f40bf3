"""Each group's meetings: planned from the profile's cadence (off bank holidays), sent to every active member
as calendar invitations, and moved, cancelled or added with updates that carry the same UID and a higher
SEQUENCE. `plan_and_tell` runs daily, so a new member gets the planned meetings too; every email is claimed
per member, meeting and sequence, so nothing goes twice."""
from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Callable, Optional, Protocol
from zoneinfo import ZoneInfo

from chalicelib.domain.meeting_plans import MeetingChangeRefused, PlannedMeeting, cancelled, moved, with_online_link
from chalicelib.domain.forces import Group
from chalicelib.domain.meetings import Meeting, upcoming_for_group
from chalicelib.domain.membership import Member
from chalicelib.domain.role_titles import role_words
from chalicelib.services.joining_mail import day_at
from chalicelib.services.outbox import About, EmailKey, Postbox
from chalicelib.services.ports import Attachment, Clock, EmailMessage, ForceCatalogue, GroupMembers

LONDON = ZoneInfo("Europe/London")
PLANNED_AHEAD = 6


class MeetingStore(Protocol):
    """The planned meetings of each group (DynamoMeetingStore)."""

    def add(self, force_id: str, group_id: str, planned: PlannedMeeting, at: datetime) -> bool: ...

    def all(self, force_id: str, group_id: str) -> list[PlannedMeeting]: ...

    def change(self, force_id: str, group_id: str, before: PlannedMeeting, after: PlannedMeeting,
               at: datetime) -> bool: ...

    def get(self, force_id: str, group_id: str, uid_key: str) -> Optional[PlannedMeeting]: ...


@dataclass(frozen=True)
class MeetingParts:
    forces: ForceCatalogue
    store: MeetingStore
    members: GroupMembers
    postbox: Postbox  # every email goes through its send_once
    render: Callable[..., str]
    clock: Clock
    holidays: Callable[[list[int]], frozenset[date]]
    calendar_file: Callable[..., bytes]
    random_bytes: Callable[[int], bytes]
    # The member's own links (step down, details) for every invitation's footer; None: none shown.
    member_links: Optional[Callable[[Member], dict[str, str]]] = None
    # The member's link to answer attending / apologies for one meeting; None: none offered.
    answer_link: Optional[Callable[[Member, PlannedMeeting], str]] = None


class MeetingService:
    def __init__(self, parts: MeetingParts):
        self._p = parts

    def plan(self, force_id: str, group_id: str) -> list[PlannedMeeting]:
        """Store the next meetings the cadence gives (those already planned stay as they are)."""
        force, now = self._p.forces.require(force_id), self._now()
        group = force.require_group(group_id)
        avoid = self._p.holidays([now.year, now.year + 1, now.year + 2])
        links = {p.meeting.title: p.meeting.online_link for p in self._p.store.all(force_id, group_id)
                 if p.meeting.online_link}  # a new meeting of a series joins where the series last did
        for meeting in upcoming_for_group(force, group, after=now, count=PLANNED_AHEAD, avoid=avoid):
            meeting = replace(meeting, online_link=links.get(meeting.title, ""))
            self._p.store.add(force_id, group_id, PlannedMeeting(meeting), now)
        return self.upcoming(force_id, group_id)

    def upcoming(self, force_id: str, group_id: str) -> list[PlannedMeeting]:
        now = self._now()
        return [p for p in self._p.store.all(force_id, group_id) if p.meeting.ends_at > now]

    def recent(self, force_id: str, group_id: str, days: int = 90) -> list[PlannedMeeting]:
        """Upcoming meetings and those of the last `days` (whose attendance and minutes are still to record)."""
        since = self._now() - timedelta(days=days)
        return sorted((p for p in self._p.store.all(force_id, group_id) if p.meeting.ends_at > since),
                      key=lambda p: p.meeting.starts_at)

    def tell_members(self, force_id: str, group_id: str) -> int:
        """Send each active member whatever they have not been sent about each upcoming meeting."""
        force = self._p.forces.require(force_id)
        group = force.require_group(group_id)
        today = self._now().astimezone(LONDON).date()
        members = [m for m in self._p.members.members(force_id, group_id) if m.serving(today)]
        sent = 0
        for planned in self.upcoming(force_id, group_id):
            invited = invited_to(group, planned, members)
            kind = "cancelled" if planned.cancelled else "moved" if planned.sequence else "invite"
            ics = self._p.calendar_file([planned.meeting], calendar_name=f"{group.name} meetings",
                                        method="CANCEL" if planned.cancelled else "REQUEST",
                                        sequence=planned.sequence,
                                        organiser_email=force.contacts["iag_coordinator"].email)
            for member in invited:
                key = f"meeting-{planned.meeting.uid_key}-s{planned.sequence}-{member.member_id}"

                def invitation(member: Member = member, planned: PlannedMeeting = planned, kind: str = kind,
                               ics: bytes = ics) -> EmailMessage:
                    context = {"force": force, "group": group, "planned": planned, "name": member.name,
                               "kind": kind, "when": day_at, "agenda_by": _agenda_by(group, planned),
                               "member_links": self._p.member_links(member) if self._p.member_links else None,
                               "answer_url": self._p.answer_link(member, planned)
                               if self._p.answer_link and not planned.cancelled else None}
                    return EmailMessage(
                        to=member.email, subject=_subject(kind, group.name, planned),
                        text=self._p.render("email/meeting.txt", **context),
                        html=self._p.render("email/meeting.html", **context),
                        attachments=(Attachment(f"{planned.meeting.uid_key}.ics",
                                                f"text/calendar; method={'CANCEL' if planned.cancelled else 'REQUEST'}",
                                                ics),), force_id=force.id)
                # One address failing must not hold up the others; send_once logged it, the next daily run retries.
                with suppress(Exception):
                    sent += self._p.postbox.email(EmailKey(About("meetings", force_id, group_id), key), invitation)
        return sent

    def plan_and_tell(self, force_id: str) -> dict[str, Any]:
        counts = {"planned": 0, "sent": 0}
        for group in self._p.forces.require(force_id).groups:
            if group.composition.get("nominees_per_local_group"):
                continue  # its date is chosen by the Strategic IAG cycle's poll, which sends its own invitations
            counts["planned"] += len(self.plan(force_id, group.id))
            counts["sent"] += self.tell_members(force_id, group.id)
        return counts

    # --- the operator ---

    def reschedule(self, force_id: str, group_id: str, uid_key: str, starts_at: datetime, note: str) -> PlannedMeeting:
        before = self._existing(force_id, group_id, uid_key)
        after = moved(before, starts_at, self._now(), note)
        return self._change(force_id, group_id, before, after)

    def set_online_link(self, force_id: str, group_id: str, url: str, *, uid_key: str = "",
                        series: str = "") -> list[PlannedMeeting]:
        """One meeting's joining link, or every upcoming meeting of a series (and the series' later meetings, which
        are planned with it); members are sent the update."""
        force = self._p.forces.get(force_id)
        group = force.group(group_id) if force else None
        if group is None or (not uid_key) == (not series):
            raise MeetingChangeRefused("name a group's meeting (uid_key) or one of its series")
        if uid_key:
            chosen = [self._existing(force_id, group_id, uid_key)]
        else:
            if series not in {s.name for s in group.meetings}:
                raise MeetingChangeRefused(f"{group.name} has no series {series!r}")
            chosen = [p for p in self.upcoming(force_id, group_id)
                      if not p.cancelled and p.meeting.title == f"{group.name}: {series}"]
        changed = [after for before in chosen
                   if self._p.store.change(force_id, group_id, before,
                                           after := with_online_link(before, url, self._now()), self._now())]
        self.tell_members(force_id, group_id)
        return changed

    def cancel(self, force_id: str, group_id: str, uid_key: str, note: str) -> PlannedMeeting:
        before = self._existing(force_id, group_id, uid_key)
        return self._change(force_id, group_id, before, cancelled(before, self._now(), note))

    def extraordinary(self, force_id: str, group_id: str, starts_at: datetime, minutes: int, venue: str,
                      online: bool, purpose: str) -> PlannedMeeting:
        """An extra meeting (e.g. after an incident), sent to every member at once."""
        group = self._p.forces.require(force_id).group(group_id)
        if group is None:
            raise MeetingChangeRefused(f"no group {group_id!r}")
        if starts_at.tzinfo is None or starts_at <= self._now() or not 15 <= minutes <= 480 or not purpose.strip():
            raise MeetingChangeRefused("give a future start with its time zone, a length of 15 to 480 minutes "
                                       "and what the meeting is for")
        uid = f"{force_id}.{group_id}.extra.{starts_at.astimezone(LONDON):%Y-%m-%d}-{self._p.random_bytes(3).hex()}"
        meeting = Meeting(uid, f"{group.name}: extraordinary meeting", starts_at.astimezone(LONDON),
                          (starts_at + timedelta(minutes=minutes)).astimezone(LONDON), venue, online)
        planned = PlannedMeeting(meeting, 0, False, purpose.strip())
        self._p.store.add(force_id, group_id, planned, self._now())
        self.tell_members(force_id, group_id)
        return planned

    def _existing(self, force_id: str, group_id: str, uid_key: str) -> PlannedMeeting:
        planned = self._p.store.get(force_id, group_id, uid_key)
        if planned is None:
            raise MeetingChangeRefused(f"no meeting {uid_key!r} planned for {group_id}")
        return planned

    def _change(self, force_id: str, group_id: str, before: PlannedMeeting, after: PlannedMeeting) -> PlannedMeeting:
        if not self._p.store.change(force_id, group_id, before, after, self._now()):
            raise MeetingChangeRefused("the meeting was changed by someone else meanwhile; look again")
        self.tell_members(force_id, group_id)
        return after

    def _now(self) -> datetime:
        return self._p.clock.now()


def invited_to(group: Group, planned: PlannedMeeting, serving: list[Member]) -> list[Member]:
    """Who of the serving members a meeting is for: everyone, or for an optional series (e.g. scrutiny panels)
    only those who opted in."""
    series = series_of(group, planned)
    if series is not None and series.optional:
        return [m for m in serving if series.name in m.optional_series]
    return serving


def series_of(group: Group, planned: PlannedMeeting) -> Any:
    """The profile's series a planned meeting belongs to (None for an extraordinary meeting)."""
    return next((s for s in group.meetings if planned.meeting.title == f"{group.name}: {s.name}"), None)


def _agenda_by(group: Group, planned: PlannedMeeting) -> list[str]:
    """Who agrees the agenda, from the series the meeting belongs to (e.g. the Chair and the local Inspector)."""
    series = series_of(group, planned)
    return [role_words(role) for role in series.agenda_by] if series else []


def _subject(kind: str, group_name: str, planned: PlannedMeeting) -> str:
    when = day_at(planned.meeting.starts_at)
    return {"invite": f"{group_name}: {when}", "moved": f"Moved: {group_name} now {when}",
            "cancelled": f"Cancelled: {group_name} on {when}"}[kind]
