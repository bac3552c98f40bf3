"""Arranging the twice-yearly Strategic IAG meeting, as a cycle kept in DynamoDB.

`advance` does whatever is due and returns; the `strategic-iag` flow runs it on a schedule and whenever a
person answers, so no process waits on people. Steps: ask each local IAG's chair for nominees (one link per
group); once every group has answered or nominations close, poll each nominee and the senior representatives
over the candidate dates; once all have answered or the poll closes, choose the date (`slots.choose_slot`)
and send invitations with an .ics, asking the arranging officer and the chair for the agenda, or, without a
quorum, send the arranging officer the options instead of picking one.

Links follow the person, not the role (as review links do): a senior representative's availability link and a
local chair's nomination link name a hash of the holder's address, stop working when the role changes hands, and
the new holder is sent their own (`role_changed`, called by RoleService whichever way the role changed hands).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Callable, Optional, Protocol
from zoneinfo import ZoneInfo

from chalicelib.domain.membership import Member, Role
from chalicelib.domain.links import Link, LinkProblem, Purpose, new_token, problem_with, token_hash
from chalicelib.domain.roles import person
from chalicelib.domain.forces import ForceProfile, Group, GroupKind
from chalicelib.domain.meetings import Meeting, upcoming
from chalicelib.domain.slots import SlotChoice, choose_slot
from chalicelib.domain.strategic import (
    Cycle, Nominee, Status, candidate_slots, chair_not_nominated, cycle_id, invitees, local_groups,
    strategic_group,
)
from chalicelib.domain.role_titles import role_words
from chalicelib.services import role_notices
from chalicelib.services.joining_mail import day_at
from chalicelib.services.events import TroubleSeen
from chalicelib.services.outbox import About, EmailKey, Postbox
from chalicelib.services.ports import (
    Attachment, Clock, EmailMessage, ForceCatalogue, LinkConflict, RandomSource, Workflow,
)
from chalicelib.services.refusals import LinkRefused

log = logging.getLogger(__name__)

LONDON = ZoneInfo("Europe/London")
STRATEGIC_DEPLOYMENT = "strategic-iag/strategic-iag"
NOMINATION_DAYS, POLL_DAYS, CANDIDATES = 14, 10, 4
LEAD_TIME = timedelta(days=NOMINATION_DAYS + POLL_DAYS + 14)  # time to nominate, poll, and give notice
NOMINATED_BY = "iag_chair"  # the local IAG role asked for its nominees: the chair's panel role


class StrategicRefused(ValueError):
    """What was sent cannot be acted on; nothing was changed."""


class CycleStore(Protocol):
    """The Strategic IAG cycles (DynamoStrategicStore)."""

    def add_cycle(self, cycle: Cycle) -> bool: ...

    def answer(self, link: Link, person_id: str, available: list[datetime], at: datetime) -> None: ...

    def availability(self, force_id: str, cycle_id: str) -> dict[str, set[datetime]]: ...

    def cycle(self, force_id: str, cycle_id: str) -> Optional[Cycle]: ...

    def move(self, cycle: Cycle, to: Status, chosen: Optional[datetime] = None) -> bool: ...

    def nominate(self, link: Link, group_id: str, nominees: list[Nominee], at: datetime) -> None: ...

    def nominations(self, force_id: str, cycle_id: str) -> dict[str, list[Nominee]]: ...

    def open_cycles(self, force_id: str) -> list[str]: ...

    def unlist(self, cycle: Cycle) -> None: ...

    def recent_cycles(self, force_id: str, limit: int = 6) -> list[Cycle]: ...

    def schedule_by_hand(self, cycle: Cycle, chosen: datetime) -> bool: ...


class Members(Protocol):
    """Members of each group (DynamoJoiningStore)."""

    def add_member(self, member: Member) -> bool: ...

    def member(self, force_id: str, member_id: str, group_id: str) -> Optional[Member]: ...

    def members(self, force_id: str, group_id: str) -> list[Member]: ...

    def set_active(self, member: Member, active: bool) -> None: ...


class People(Protocol):
    """Panel members and links (DynamoReviewStore)."""

    def add_links(self, links: list[Link]) -> None: ...

    def link(self, token_hash: str) -> Optional[Link]: ...

    def panel_members(self, force_id: str, group_id: str) -> dict[str, tuple[str, str]]: ...


@dataclass(frozen=True)
class StrategicParts:
    forces: ForceCatalogue
    members: Members
    people: People
    store: CycleStore
    postbox: Postbox  # every email goes through its send_once
    render: Callable[..., str]
    clock: Clock
    random_bytes: RandomSource
    base_url: str
    workflow: Workflow
    holidays: Callable[[list[int]], frozenset[date]]  # years -> bank holidays to avoid
    calendar_file: Callable[..., bytes]  # meetings -> an .ics file
    # (force, group, member id) -> that member's step-down and details links, which every member email carries
    member_links: Optional[Callable[[str, str, str], dict[str, str]]] = None


class StrategicService:
    def __init__(self, parts: StrategicParts):
        self._p = parts
        # Emails that failed in this pass (per thread: one service serves a whole flow process): a decided
        # cycle stays listed until none do.
        self._pass = threading.local()

    # --- the schedule ---

    def start_cycle(self, force_id: str) -> Optional[Cycle]:
        """Open the cycle for the strategic group's next meeting far enough ahead; None if there is nothing to do."""
        force = self._p.forces.require(force_id)
        group = strategic_group(force)
        if group is None:
            return None
        now = self._now()
        avoid = self._p.holidays([now.year, now.year + 1])
        found = upcoming(force.id, group.id, group.name, group.meetings[0], after=now + LEAD_TIME, count=1,
                         avoid=avoid)
        if not found:
            log.error("%s: the strategic group's meetings have no day set in the profile", force_id)
            return None
        meeting = found[0]
        cycle = Cycle(cycle_id(group, meeting), force.id, group.id, Status.NOMINATING, meeting,
                      candidate_slots(meeting, CANDIDATES, avoid), now + timedelta(days=NOMINATION_DAYS),
                      now + timedelta(days=NOMINATION_DAYS + POLL_DAYS))
        return cycle if self._p.store.add_cycle(cycle) else self._p.store.cycle(force.id, cycle.id)

    def open_cycles(self, force_id: str) -> list[str]:
        return self._p.store.open_cycles(force_id)

    # --- the operator ---

    def cycles(self, force_id: str) -> list[Cycle]:
        """The open cycles and the latest decided ones, for the console."""
        return self._p.store.recent_cycles(force_id)

    def follow(self, force_id: str, cycle_id_: str) -> dict[str, Any]:
        """Where a cycle stands: which local IAGs have nominated, who has answered the poll, the date."""
        cycle = self._p.store.cycle(force_id, cycle_id_)
        if cycle is None:
            raise LookupError(f"no Strategic IAG cycle {cycle_id_!r}")
        force = self._p.forces.require(force_id)
        nominated = self._p.store.nominations(force_id, cycle.id)
        answered = self._p.store.availability(force_id, cycle.id)
        return {"cycle": cycle, "groups": [(g, [n.name for n in nominated.get(g.id, [])]) for g in local_groups(force)],
                "answered": len(answered),
                "slots": [(slot, sum(slot in chosen for chosen in answered.values())) for slot in cycle.slots]}

    def set_date(self, force_id: str, cycle_id_: str, slot: datetime) -> Cycle:
        """When no date had a quorum, the arranging officer's choice among the dates offered: nominees are seated
        and everyone is invited, as for a date the poll chose."""
        cycle = self._p.store.cycle(force_id, cycle_id_)
        if cycle is None:
            raise LookupError(f"no Strategic IAG cycle {cycle_id_!r}")
        if cycle.status is not Status.NO_QUORUM:
            raise StrategicRefused("a date is set by hand only when no date had a quorum")
        if slot not in cycle.slots or slot <= self._now():
            raise StrategicRefused("choose one of the dates offered that is still to come")
        if not self._p.store.schedule_by_hand(cycle, slot):
            raise StrategicRefused("the cycle was changed by someone else meanwhile; look again")
        self.advance(force_id, cycle.id)  # invitations now; the hourly run retries any that fail
        return self._p.store.cycle(force_id, cycle.id) or cycle

    def advance(self, force_id: str, cycle_id_: str) -> str:
        self._pass.failures = 0
        for _ in range(3):  # nominating -> polling -> decided, at most
            cycle = self._p.store.cycle(force_id, cycle_id_)
            if cycle is None:
                return "missing"
            if cycle.status is Status.NOMINATING:
                if not self._nominating(cycle):
                    break
            elif cycle.status is Status.POLLING:
                if not self._polling(cycle):
                    break
            else:
                self._finish(cycle)
                break
        cycle = self._p.store.cycle(force_id, cycle_id_)
        return cycle.status.value if cycle else "missing"

    def _finish(self, cycle: Cycle) -> None:
        """Send what the decision owes; the cycle stays listed (and is retried hourly) until all of it has gone."""
        force = self._p.forces.require(cycle.force_id)
        choice, nominees = self._choice(cycle)
        if cycle.status is Status.SCHEDULED:
            self._seat_nominees(force, cycle, nominees)
            self._invite(force, cycle, self._invited(cycle))
        else:
            self._report_no_quorum(force, cycle, choice)
        if not self._pass.failures:
            self._p.store.unlist(cycle)

    def _choice(self, cycle: Cycle) -> tuple[SlotChoice, list[Nominee]]:
        force = self._p.forces.require(cycle.force_id)
        group = force.require_group(cycle.group_id)
        answered = self._p.store.availability(force.id, cycle.id)
        nominees = [n for group_nominees in self._p.store.nominations(force.id, cycle.id).values()
                    for n in group_nominees]
        senior = list(group.composition.get("senior_representatives", []))
        choice = choose_slot(cycle.slots, invitees(nominees, senior),
                             {p: {s: s in slots for s in cycle.slots} for p, slots in answered.items()},
                             required_groups={g.id for g in local_groups(force)},
                             required_roles={group.composition["arranged_by"]})
        return choice, nominees

    def _nominating(self, cycle: Cycle) -> bool:
        force = self._p.forces.require(cycle.force_id)
        nominated = self._p.store.nominations(force.id, cycle.id)
        groups = local_groups(force)
        for group in groups:
            if group.id in nominated:
                continue
            chair = self._p.people.panel_members(force.id, group.id).get(NOMINATED_BY)
            if chair is None:
                self._role_empty(force, cycle, group.id, NOMINATED_BY, group.name,
                                 f"The nominations to the {force.require_group(cycle.group_id).name}")
                continue
            self._ask_for_nominees(force, cycle, group, chair[0], chair[1])
        if len(nominated) < len(groups) and self._now() < cycle.nominations_close:
            return False
        return self._p.store.move(cycle, Status.POLLING)

    def _ask_for_nominees(self, force: ForceProfile, cycle: Cycle, group: Group, name: str, email: str) -> int:
        """Ask a local IAG's chair for its nominees (and remind them later); returns the emails sent now.

        The link names the person holding the chair's role, and the email is kept once per holder, so a new chair
        is asked afresh and the previous chair's link is refused (`open`)."""
        holder = person(email)
        strategic_name = force.require_group(cycle.group_id).name
        sent = 0
        for reminder in self._rounds(cycle.nominations_close, NOMINATION_DAYS):
            def nominate(reminder: str = reminder) -> EmailMessage:
                return self._message(
                    email, f"{'Reminder: ' if reminder else ''}Nominate your IAG's representatives to the "
                           f"{strategic_name}",
                    "email/strategic_nominate", force=force, cycle=cycle, group=group, name=name, when=day_at,
                    url=self._link(cycle, Purpose.NOMINATION, group.id, cycle.nominations_close, "nominate", holder),
                    count=force.require_group(cycle.group_id).composition["nominees_per_local_group"],
                    member_links=self._links_of_holder(force.id, group.id, email))
            sent += self._once(cycle, f"nominate-{group.id}-to-{holder[:12]}{reminder}", nominate)
        return sent

    def _polling(self, cycle: Cycle) -> bool:
        force = self._p.forces.require(cycle.force_id)
        group = force.require_group(cycle.group_id)
        people = self._invited(cycle)
        nominee_groups = self._nominee_groups(cycle)
        answered = self._p.store.availability(force.id, cycle.id)
        for person_id, (name, email) in people.items():
            if person_id not in answered:
                self._poll(force, group, cycle, person_id, name, email, nominee_groups.get(person_id))
        if len(answered) < len(people) and self._now() < cycle.poll_close:
            return False
        choice, _ = self._choice(cycle)
        if not choice.quorate:
            return self._p.store.move(cycle, Status.NO_QUORUM)
        return self._p.store.move(cycle, Status.SCHEDULED, chosen=choice.slot)

    def _poll(self, force: ForceProfile, group: Group, cycle: Cycle, person_id: str, name: str, email: str,
              nominee_group: Optional[str] = None) -> int:
        """Ask one person for their dates (and remind them later); returns the emails sent now.

        A senior representative (`person_id` is the role) is asked as the person holding the role: the link names
        them, and the email is kept once per holder, so a new holder is asked afresh.
        """
        senior = person_id in group.composition.get("senior_representatives", [])
        holder = person(email) if senior else ""
        sent = 0
        for reminder in self._rounds(cycle.poll_close, POLL_DAYS):
            def poll(reminder: str = reminder) -> EmailMessage:
                return self._message(email, f"{'Reminder: ' if reminder else ''}{group.name}: which dates can you "
                                            f"make?", "email/strategic_poll", force=force, cycle=cycle, group=group,
                                     name=name, when=day_at, url=self._link(cycle, Purpose.AVAILABILITY, person_id,
                                                                           cycle.poll_close, "availability", holder),
                                     member_links=self._links_of(force.id, nominee_group, person_id))
            sent += self._once(cycle, f"poll-{person_id}{'-to-' + holder[:12] if senior else ''}{reminder}", poll)
        return sent

    def role_changed(self, force_id: str, scope: str, role: str, email: str) -> int:
        """A role changed hands (RoleService): its new holder is sent what waits for the role in the open cycles;
        returns the emails sent. The previous holder's links already refuse them (`open`)."""
        force = self._p.forces.require(force_id)
        group = force.group(scope)
        if group is None:
            return 0
        if role == NOMINATED_BY and group.kind is GroupKind.LOCAL:
            return self.local_chair_changed(force_id, scope)
        return self.senior_representative_changed(force_id, scope, role)

    def local_chair_changed(self, force_id: str, group_id: str) -> int:
        """The new chair of a local IAG is asked for its nominees in every open cycle still taking nominations
        that the group has not answered; a cycle past its nominations sends nothing."""
        force = self._p.forces.require(force_id)
        group = force.require_group(group_id)
        held = self._p.people.panel_members(force_id, group_id).get(NOMINATED_BY)
        if held is None:
            return 0
        sent = 0
        for open_id in self._p.store.open_cycles(force_id):
            cycle = self._p.store.cycle(force_id, open_id)
            if cycle is None or cycle.status is not Status.NOMINATING or self._now() >= cycle.nominations_close:
                continue
            if group_id not in self._p.store.nominations(force_id, open_id):
                sent += self._ask_for_nominees(force, cycle, group, held[0], held[1])
        return sent

    def senior_representative_changed(self, force_id: str, group_id: str, role: str) -> int:
        """The new holder of a senior representative's role is asked for their dates in every open poll of the
        group that the role has not answered."""
        force = self._p.forces.require(force_id)
        group = force.require_group(group_id)
        held = self._p.people.panel_members(force_id, group_id).get(role)
        if held is None or role not in group.composition.get("senior_representatives", []):
            return 0
        sent = 0
        for open_id in self._p.store.open_cycles(force_id):
            cycle = self._p.store.cycle(force_id, open_id)
            if cycle is None or cycle.group_id != group_id or cycle.status is not Status.POLLING:
                continue
            if role not in self._p.store.availability(force_id, open_id):
                sent += self._poll(force, group, cycle, role, held[0], held[1])
        return sent

    def _invite(self, force: ForceProfile, cycle: Cycle, people: dict[str, tuple[str, str]]) -> None:
        group = force.require_group(cycle.group_id)
        chosen = cycle.chosen
        if chosen is None:
            raise ValueError(f"{cycle.id}: invitations before a date was chosen")
        length = cycle.meeting.ends_at - cycle.meeting.starts_at
        meeting = Meeting(f"{force.id}.{group.id}.{chosen:%Y-%m-%d}", cycle.meeting.title, chosen,
                          chosen + length, cycle.meeting.venue, cycle.meeting.online_option)
        ics = self._p.calendar_file([meeting], calendar_name=group.name, method="REQUEST",
                                    organiser_email=force.contacts["iag_coordinator"].email)
        nominee_groups = self._nominee_groups(cycle)
        for person_id, (name, email) in people.items():
            def invitation(person_id: str = person_id, name: str = name, email: str = email) -> EmailMessage:
                return self._message(
                    email, f"{group.name}: {day_at(chosen)}", "email/strategic_invite", force=force, cycle=cycle,
                    group=group, name=name, when=day_at, attachments=(
                        Attachment(f"{group.id}-{chosen:%Y-%m-%d}.ics", "text/calendar; method=REQUEST", ics),),
                    member_links=self._links_of(force.id, nominee_groups.get(person_id), person_id))
            self._once(cycle, f"invite-{person_id}", invitation)
        agenda_by = [r for r in group.meetings[0].agenda_by]
        seniors = self._p.people.panel_members(force.id, group.id)
        for role in agenda_by:
            if role in seniors:
                def agenda(role: str = role) -> EmailMessage:
                    return self._message(
                        seniors[role][1], f"{group.name} on {day_at(chosen)}: the agenda",
                        "email/strategic_agenda", force=force, cycle=cycle, group=group, name=seniors[role][0],
                        role=role_words(role), when=day_at,
                        member_links=self._links_of_holder(force.id, group.id, seniors[role][1]))
                self._once(cycle, f"agenda-{role}", agenda)

    def _seat_nominees(self, force: ForceProfile, cycle: Cycle, nominees: list[Nominee]) -> None:
        """Nominees join the strategic group (role strategic_nominee), so it can elect its own chair."""
        chosen = {n.member_id for n in nominees}
        for seated in self._p.members.members(force.id, cycle.group_id):
            if seated.role is Role.STRATEGIC_NOMINEE and seated.active and seated.member_id not in chosen:
                self._p.members.set_active(seated, False)  # last cycle's nominee, not sent again
        for nominee in nominees:
            member = self._p.members.member(force.id, nominee.member_id, nominee.group_id)
            if member is not None:
                seat = replace(member, group_id=cycle.group_id, role=Role.STRATEGIC_NOMINEE, active=True)
                if not self._p.members.add_member(seat):
                    self._p.members.set_active(seat, True)

    def _report_no_quorum(self, force: ForceProfile, cycle: Cycle, choice: SlotChoice) -> None:
        group = force.require_group(cycle.group_id)
        arranging = group.composition["arranged_by"]
        person = self._p.people.panel_members(force.id, group.id).get(arranging)
        to = person[1] if person else force.contacts["iag_coordinator"].address()
        names = {g.id: g.name for g in force.groups}
        options = [(o.slot, o.attendance, [names[g] for g in sorted(o.missing_groups)]
                    + [role_words(r) for r in sorted(o.missing_roles)]) for o in choice.options]
        self._once(cycle, "no-quorum", lambda: self._message(
            to, f"{group.name}: no date has a quorum", "email/strategic_no_quorum", force=force, cycle=cycle,
            group=group, options=options, when=day_at))
        self._p.postbox.announce(TroubleSeen(
            force.id, "no-quorum", cycle.id, f"the {group.name} cycle {cycle.id} found no date with a quorum",
            "The arranging officer has the options by email; set the date by hand (console: Strategic IAG, "
            "or the admin API) once it is agreed."))

    def _rounds(self, closes: datetime, days: int) -> list[str]:
        """The request, then a reminder (with a fresh link) once half the time has gone without an answer."""
        return ["", "-reminder"] if self._now() >= closes - timedelta(days=days / 2) else [""]

    def _invited(self, cycle: Cycle) -> dict[str, tuple[str, str]]:
        """person id -> (name, email): every nominee, and each senior representative the force has recorded."""
        force = self._p.forces.require(cycle.force_id)
        group = force.require_group(cycle.group_id)
        people = {n.member_id: (n.name, n.email) for nominees in self._p.store.nominations(force.id, cycle.id).values()
                  for n in nominees}
        recorded = self._p.people.panel_members(force.id, group.id)
        for role in group.composition.get("senior_representatives", []):
            if role in recorded:
                people[role] = recorded[role]
            else:
                self._role_empty(force, cycle, group.id, role, group.name, f"The {group.name}'s meeting")
        return people

    # --- people, through links ---

    def open(self, token: str, purpose: Purpose) -> tuple[Link, Cycle]:
        link = self._p.people.link(token_hash(token))
        if link is None or link.purpose is not purpose:
            raise LinkRefused(LinkProblem.UNKNOWN)
        problem = problem_with(link, now=self._now(), current_version=None)
        if problem:
            raise LinkRefused(problem)
        cycle = self._p.store.cycle(link.force_id, link.reference)
        expected = Status.NOMINATING if purpose is Purpose.NOMINATION else Status.POLLING
        if cycle is None or cycle.status is not expected:
            raise LinkRefused(LinkProblem.SUPERSEDED)
        if link.holder:  # sent to whoever held a role then: only they may use it
            # A nomination link is the chair's of the local group it names; an availability link, a role's of the
            # strategic group.
            scope, role = (link.role, NOMINATED_BY) if purpose is Purpose.NOMINATION else (cycle.group_id, link.role)
            held = self._p.people.panel_members(link.force_id, scope).get(role)
            if held is None or person(held[1]) != link.holder:
                raise LinkRefused(LinkProblem.SUPERSEDED)
        return link, cycle

    def group_members(self, link: Link) -> list[Member]:
        today = self._now().astimezone(LONDON).date()
        return [m for m in self._p.members.members(link.force_id, link.role) if m.serving(today)]

    def nominate(self, token: str, member_ids: list[str]) -> Cycle:
        link, cycle = self.open(token, Purpose.NOMINATION)
        force = self._p.forces.require(cycle.force_id)
        wanted = force.require_group(cycle.group_id).composition["nominees_per_local_group"]
        members = {m.member_id: m for m in self.group_members(link)}
        chosen = list(dict.fromkeys(member_ids))
        if len(chosen) != wanted or any(m not in members for m in chosen):
            raise StrategicRefused(f"Choose {wanted} members of your IAG")
        chair = next((m.member_id for m in members.values() if m.role is Role.CHAIR), None)
        refused = chair_not_nominated(force.require_group(cycle.group_id).composition, chosen, chair)
        if refused:
            raise StrategicRefused(refused)
        nominees = [Nominee(m, members[m].name, members[m].email, link.role) for m in chosen]
        self._write(lambda: self._p.store.nominate(link, link.role, nominees, self._now()))
        self._nudge(cycle, f"nominated-{link.role}")
        return cycle

    def answer(self, token: str, available: list[str]) -> Cycle:
        link, cycle = self.open(token, Purpose.AVAILABILITY)
        offered = {s.isoformat(): s for s in cycle.slots}
        if any(a not in offered for a in available):
            raise StrategicRefused("Choose from the dates offered")
        self._write(lambda: self._p.store.answer(link, link.role, [offered[a] for a in available], self._now()))
        self._nudge(cycle, f"answered-{link.role}")
        return cycle

    # --- helpers ---

    def _nudge(self, cycle: Cycle, why: str) -> None:
        """A run to move the cycle on now; the hourly schedule does it anyway if Prefect is away."""
        try:
            self._p.workflow.start(STRATEGIC_DEPLOYMENT, name=f"{cycle.id}-{why}",
                                   parameters={"force_id": cycle.force_id, "cycle_id": cycle.id},
                                   tags=[f"force:{cycle.force_id}", "strategic"], idempotency_key=f"{cycle.id}:{why}")
        except Exception:  # noqa: BLE001 (any failure here is made good by the schedule)
            log.warning("%s: could not start a run after %s; the schedule will move it on", cycle.id, why)

    @staticmethod
    def _write(write: Callable[[], object]) -> None:
        try:
            write()
        except LinkConflict:
            raise LinkRefused(LinkProblem.USED) from None

    def _role_empty(self, force: ForceProfile, cycle: Cycle, scope: str, role: str, where: str, waiting: str) -> None:
        """The coordinator is emailed (once a cycle and role), not only a log line: the cycle cannot go on."""
        try:
            role_notices.role_empty(self._p.postbox, self._p.render, force, EmailKey(
                About("cycle", cycle.force_id, cycle.id), f"role-empty-{scope}-{role}"), role, f"the {where}", waiting)
        except Exception:  # noqa: BLE001 (as _once: the next run retries)
            self._pass.failures = getattr(self._pass, "failures", 0) + 1

    def _once(self, cycle: Cycle, kind: str, build: Callable[[], EmailMessage]) -> int:
        """1 if the email went now, 0 if it had gone before (or failed: the next run retries)."""
        try:
            return int(bool(self._p.postbox.email(EmailKey(About("cycle", cycle.force_id, cycle.id), kind), build)))
        except Exception:  # noqa: BLE001 (one address failing must not hold up everyone else; the next run retries)
            self._pass.failures = getattr(self._pass, "failures", 0) + 1
            return 0

    def _nominee_groups(self, cycle: Cycle) -> dict[str, str]:
        """member id -> the local group each nominee serves in (senior representatives are not members)."""
        return {n.member_id: n.group_id for nominees in self._p.store.nominations(cycle.force_id, cycle.id).values()
                for n in nominees}

    def _links_of(self, force_id: str, group_id: Optional[str], member_id: str) -> Optional[dict[str, str]]:
        """A member's step-down and details links; None for someone who is not a serving member (an officer)."""
        if self._p.member_links is None or group_id is None:
            return None
        member = self._p.members.member(force_id, member_id, group_id)
        if member is None or not member.active:
            return None
        return self._p.member_links(force_id, group_id, member_id)

    def _links_of_holder(self, force_id: str, group_id: str, email: str) -> Optional[dict[str, str]]:
        """The links of the group's member who holds a panel role (e.g. its chair), found by address."""
        for member in self._p.members.members(force_id, group_id):
            if member.active and member.email.strip().lower() == email.strip().lower():
                return self._links_of(force_id, group_id, member.member_id)
        return None

    def _link(self, cycle: Cycle, purpose: Purpose, role: str, expires: datetime, path: str,
              holder: str = "") -> str:
        token = new_token(self._p.random_bytes(32))
        self._p.people.add_links([Link(token_hash(token), purpose, cycle.force_id, cycle.id, role, None, expires,
                                       holder=holder)])
        return f"{self._p.base_url}/{path}/{token}"

    def _message(self, to: str, subject: str, template: str, attachments: tuple[Attachment, ...] = (),
                 **context: Any) -> EmailMessage:
        return EmailMessage(to=to, subject=subject, text=self._p.render(f"{template}.txt", **context),
                            html=self._p.render(f"{template}.html", **context), attachments=attachments,
                            force_id=context["force"].id)

    def _now(self) -> datetime:
        return self._p.clock.now()
