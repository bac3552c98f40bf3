"""A meeting's business: members answer attending or apologies from their invitation and the coordinator confirms
who came; those the profile names (e.g. the Chair and the local Inspector) propose agenda items through a link
before a deadline; papers go to the private bucket and members read them only through short-lived links; the
agenda goes out with the papers; minutes and actions are published to the group and open actions reminded.

Members' and proposers' links are single use where they act (an answer, a proposal); the papers page only shows,
and each paper opens through a presigned link that works for minutes. Every email goes through the one outbox.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, Optional, Protocol
from zoneinfo import ZoneInfo

from chalicelib.domain.forces import Contact, ForceProfile, Group
from chalicelib.domain.links import Link, LinkProblem, Purpose, new_token, problem_with, token_hash
from chalicelib.domain.meeting_business import (
    Action, AgendaItem, Answer, BusinessRefused, Minutes, Paper, actions_from, agenda_deadline, agenda_items, paper,
    papers_due, reminder_due,
)
from chalicelib.domain.meeting_plans import PlannedMeeting
from chalicelib.domain.membership import Member, Role
from chalicelib.domain.role_titles import role_words
from chalicelib.services.joining_mail import day_at
from chalicelib.services.meetings import MeetingStore, invited_to
from chalicelib.services.membership import member_email
from chalicelib.services.outbox import About, EmailKey, Postbox
from chalicelib.services.ports import Clock, EmailMessage, ForceCatalogue, GroupMembers, LinkConflict, RandomSource
from chalicelib.services.refusals import LinkRefused

log = logging.getLogger(__name__)

LONDON = ZoneInfo("Europe/London")
PAPERS_READABLE_DAYS = 30  # a member's papers page works this long after the meeting (to read before minutes)
CONTENT_TYPES = {"pdf": "application/pdf", "txt": "text/plain", "html": "text/html",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 "odt": "application/vnd.oasis.opendocument.text"}


class MeetingRecords(Protocol):
    """What a meeting's business adds to it (DynamoMeetingRecords)."""

    def add_agenda_items(self, force_id: str, group_id: str, uid_key: str, items: list[AgendaItem],
                         link: Link) -> None:
        """With the proposer's link spent, in one write; LinkConflict if it was spent already."""

    def agenda(self, force_id: str, group_id: str, uid_key: str) -> list[AgendaItem]: ...

    def add_paper(self, force_id: str, group_id: str, uid_key: str, paper: Paper) -> None: ...

    def papers(self, force_id: str, group_id: str, uid_key: str) -> list[Paper]: ...

    def record_answer(self, force_id: str, group_id: str, uid_key: str, member_id: str, answer: Answer,
                      at: datetime, link: Link) -> None:
        """With the member's link spent, in one write; LinkConflict if it was spent already."""

    def answers(self, force_id: str, group_id: str, uid_key: str) -> dict[str, Answer]: ...

    def confirm_attendance(self, force_id: str, group_id: str, uid_key: str, present: tuple[str, ...], by: str,
                           at: datetime) -> None: ...

    def attendance(self, force_id: str, group_id: str, uid_key: str) -> Optional[tuple[str, ...]]: ...

    def publish_minutes(self, force_id: str, group_id: str, uid_key: str, minutes: Minutes,
                        actions: list[Action]) -> bool:
        """False if the minutes were published already (nothing written)."""

    def minutes(self, force_id: str, group_id: str, uid_key: str) -> Optional[Minutes]: ...

    def actions(self, force_id: str, group_id: str) -> list[Action]: ...

    def close_action(self, force_id: str, group_id: str, action_id: str, on: date) -> bool: ...


class PaperFiles(Protocol):
    """The private bucket (S3Documents)."""

    def put_paper(self, key: str, data: bytes, content_type: str) -> None: ...

    def paper_url(self, key: str, filename: str, expires_in: int) -> str: ...


