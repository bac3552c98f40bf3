"""Critical-incident call-outs: an operator raises an incident, each member who can be called gets a link to
answer once, the police lead watches the answers on a page and gets a summary when the window closes.

The emails are sent by the incident's flow run (`critical-incident`), each once (services/outbox.py); the
summary is sent once, by the run when woken at the window's end, or by reconciliation if the run is lost.
"""
from __future__ import annotations

import logging
import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Optional, Protocol
from zoneinfo import ZoneInfo

from chalicelib.domain.callouts import ANSWER_WORDS, Answer, Incident, Response, can_be_called, groups_called, tally
from chalicelib.domain.links import Link, LinkProblem, Purpose, new_token, problem_with, token_hash
from chalicelib.services.joining_mail import day_at
from chalicelib.services.outbox import About, EmailKey, Postbox
from chalicelib.services.ports import (
    Clock, EmailMessage, ForceCatalogue, GroupMembers, LinkConflict, RandomSource, Workflow, WorkflowUnavailable,
)
from chalicelib.services.refusals import LinkRefused

log = logging.getLogger(__name__)

LONDON = ZoneInfo("Europe/London")
CALLOUT_DEPLOYMENT = "critical-incident/critical-incident"
LEAD = "police_lead"
LEAD_VIEW_DAYS = 7  # the police lead's page stays readable this long after the window closes
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_NOTE = 500


class CalloutRefused(ValueError):
    """The request cannot be acted on; nothing was changed."""


class CalloutClosed(CalloutRefused):
    """The call-out's window has already ended."""


class IncidentStore(Protocol):
    """Incidents and the answers to them (DynamoCalloutStore)."""

    def add_incident(self, incident: Incident, asked: list[tuple[Response, str]]) -> None: ...

    def incident(self, force_id: str, incident_id: str) -> Optional[Incident]: ...

    def incidents(self, force_id: str, limit: int = 20) -> list[Incident]: ...

    def record_answer(self, link: Link, incident_id: str, member_id: str, answer: Answer, note: str,
                      at: datetime) -> None: ...

    def responses(self, force_id: str, incident_id: str) -> list[tuple[Response, str]]: ...

    def summary_sent(self, force_id: str, incident_id: str) -> bool: ...

    def close(self, force_id: str, incident_id: str, at: datetime) -> bool:
        """End the response window at `at`; False if it had already ended."""


class CalloutLinks(Protocol):
    """Single-use links (DynamoReviewStore)."""

    def add_links(self, links: list[Link]) -> None: ...

    def link(self, token_hash: str) -> Optional[Link]: ...


@dataclass(frozen=True)
class CalloutParts:
    forces: ForceCatalogue
    members: GroupMembers
    store: IncidentStore
    links: CalloutLinks
    postbox: Postbox  # every email goes through its send_once
    render: Callable[..., str]
    clock: Clock
    random_bytes: RandomSource
    base_url: str
    workflow: Workflow
    # (force, group, member) -> the member's own links (step down, details) for the email's footer; None: none.
    member_links: Optional[Callable[[str, str, str], dict[str, str]]] = None


class CalloutService:
    def __init__(self, parts: CalloutParts):
        self._p = parts

    # --- the operator ---

    def raise_incident(self, force_id: str, *, title: str, summary: str, respond_within: timedelta,
                       police_lead_name: str, police_lead_email: str, raised_by: str,
                       groups: Optional[list[str]] = None) -> Incident:
        force = self._p.forces.get(force_id)
        if force is None:
            raise CalloutRefused(f"no force {force_id!r}")
        if not title.strip() or not summary.strip():
            raise CalloutRefused("give the incident a title and a summary for members")
        if not timedelta(minutes=15) <= respond_within <= timedelta(days=7):
            raise CalloutRefused("the response window must be between 15 minutes and 7 days")
        if not police_lead_name.strip() or not EMAIL.match(police_lead_email.strip()):
            raise CalloutRefused("name the police lead and give their email address")
        try:
            group_ids = groups_called(force, groups)
        except ValueError as error:
            raise CalloutRefused(str(error)) from None
        if not group_ids:
            raise CalloutRefused(f"none of those groups of {force.name} is called for incidents")
        now = self._now()
        today = now.astimezone(LONDON).date()
        asked = list({m.member_id: (Response(m.member_id, m.group_id, m.name), m.email)  # once, if in two groups
                      for group_id in reversed(group_ids) for m in self._p.members.members(force_id, group_id)
                      if can_be_called(force, m, today)}.values())
        if not asked:
            raise CalloutRefused("nobody in those groups can be called (active, screened where required, "
                                 "agreement signed)")
        incident = Incident(f"INC-{now.astimezone(LONDON):%Y%m%d}-{self._p.random_bytes(4).hex().upper()}",
                            force_id, title.strip(), summary.strip(), group_ids, now, now + respond_within,
                            police_lead_name.strip(), police_lead_email.strip(), raised_by)
        self._p.store.add_incident(incident, asked)
        try:
            self._p.workflow.start(CALLOUT_DEPLOYMENT, name=incident.id,
                                   parameters={"force_id": force_id, "incident_id": incident.id},
                                   tags=[f"force:{force_id}", "incident"], idempotency_key=f"incident:{incident.id}")
        except WorkflowUnavailable:
            log.warning("incident %s: Prefect unreachable, asking members from here", incident.id)
            self.ask_members(force_id, incident.id)
        return incident

    def incidents(self, force_id: str, limit: int = 20) -> list[Incident]:
        """The force's recent incidents, newest first."""
        return self._p.store.incidents(force_id, limit)

    def follow(self, force_id: str, incident_id: str) -> tuple[Incident, list[Response]]:
        """An incident and the answers so far (available first), for its coordinator."""
        incident = self._p.store.incident(force_id, incident_id)
        if incident is None:
            raise LookupError(f"no incident {incident_id!r}")
        return incident, _ordered([r for r, _ in self._p.store.responses(force_id, incident_id)])

    def close(self, force_id: str, incident_id: str) -> Incident:
        """End the window now (enough people have answered, or the incident is over): members' links stop
        working, and the police lead gets the summary (through the incident's run, or from here)."""
        incident, _ = self.follow(force_id, incident_id)
        now = self._now()
        if incident.respond_by <= now or not self._p.store.close(force_id, incident_id, now):
            raise CalloutClosed("this call-out has already closed")
        try:
            run_id = self._p.workflow.find_run(incident_id)
            if run_id and self._p.workflow.resume(run_id, {"reason": "closed by an operator"}):
                return self._p.store.incident(force_id, incident_id) or incident
        except WorkflowUnavailable:
            pass
        # No run to wake: send the summary here (once); reconciliation retries it if this send fails.
        with suppress(Exception):
            self.send_summary(force_id, incident_id)
        return self._p.store.incident(force_id, incident_id) or incident

    # --- the incident's flow run ---

    def ask_members(self, force_id: str, incident_id: str) -> int:
        """Email each member asked (once) and the police lead (once); returns how many members were emailed."""
        incident = self._p.store.incident(force_id, incident_id)
        force = self._p.forces.require(force_id)
        sent = 0
        if incident is None or self._now() >= incident.respond_by:
            return 0  # links would already be dead
        self._p.postbox.email(_email(incident, "lead_told"), lambda: self._message(
            incident.police_lead_email, f"Call-out {incident.id}: answers as they arrive", "email/callout_lead",
            force=force, incident=incident,
            url=self._link(incident, LEAD, incident.respond_by + timedelta(days=LEAD_VIEW_DAYS), "incident"),
            asked=len(self._p.store.responses(force_id, incident_id)), when=day_at))
        for response, email in self._p.store.responses(force_id, incident_id):
            if response.answer:
                continue

            def request(response: Response = response, email: str = email) -> EmailMessage:
                return self._message(email, f"Call-out: {incident.title}", "email/callout", force=force,
                                     incident=incident, name=response.name,
                                     url=self._link(incident, response.member_id, incident.respond_by, "callout"),
                                     when=day_at, group=force.group(response.group_id),
                                     member_links=self._p.member_links(force_id, response.group_id, response.member_id)
                                     if self._p.member_links else None)
            # One member failing must not stop the others being asked; send_once logged it, reconciliation retries.
            with suppress(Exception):
                sent += self._p.postbox.email(_email(incident, f"request-{response.member_id}"), request)
        return sent

    def send_summary(self, force_id: str, incident_id: str) -> bool:
        """Once the window has closed: the answers to the police lead, once. False if not yet due or sent."""
        incident = self._p.store.incident(force_id, incident_id)
        if incident is None or self._now() < incident.respond_by:
            return False

        def summary() -> EmailMessage:
            responses = [r for r, _ in self._p.store.responses(force_id, incident_id)]
            return self._message(incident.police_lead_email, f"Call-out {incident.id} closed: who can help",
                                 "email/callout_summary", force=self._p.forces.require(force_id), incident=incident,
                                 responses=_ordered(responses), counts=tally(responses), words=ANSWER_WORDS,
                                 when=day_at)
        return self._p.postbox.email(_email(incident, "summary_sent"), summary)

    def due(self, force_id: str, incidents: Optional[list[Incident]] = None) -> list[str]:
        """Recent incidents whose window has closed and whose summary has not gone."""
        now = self._now()
        return [i.id for i in (self._p.store.incidents(force_id) if incidents is None else incidents)
                if i.respond_by <= now and not self._p.store.summary_sent(force_id, i.id)]

    def reconcile(self, force_id: str) -> dict[str, Any]:
        """Ask anyone not yet asked while a window is open; at its end wake the incident's run, or send the summary
        here if it cannot be woken."""
        counts = {"woken": 0, "summaries": 0, "asked": 0}
        now = self._now()
        incidents = self._p.store.incidents(force_id)  # read once: a pass at rest costs one Query
        for incident in incidents:
            if incident.respond_by > now:
                counts["asked"] += self.ask_members(force_id, incident.id)
        for incident_id in self.due(force_id, incidents):
            try:
                run_id = self._p.workflow.find_run(incident_id)
                if run_id and self._p.workflow.resume(run_id, {"reason": "window closed"}):
                    counts["woken"] += 1
                    continue
            except WorkflowUnavailable:
                pass
            counts["summaries"] += int(self.send_summary(force_id, incident_id))
        return counts

    # --- people, through links ---

    def open(self, token: str, *, lead: bool = False) -> tuple[Link, Incident, list[Response]]:
        link = self._p.links.link(token_hash(token))
        if link is None or link.purpose is not Purpose.CALLOUT or (link.role == LEAD) is not lead:
            raise LinkRefused(LinkProblem.UNKNOWN)
        problem = problem_with(link, now=self._now(), current_version=None)
        if problem:
            raise LinkRefused(problem)
        incident_id = link.reference
        incident = self._p.store.incident(link.force_id, incident_id)
        if incident is None:
            raise LinkRefused(LinkProblem.UNKNOWN)
        if not lead and self._now() >= incident.respond_by:  # closed early: a member's link dies with the window
            raise LinkRefused(LinkProblem.EXPIRED)
        responses = [r for r, _ in self._p.store.responses(link.force_id, incident_id)]
        return link, incident, responses

    def answer(self, token: str, answer: Answer, note: str) -> Incident:
        link, incident, _ = self.open(token)
        note = note.strip()
        if len(note) > MAX_NOTE:
            raise CalloutRefused(f"Keep the note to {MAX_NOTE} characters")
        try:
            self._p.store.record_answer(link, incident.id, link.role, answer, note, self._now())
        except LinkConflict:
            raise LinkRefused(LinkProblem.USED) from None
        return incident

    def counts(self, responses: list[Response]) -> dict[str, int]:
        return tally(responses)

    # --- helpers ---

    def _link(self, incident: Incident, role: str, expires: datetime, path: str) -> str:
        token = new_token(self._p.random_bytes(32))
        self._p.links.add_links([Link(token_hash(token), Purpose.CALLOUT, incident.force_id, incident.id, role,
                                      None, expires)])
        return f"{self._p.base_url}/{path}/{token}"

    def _message(self, to: str, subject: str, template: str, **context: Any) -> EmailMessage:
        return EmailMessage(to=to, subject=subject, text=self._p.render(f"{template}.txt", **context),
                            html=self._p.render(f"{template}.html", **context), force_id=context["force"].id)

    def _now(self) -> datetime:
        return self._p.clock.now()


def _email(incident: Incident, kind: str) -> EmailKey:
    return EmailKey(About("incident", incident.force_id, incident.id), kind)


def _ordered(responses: list[Response]) -> list[Response]:
    order = {Answer.AVAILABLE: 0, Answer.LATER: 1, Answer.NOT_AVAILABLE: 2, None: 3}
    return sorted(responses, key=lambda r: (order[r.answer], r.name))