class Links(Protocol):
    def add_links(self, links: list[Link]) -> None: ...

    def link(self, token_hash: str) -> Optional[Link]: ...


class PanelHolders(Protocol):
    def panel_members(self, force_id: str, group_id: str) -> dict[str, tuple[str, str]]: ...


@dataclass(frozen=True)
class BusinessParts:
    forces: ForceCatalogue
    meetings: MeetingStore
    members: GroupMembers
    records: MeetingRecords
    files: PaperFiles
    panel: PanelHolders
    links: Links
    postbox: Postbox
    render: Callable[..., str]
    clock: Clock
    random_bytes: RandomSource
    base_url: str
    member_links: Optional[Callable[[Member], dict[str, str]]] = None


class MeetingBusinessService:
    def __init__(self, parts: BusinessParts):
        self._p = parts

    # --- answers from the invitation ---

    def answer_link(self, member: Member, planned: PlannedMeeting) -> str:
        return self._link(Purpose.ATTENDANCE, member.force_id, member.group_id, planned, member.member_id,
                          planned.meeting.starts_at, "attend")

    def open_answer(self, token: str) -> tuple[Link, PlannedMeeting, ForceProfile]:
        link, planned, force = self._open(token, Purpose.ATTENDANCE)
        return link, planned, force

    def answer(self, token: str, answer: Answer) -> PlannedMeeting:
        link, planned, force = self._open(token, Purpose.ATTENDANCE)
        group_id, uid_key = link.reference.split("/", 1)
        if planned.cancelled:
            raise BusinessRefused("the meeting is cancelled")
        try:
            self._p.records.record_answer(force.id, group_id, uid_key, link.role, answer, self._now(), link)
        except LinkConflict:
            raise LinkRefused(LinkProblem.USED) from None
        return planned

    # --- the agenda ---

    def ask_for_agenda(self, force_id: str, group_id: str) -> int:
        """Each upcoming meeting whose agenda is open: everyone its series names gets a link to propose items
        (once per meeting); a role nobody holds is told to the coordinator at once."""
        force, group = self._force_group(force_id, group_id)
        sent = 0
        deadline_days = force.meeting_business.agenda_deadline_days
        holders = None
        for planned in self._upcoming(force_id, group_id):
            series = next((s for s in group.meetings if planned.meeting.title == f"{group.name}: {s.name}"), None)
            deadline = agenda_deadline(planned, deadline_days)
            if series is None or not series.agenda_by or planned.cancelled or self._now() >= deadline:
                continue
            holders = holders if holders is not None else self._holders(force_id, group_id)
            for role in series.agenda_by:
                key = f"agenda-ask-{planned.meeting.uid_key}-{role}"
                if role not in holders:
                    coordinator = force.contacts["iag_coordinator"]
                    def nobody(role: str = role, planned: PlannedMeeting = planned,
                               coordinator: Contact = coordinator) -> EmailMessage:
                        return self._message(force, coordinator.address(), coordinator.name,
                                             f"Nobody holds the role {role_words(role)} for the {group.name}",
                                             f"Agenda items for {planned.meeting.title} on "
                                             f"{day_at(planned.meeting.starts_at)} are proposed by "
                                             f"{role_words(role)}, and nobody holds that role.",
                                             "Set who holds it (the admin API or the console), and they "
                                             "will be asked on the next daily run.")
                    sent += self._send(force_id, group_id, key + "-nobody", nobody)
                    continue
                name, email = holders[role]

                def ask(role: str = role, name: str = name, email: str = email, planned: PlannedMeeting = planned,
                        deadline: datetime = deadline) -> EmailMessage:
                    return self._message(
                        force, email, name, f"Agenda items for {planned.meeting.title}",
                        f"As {role_words(role)}, you agree the agenda of {planned.meeting.title} on "
                        f"{day_at(planned.meeting.starts_at)}.",
                        f"Propose items by {day_at(deadline)}. The agenda goes to members with the papers.",
                        action=("Propose agenda items", self._link(Purpose.AGENDA, force_id, group_id, planned, role,
                                                                   deadline, "agenda")))
                sent += self._send(force_id, group_id, key, ask)
        return sent

    def open_agenda(self, token: str) -> tuple[Link, PlannedMeeting, ForceProfile, list[AgendaItem]]:
        link, planned, force = self._open(token, Purpose.AGENDA)
        group_id, uid_key = link.reference.split("/", 1)
        return link, planned, force, self._p.records.agenda(force.id, group_id, uid_key)

    def propose(self, token: str, text: str) -> list[AgendaItem]:
        link, planned, force = self._open(token, Purpose.AGENDA)
        group_id, uid_key = link.reference.split("/", 1)
        holder = self._holders(force.id, group_id).get(link.role, ("", ""))[0] or role_words(link.role)
        items = agenda_items(planned, text, link.role, holder, self._now(),
                             force.meeting_business.agenda_deadline_days)
        try:
            self._p.records.add_agenda_items(force.id, group_id, uid_key, items, link)
        except LinkConflict:
            raise LinkRefused(LinkProblem.USED) from None
        return items

    # --- papers ---

    def upload_paper(self, force_id: str, group_id: str, uid_key: str, filename: str, title: str,
                     data: bytes) -> Paper:
        self._force_group(force_id, group_id)
        planned = self._planned(force_id, group_id, uid_key)
        stored = paper(planned, force_id, group_id, filename, title, len(data), self._now())
        self._p.files.put_paper(stored.key, data, CONTENT_TYPES[filename.rsplit(".", 1)[1].lower()])
        self._p.records.add_paper(force_id, group_id, uid_key, stored)
        return stored

    def send_papers(self, force_id: str, group_id: str, uid_key: str) -> int:
        """The agenda and a link to the papers, to each member the meeting is for, once each."""
        force, group = self._force_group(force_id, group_id)
        planned = self._planned(force_id, group_id, uid_key)
        if planned.cancelled or planned.meeting.ends_at <= self._now():
            raise BusinessRefused("the meeting is cancelled or over")
        agenda = self._p.records.agenda(force_id, group_id, uid_key)
        papers = self._p.records.papers(force_id, group_id, uid_key)
        today = self._now().astimezone(LONDON).date()
        serving = [m for m in self._p.members.members(force_id, group_id) if m.serving(today)]
        lines = [f"{n}. {item.title} (proposed by {role_words(item.proposed_by)})" for n, item in enumerate(agenda, 1)]
        sent = 0
        for member in invited_to(group, planned, serving):
            def papers_to(member: Member = member) -> EmailMessage:
                return self._message(
                    force, member.email, member.name, f"Agenda and papers: {planned.meeting.title}",
                    f"The agenda of {planned.meeting.title} on {day_at(planned.meeting.starts_at)}:",
                    *(lines or ["(No items were proposed; the chair opens the meeting.)"]),
                    f"{len(papers)} paper{'s' if len(papers) != 1 else ''} for the meeting: open them through the "
                    "link below. It is yours alone: please do not forward it.",
                    action=("Read the agenda and papers", self._link(
                        Purpose.PAPERS, force_id, group_id, planned, member.member_id,
                        planned.meeting.ends_at + timedelta(days=PAPERS_READABLE_DAYS), "papers")),
                    member_links=self._p.member_links(member) if self._p.member_links else None)
            sent += self._send(force_id, group_id, f"papers-{uid_key}-{member.member_id}", papers_to)
        return sent

    def open_papers(self, token: str) -> tuple[PlannedMeeting, ForceProfile, list[AgendaItem], list[Paper]]:
        """Read only: opening the page spends nothing."""
        link, planned, force = self._open(token, Purpose.PAPERS)
        group_id, uid_key = link.reference.split("/", 1)
        return (planned, force, self._p.records.agenda(force.id, group_id, uid_key),
                self._p.records.papers(force.id, group_id, uid_key))

    def paper_url(self, token: str, number: int) -> str:
        """A presigned link to paper `number` (from 1) that works for the profile's papers_link_minutes."""
        planned, force, _, papers = self.open_papers(token)
        if not 1 <= number <= len(papers):
            raise LinkRefused(LinkProblem.UNKNOWN)
        chosen = papers[number - 1]
        return self._p.files.paper_url(chosen.key, chosen.filename, 60 * force.meeting_business.papers_link_minutes)

    # --- who came, minutes and actions ---

    def confirm_attendance(self, force_id: str, group_id: str, uid_key: str, present: object,
                           by: str) -> dict[str, Any]:
        self._force_group(force_id, group_id)
        planned = self._planned(force_id, group_id, uid_key)
        if planned.meeting.starts_at > self._now():
            raise BusinessRefused("who came can be confirmed once the meeting has started")
        members = {m.member_id for m in self._p.members.members(force_id, group_id)}
        if not isinstance(present, list) or not all(isinstance(p, str) for p in present):
            raise BusinessRefused("present must be a list of member ids")
        unknown = sorted(set(present) - members)
        if unknown:
            raise BusinessRefused(f"not members of {group_id}: {', '.join(unknown)}")
        self._p.records.confirm_attendance(force_id, group_id, uid_key, tuple(sorted(set(present))), by, self._now())
        return self.meeting_record(force_id, group_id, uid_key)

    def publish_minutes(self, force_id: str, group_id: str, uid_key: str, text: str, actions: object,
                        by: str) -> dict[str, Any]:
        force, group = self._force_group(force_id, group_id)
        planned = self._planned(force_id, group_id, uid_key)
        text = (text or "").strip()
        if not text or len(text) > 20000:
            raise BusinessRefused("give the minutes' text (up to 20,000 characters)")
        if planned.meeting.starts_at > self._now():
            raise BusinessRefused("minutes are published after the meeting")
        today = self._now().astimezone(LONDON).date()
        count = len(actions) if isinstance(actions, list) else 0
        ids = [f"{uid_key}-{n}" for n in range(1, count + 1)]
        set_actions = actions_from(actions if actions is not None else [], uid_key, today, ids)
        minutes = Minutes(text, self._now(), by, tuple(a.id for a in set_actions))
        if not self._p.records.publish_minutes(force_id, group_id, uid_key, minutes, set_actions):
            raise BusinessRefused("the minutes of this meeting were published already")
        self.tell_minutes(force_id, group_id, uid_key)
        return self.meeting_record(force_id, group_id, uid_key)

    def tell_minutes(self, force_id: str, group_id: str, uid_key: str) -> int:
        """The minutes and their actions to every serving member of the group, once each (the daily run retries)."""
        force, group = self._force_group(force_id, group_id)
        planned = self._planned(force_id, group_id, uid_key)
        minutes = self._p.records.minutes(force_id, group_id, uid_key)
        if minutes is None:
            return 0
        actions = [a for a in self._p.records.actions(force_id, group_id) if a.id in minutes.action_ids]
        lines = [f"- {a.title}: {a.owner_name}, by {a.due_on.day} {a.due_on:%B %Y}"
                 f"{' (feedback to the police)' if a.feedback_to_police else ''}" for a in actions]
        today = self._now().astimezone(LONDON).date()
        sent = 0
        for member in [m for m in self._p.members.members(force_id, group_id) if m.serving(today)]:
            def minutes_to(member: Member = member, minutes: Minutes = minutes) -> EmailMessage:
                return self._message(
                    force, member.email, member.name, f"Minutes: {planned.meeting.title}",
                    f"The minutes of {planned.meeting.title} on {day_at(planned.meeting.starts_at)}:", minutes.text,
                    *(["Actions:", *lines] if lines else ["No actions were set."]),
                    member_links=self._p.member_links(member) if self._p.member_links else None)
            sent += self._send(force_id, group_id, f"minutes-{uid_key}-{member.member_id}", minutes_to)
        return sent

    def remind_actions(self, force_id: str, group_id: str) -> int:
        force, group = self._force_group(force_id, group_id)
        today = self._now().astimezone(LONDON).date()
        every = force.meeting_business.action_reminder_days
        sent = 0
        for action in self._p.records.actions(force_id, group_id):
            key = reminder_due(action, today, every)
            if key is None:
                continue
            overdue = today > action.due_on
            def reminder(action: Action = action, overdue: bool = overdue) -> EmailMessage:
                return self._message(
                    force, action.owner_email, action.owner_name,
                    f"{'Overdue' if overdue else 'Due soon'}: {action.title}",
                    f"An action from the {group.name} is yours: {action.title}.",
                    f"It {'was' if overdue else 'is'} due on {action.due_on.day} {action.due_on:%B %Y}."
                    + (" It is feedback to the police." if action.feedback_to_police else ""),
                    "When it is done, tell the IAG coordinator, who closes it; reminders stop then.")
            sent += self._send(force_id, group_id, key, reminder)
        return sent

    def close_action(self, force_id: str, group_id: str, action_id: str, by: str) -> dict[str, str]:
        self._force_group(force_id, group_id)
        today = self._now().astimezone(LONDON).date()
        if not self._p.records.close_action(force_id, group_id, action_id, today):
            raise LookupError(f"no open action {action_id!r} in {group_id}")
        log.info("action %s/%s closed by %s", group_id, action_id, by)
        return {"action": action_id, "closed_on": today.isoformat()}

    def meeting_record(self, force_id: str, group_id: str, uid_key: str) -> dict[str, Any]:
        self._force_group(force_id, group_id)
        planned = self._planned(force_id, group_id, uid_key)
        records = self._p.records
        minutes = records.minutes(force_id, group_id, uid_key)
        return {
            "meeting": uid_key, "title": planned.meeting.title, "starts_at": planned.meeting.starts_at.isoformat(),
            "online_link": planned.meeting.online_link or None, "cancelled": planned.cancelled,
            "agenda": [{"title": i.title, "proposed_by": i.proposed_by, "proposer": i.proposer}
                       for i in records.agenda(force_id, group_id, uid_key)],
            "papers": [{"filename": p.filename, "title": p.title} for p in records.papers(force_id, group_id, uid_key)],
            "answers": {member: answer.value for member, answer in records.answers(force_id, group_id, uid_key).items()},
            "attended": list(records.attendance(force_id, group_id, uid_key) or ()) or None,
            "minutes": None if minutes is None else {"text": minutes.text, "published_at": minutes.published_at.isoformat(),
                                                     "actions": list(minutes.action_ids)},
            "actions": [{"id": a.id, "title": a.title, "owner": a.owner_name, "due_on": a.due_on.isoformat(),
                         "feedback_to_police": a.feedback_to_police,
                         "closed_on": a.closed_on.isoformat() if a.closed_on else None}
                        for a in records.actions(force_id, group_id) if a.meeting == uid_key],
        }

    # --- the daily run ---

    def daily(self, force_id: str) -> dict[str, int]:
        """Agenda requests, agenda and papers when due, minutes still owed, and action reminders, per group."""
        counts = {"agenda_asked": 0, "papers_sent": 0, "minutes_sent": 0, "actions_reminded": 0}
        force = self._p.forces.require(force_id)
        days_before = force.meeting_business.papers_days_before
        for group in force.groups:
            # One group's or meeting's failure must not stop the others; it is logged and the next day retries.
            self._logged(counts, "agenda_asked", self.ask_for_agenda, force_id, group.id)
            for planned in self._upcoming(force_id, group.id):
                if not planned.cancelled and self._now() >= papers_due(planned, days_before):
                    self._logged(counts, "papers_sent", self.send_papers, force_id, group.id, planned.meeting.uid_key)
            for planned in self._p.meetings.all(force_id, group.id):
                if planned.meeting.ends_at <= self._now() <= planned.meeting.ends_at + timedelta(days=60):
                    self._logged(counts, "minutes_sent", self.tell_minutes, force_id, group.id,
                                 planned.meeting.uid_key)
            self._logged(counts, "actions_reminded", self.remind_actions, force_id, group.id)
        return counts

    @staticmethod
    def _logged(counts: dict[str, int], what: str, step: Callable[..., int], *arguments: str) -> None:
        try:
            counts[what] += step(*arguments)
        except Exception:
            log.exception("meeting business %s %s failed", what, "/".join(arguments))

    # --- helpers ---

    def _holders(self, force_id: str, group_id: str) -> dict[str, tuple[str, str]]:
        """Who holds each role: the panel roles set by operators, and the group's elected chair as its IAG Chair."""
        holders = dict(self._p.panel.panel_members(force_id, group_id))
        if "iag_chair" not in holders:
            today = self._now().astimezone(LONDON).date()
            chair = next((m for m in self._p.members.members(force_id, group_id)
                          if m.role is Role.CHAIR and m.serving(today)), None)
            if chair is not None:
                holders["iag_chair"] = (chair.name, chair.email)
        return holders

    def _open(self, token: str, purpose: Purpose) -> tuple[Link, PlannedMeeting, ForceProfile]:
        link = self._p.links.link(token_hash(token))
        if link is None or link.purpose is not purpose:
            raise LinkRefused(LinkProblem.UNKNOWN)
        problem = problem_with(link, now=self._now(), current_version=None)
        if problem:
            raise LinkRefused(problem)
        group_id, uid_key = link.reference.split("/", 1)
        planned = self._p.meetings.get(link.force_id, group_id, uid_key)
        if planned is None:
            raise LinkRefused(LinkProblem.UNKNOWN)
        return link, planned, self._p.forces.require(link.force_id)

    def _link(self, purpose: Purpose, force_id: str, group_id: str, planned: PlannedMeeting, role: str,
              expires: datetime, path: str) -> str:
        token = new_token(self._p.random_bytes(32))
        self._p.links.add_links([Link(token_hash(token), purpose, force_id, f"{group_id}/{planned.meeting.uid_key}",
                                      role, None, expires)])
        return f"{self._p.base_url}/{path}/{token}"

    def _force_group(self, force_id: str, group_id: str) -> tuple[ForceProfile, Group]:
        force = self._p.forces.get(force_id)
        group = force.group(group_id) if force else None
        if force is None or group is None:
            raise LookupError(f"no group {group_id!r} in {force_id!r}")
        return force, group

    def _planned(self, force_id: str, group_id: str, uid_key: str) -> PlannedMeeting:
        planned = self._p.meetings.get(force_id, group_id, uid_key)
        if planned is None:
            raise LookupError(f"no meeting {uid_key!r} planned for {group_id}")
        return planned

    def _upcoming(self, force_id: str, group_id: str) -> list[PlannedMeeting]:
        now = self._now()
        return [p for p in self._p.meetings.all(force_id, group_id) if p.meeting.ends_at > now]

    def _send(self, force_id: str, group_id: str, kind: str, build: Callable[[], EmailMessage]) -> int:
        try:
            return int(self._p.postbox.email(EmailKey(About("meetings", force_id, group_id), kind), build))
        except Exception:  # noqa: BLE001 (send_once logged it and released the claim; the daily run retries)
            return 0

    def _message(self, force: ForceProfile, to: str, name: str, subject: str, *paragraphs: str,
                 action: Optional[tuple[str, str]] = None,
                 member_links: Optional[dict[str, str]] = None) -> EmailMessage:
        return member_email(self._p.render, force, to, name, subject, *paragraphs, action=action,
                            member_links=member_links)

    def _now(self) -> datetime:
        return self._p.clock.now()
