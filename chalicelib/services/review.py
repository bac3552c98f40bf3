"""The panel review of an application, driven by what DynamoDB holds.

`advance` is what the Prefect flow runs each time it wakes: it reads the
application and the decisions, sends whatever is still owed, applies the
panel's outcome when there is one, and says what to wait for next. Every
step is safe to repeat, because a resumed flow runs again from the top.
"""
from __future__ import annotations

import hashlib

import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Iterator, Optional, Protocol

from chalicelib.domain.application import Application, AuditEvent, apply
from chalicelib.domain.forces import ForceProfile
from chalicelib.domain.lifecycle import Action, IllegalTransition, REVIEWING, Stage
from chalicelib.domain.links import Link, LinkProblem, Purpose, new_token, problem_with, token_hash
from chalicelib.domain import roles as roles_domain
from chalicelib.domain.review import Decision, check_decision, panel_outcome
from chalicelib.services.events import MessageBus, PanelDecided
from chalicelib.services import role_notices
from chalicelib.services.log_context import about
from chalicelib.services.notifications import ReviewMail
from chalicelib.services.outbox import application_email
from chalicelib.services.refusals import LinkRefused as LinkRefused  # lives in a light module; re-exported
from chalicelib.services.ports import (
    ApplicationRepository, Clock, DecisionConflict, EmailMessage, ForceCatalogue, RandomSource, StaleApplication,
    Workflow, WorkflowUnavailable,
)

log = logging.getLogger(__name__)

REVIEW_DEPLOYMENT = "review-application/review-application"
WITHDRAW_LINK_DAYS = 365
STUCK_RUN_SECONDS = 15 * 60
FAILED_LOOKBACK_SECONDS = 26 * 3600  # runs that failed before this are left to the daily full pass
EMAIL_GRACE = timedelta(minutes=5)  # an announced email older than this, still unsent, was dropped by its run
WAKE_ATTEMPTS, WAKE_PAUSE_SECONDS = 12, 0.5
# A run in these states has not started its next pass (a resumed run starts again from the top and reads DynamoDB).
RUN_QUEUED = ("SCHEDULED", "PENDING")

# The applicant's emails for each outcome, by the action that produced it.
OUTCOME_EMAILS = {
    Action.APPROVE: "approved",
    Action.REJECT: "rejected",
    Action.REQUEST_DISCUSSION: "discussion",
    Action.REDIRECT: "redirected",
    Action.WITHDRAW: "withdrawn",
}


# Stages at which an application's flow run is alive (running or suspended), so reconciliation checks them.
RUN_WAITS_AT = (Stage.AWAITING_REVIEW, Stage.DISCUSSION_REQUESTED, Stage.REDIRECTED, Stage.APPROVED,
                Stage.APPEAL_UPHELD, Stage.RESIDENCY, Stage.SCREENING, Stage.OFFERED, Stage.ONBOARDING, Stage.REJECTED,
                Stage.APPEAL_LODGED)


@dataclass(frozen=True)
class Step:
    """What the flow does next: stop, or wait for a signal under this key."""
    done: bool
    stage: str
    wait_key: Optional[str] = None


def withdraw_link(application: Application, random_bytes: RandomSource, base_url: str) -> tuple[Link, str]:
    """A link for the applicant to withdraw at any time: issued with the application."""
    token = new_token(random_bytes(32))
    link = Link(token_hash(token), Purpose.WITHDRAW, application.force_id, application.reference, "applicant",
                None, application.submitted_at + timedelta(days=WITHDRAW_LINK_DAYS))
    return link, f"{base_url}/withdraw/{token}"


class ReviewStore(Protocol):
    """Links and the panel's decisions (DynamoReviewStore)."""

    def add_links(self, links: list[Link]) -> None: ...

    def decisions(self, force_id: str, reference: str, version: int) -> dict[str, Decision]: ...

    def link(self, token_hash: str) -> Optional[Link]: ...

    def mark_decisions_delivered(self, force_id: str, reference: str) -> None: ...

    def panel_members(self, force_id: str, group_id: str) -> dict[str, tuple[str, str]]: ...

    def record_decision(self, link: Link, decision: Decision, at: datetime, event: AuditEvent) -> None: ...

    def spend_link(self, link: Link, at: datetime) -> bool: ...

    def undelivered(self, force_id: str) -> list[str]: ...

    # Runs the workflow did not start (it was down): the daily pass starts them.
    def run_not_started(self, force_id: str, reference: str, at: datetime) -> None: ...

    def runs_not_started(self, force_id: str) -> list[str]: ...

    def run_started(self, force_id: str, reference: str) -> None: ...


class ActionsAfterReview(Protocol):
    """People's actions after the review not yet told to the run (DynamoJoiningStore)."""

    def delivered(self, force_id: str, reference: str) -> None: ...

    def undelivered(self, force_id: str) -> list[str]: ...


class ReviewService:
    def __init__(self, forces: ForceCatalogue, repository: ApplicationRepository, store: ReviewStore, mail: ReviewMail,
                 workflow: Workflow, clock: Clock, random_bytes: RandomSource, public_base_url: str,
                 bus: Optional[MessageBus] = None, actions: Optional[ActionsAfterReview] = None):
        self._forces = forces
        self._repository = repository
        self._store = store
        self._mail = mail  # renders and sends
        self._workflow = workflow
        self._clock = clock
        self._random_bytes = random_bytes
        self._base_url = public_base_url
        self._bus = bus or MessageBus()  # told when the panel has decided: the stages after it are not the review's
        self._actions = actions  # the joining store: people's actions after the review not yet told to the run

    # --- starting and waking the flow run (Lambda side, plain HTTP) ---

    def start(self, application: Application) -> Optional[str]:
        """Start the application's flow run; None if Prefect is unreachable (reconciliation starts it later)."""
        with about(reference=application.reference, force=application.force_id):
            return self._start(application)

    def _start(self, application: Application) -> Optional[str]:
        try:
            return self._workflow.start(
                REVIEW_DEPLOYMENT, name=application.reference,
                parameters={"force_id": application.force_id, "reference": application.reference},
                tags=[f"force:{application.force_id}", f"group:{application.group_id}"],
                idempotency_key=f"review:{application.reference}")
        except WorkflowUnavailable:
            log.warning("flow run for %s not started; reconciliation will start it", application.reference)
            try:  # the trace reconciliation finds in one Query
                self._store.run_not_started(application.force_id, application.reference, self._clock.now())
            except Exception:  # the application is stored: the daily full pass still finds it
                log.exception("could not note that the run of %s was not started", application.reference)
            return None

    def wake(self, force_id: str, reference: str, reason: str) -> bool:
        """Resume the application's run; False if it could not be reached now (reconciliation retries).

        A run still busy with another decision is about to suspend: try again for a few seconds
        rather than leave this decision to the next reconciliation.
        """
        with about(reference=reference, force=force_id):
            return self._wake(reference, reason)

    def _wake(self, reference: str, reason: str) -> bool:
        try:
            run_id = self._workflow.find_run(reference)
            if run_id is None:
                return False
            for _ in range(WAKE_ATTEMPTS):
                if self._workflow.resume(run_id, {"reason": reason}):
                    return True
                state = self._workflow.state(run_id)[0]
                if state in RUN_QUEUED:  # its next pass has not begun: it will read what was just recorded
                    return True
                if state != "RUNNING":
                    return False
                time.sleep(WAKE_PAUSE_SECONDS)  # mid-pass: it may have read before this write, so wait to resume
        except WorkflowUnavailable:
            log.warning("flow run for %s not resumed; reconciliation will", reference)
        return False

    def reconcile(self, force_id: str, full: bool = False) -> dict[str, Any]:
        """Catch Prefect up with DynamoDB: deliver what people did while it was away, start runs it could not create,
        retry runs that failed, crashed or stuck, and send emails announced but never sent.

        Each kind of due work leaves a trace found by one Query or one Prefect filter, so a pass with nothing to do
        reads no item and writes nothing. `full` (daily) also asks Prefect about every live application, for what
        leaves no trace: a request that died between its write and creating the run, a lost Prefect database, or a
        run that completed while its application still waits."""
        counts = {"started": 0, "retried": 0, "woken": 0, "emails": 0, "unreachable": 0, "ok": 0}
        undelivered = set(self._store.undelivered(force_id)) | set(self._undelivered_actions(force_id))
        not_started = set(self._store.runs_not_started(force_id))
        suspects = not_started | set(self._runs_in_trouble(force_id))
        outcomes: dict[str, str] = {}
        if full:
            for group in self._forces.require(force_id).groups:
                for stage in RUN_WAITS_AT:
                    for application in self._all_at(force_id, group.id, stage):
                        outcomes[application.reference] = self._reconcile_one(
                            application, application.reference in undelivered)
        for reference in (undelivered | suspects) - set(outcomes):
            found = self._repository.get(force_id, reference)
            # A suspect whose application no longer waits needs no run (as the full pass only looks at live ones);
            # people who acted on an application that ended or made a member are still told to its run.
            if found is not None and (reference in undelivered or found.stage in RUN_WAITS_AT):
                outcomes[reference] = self._reconcile_one(found, reference in undelivered)
        for outcome in outcomes.values():
            counts[outcome] += 1
        for reference in not_started:
            if outcomes.get(reference) != "unreachable":
                self._store.run_started(force_id, reference)
        # Emails announced by a move more than a few minutes ago and still unsent: the run that owed them died. An
        # ineligible application's are owed by no run (it starts none), so they go at the first pass, not minutes
        # later. A pending email younger than the grace costs one read; at rest there is none. (The application's
        # last move is no older than the email's, so its age only ever delays a send.)
        now = self._clock.now()
        for reference in self._repository.pending_email_references(force_id, now):
            announced = self._repository.get(force_id, reference)
            if announced is not None and (announced.stage is Stage.INELIGIBLE
                                          or announced.updated_at <= now - EMAIL_GRACE):
                self.send_announced(announced)
                counts["emails"] += 1
        counts.pop("ok", None)
        return counts

    def _runs_in_trouble(self, force_id: str) -> list[str]:
        try:
            return self._workflow.runs_in_trouble(REVIEW_DEPLOYMENT.split("/")[0], tags=[f"force:{force_id}"],
                                                  stuck_after=STUCK_RUN_SECONDS, failed_within=FAILED_LOOKBACK_SECONDS)
        except WorkflowUnavailable:
            log.warning("reconciliation could not ask Prefect which runs failed")
            return []

    def _delivered(self, application: Application) -> None:
        self._store.mark_decisions_delivered(application.force_id, application.reference)
        self._delivered_action(application.force_id, application.reference)

    def _undelivered_actions(self, force_id: str) -> list[str]:
        return self._actions.undelivered(force_id) if self._actions else []

    def _delivered_action(self, force_id: str, reference: str) -> None:
        if self._actions:
            self._actions.delivered(force_id, reference)

    def _all_at(self, force_id: str, group_id: str, stage: Stage) -> Iterator[Application]:
        return self._repository.all_at(force_id, group_id, stage)

    def _reconcile_one(self, application: Application, has_undelivered: bool) -> str:
        try:
            run_id = self._workflow.find_run(application.reference)
            if run_id is None:
                return "started" if self.start(application) is not None else "unreachable"
            state, age = self._workflow.state(run_id)
            # A run "running" for this long lost its process (our runs take seconds): retry it. So is one that
            # finished while its application still waits (e.g. it ended at "approved" before runs went further).
            if state in ("FAILED", "CRASHED") or (state == "RUNNING" and age > STUCK_RUN_SECONDS) or \
                    (state == "COMPLETED" and application.stage in RUN_WAITS_AT):
                self._workflow.retry(run_id)
                return "retried"
            if has_undelivered and state == "PAUSED" and self._workflow.resume(run_id, {"reason": "reconcile"}):
                self._delivered(application)
                return "woken"
            if has_undelivered and state == "COMPLETED":
                self._delivered(application)  # nothing is left to tell a finished run
        except WorkflowUnavailable:
            log.warning("reconciliation could not reach Prefect for %s", application.reference)
            return "unreachable"
        return "ok"

    def remind(self, force_id: str) -> dict[str, Any]:
        """Remind panel members who have not answered, then tell the IAG coordinator (each once per round)."""
        force = self._forces.require(force_id)
        now = self._clock.now()
        counts = {"reminded": 0, "escalated": 0}
        for group in force.groups:
            for stage in (Stage.AWAITING_REVIEW, Stage.DISCUSSION_REQUESTED):
                for application in self._all_at(force_id, group.id, stage):
                    waiting = now - application.updated_at
                    decisions = self._store.decisions(force_id, application.reference, application.version)
                    missing = [r for r in group.panel if r not in decisions]
                    if not missing:
                        continue
                    if waiting >= timedelta(days=force.review.reminder_after_days):
                        counts["reminded"] += self._request_decisions(force, application, missing, reminder=True)
                    if waiting >= timedelta(days=force.review.reminder_after_days + force.review.escalate_after_days):
                        def escalation(a: Application = application, m: list[str] = missing) -> EmailMessage:
                            return self._mail.escalation(force, a, m)
                        if self._mail.postbox.email(
                                application_email(application, f"escalation-v{application.version}"), escalation):
                            counts["escalated"] += 1
        return counts

    # --- links: what a person sees and does ---

    def open_link(self, token: str, purpose: Purpose) -> tuple[Link, Application, ForceProfile]:
        """The link's application for showing; raises LinkRefused. Never changes anything."""
        link = self._store.link(token_hash(token))
        if link is None or link.purpose is not purpose:
            raise LinkRefused(LinkProblem.UNKNOWN)
        application = self._repository.get(link.force_id, link.reference)
        if application is None:
            raise LinkRefused(LinkProblem.UNKNOWN)
        problem = problem_with(link, now=self._clock.now(), current_version=application.version)
        if problem is None and purpose is Purpose.REVIEW and application.stage not in REVIEWING:
            problem = LinkProblem.SUPERSEDED
        if problem is None and purpose is Purpose.WITHDRAW and not application.live:
            problem = LinkProblem.USED
        if problem is None and link.holder and not self._still_held(link, application):
            problem = LinkProblem.SUPERSEDED  # the role changed hands: the link followed the person out
        if problem:
            raise LinkRefused(problem)
        return link, application, self._forces.require(link.force_id)

    def _still_held(self, link: Link, application: Application) -> bool:
        """Whether the person the link was sent to still holds its role (a force contact such as the vetting
        unit, the appeal panel, or the group's review panel)."""
        if link.purpose is Purpose.SCREENING:
            contact = self._forces.require(link.force_id).contacts.get(link.role)
            return bool(contact and contact.email and roles_domain.person(contact.email) == link.holder)
        scope = roles_domain.APPEAL if link.purpose is Purpose.APPEAL_REVIEW else application.group_id
        held = self._store.panel_members(link.force_id, scope).get(link.role)
        return held is not None and roles_domain.person(held[1]) == link.holder

    def decide(self, token: str, decision: Decision) -> Application:
        """Record one panel member's decision, then wake the flow. Raises LinkRefused or InvalidDecision."""
        link, application, force = self.open_link(token, Purpose.REVIEW)
        with about(reference=application.reference, force=force.id):
            return self._decide(link, application, force, decision)

    def _decide(self, link: Link, application: Application, force: ForceProfile, decision: Decision) -> Application:
        decision = replace(decision, role=link.role)
        check_decision(decision, group_ids={g.id for g in force.groups if g.accepts_applicants},
                       current_group=application.group_id)
        now = self._clock.now()
        event = AuditEvent(application.reference, now, "decide", application.stage, application.stage, link.role,
                           {"choice": decision.choice.value, "target_group": decision.target_group or ""})
        try:
            self._store.record_decision(link, decision, now, event)
        except DecisionConflict:
            raise LinkRefused(self._why_refused(link)) from None
        log.info("decision recorded: %s from the %s", decision.choice.value, link.role)
        if self.wake(application.force_id, application.reference, "decision"):
            self._store.mark_decisions_delivered(application.force_id, application.reference)
        return application

    def withdraw(self, token: str) -> Application:
        link, application, force = self.open_link(token, Purpose.WITHDRAW)
        now = self._clock.now()
        for _ in range(3):
            try:
                moved, event = apply(application, Action.WITHDRAW, at=now, actor="applicant")
            except IllegalTransition:
                raise LinkRefused(LinkProblem.USED) from None
            try:
                self._repository.save_transition(moved, event, emails=((f"withdrawn-v{moved.version}", {}),))
                break
            except StaleApplication:
                fresh = self._repository.get(link.force_id, link.reference)
                if fresh is None:  # erased meanwhile: nothing left to withdraw
                    raise LinkRefused(LinkProblem.SUPERSEDED) from None
                application = fresh
        else:
            raise StaleApplication(link.reference)
        self._store.spend_link(link, now)
        self.wake(moved.force_id, moved.reference, "withdrawn")
        return moved

    def _why_refused(self, link: Link) -> LinkProblem:
        current = self._store.link(link.token_hash)
        application = self._repository.get(link.force_id, link.reference)
        return problem_with(current, now=self._clock.now(),
                            current_version=application.version if application else None) or LinkProblem.USED

    def send_announced(self, application: Application) -> None:
        """Send the emails its moves announced (the confirmation of a new application, outcomes), each once:
        what the run's every pass does first, and reconciliation for an application with no run."""
        self._mail.flush(application)

    # --- the flow's step ---

    def advance(self, force_id: str, reference: str) -> Step:
        with about(reference=reference, force=force_id):
            return self._advance(force_id, reference)

    def _advance(self, force_id: str, reference: str) -> Step:
        for _ in range(20):  # each pass either waits, finishes, or moves the application one stage
            application = self._repository.get(force_id, reference)
            if application is None:
                return Step(done=True, stage="missing")
            self._mail.flush(application)
            if application.stage is Stage.REDIRECTED:
                self._move(application, Action.JOIN_NEW_PANEL, actor="system")
                continue
            if application.stage not in REVIEWING:
                if not self._bus.handles(PanelDecided):
                    return Step(done=True, stage=application.stage.value)
                step: Optional[Step] = self._bus.ask(PanelDecided(application))
                if step is None:
                    continue  # it moved: look again
                return step
            force = self._forces.require(force_id)
            group = force.require_group(application.group_id)
            decisions = self._store.decisions(force_id, reference, application.version)
            outcome = panel_outcome(group.panel, decisions, force.review.outcome_rule)
            if outcome is None:
                self._request_decisions(force, application, [r for r in group.panel if r not in decisions])
                return Step(done=False, stage=application.stage.value,
                            wait_key=f"v{application.version}-d{len(decisions)}")
            detail = {"reasons": [d.reason for d in decisions.values() if d.reason],
                      "notes": [d.note for d in decisions.values() if d.note],
                      "target_group": outcome.target_group or ""}
            self._move(application, outcome.action, actor="panel", detail=detail,
                       new_group=outcome.target_group)
        raise RuntimeError(f"{reference}: review did not settle")

    def _move(self, application: Application, action: Action, *, actor: str, detail: Optional[dict[str, Any]] = None,
              new_group: Optional[str] = None) -> None:
        moved, event = apply(application, action, at=self._clock.now(), actor=actor,
                             detail={k: v for k, v in (detail or {}).items() if k == "target_group"})
        if new_group:
            moved = replace(moved, group_id=new_group,
                            answers={**moved.answers, "redirected_from": application.group_id})
        kind = OUTCOME_EMAILS.get(action)
        emails = ((f"{kind}-v{moved.version}", detail or {}),) if kind else ()
        try:
            self._repository.save_transition(moved, event, emails=emails,
                                             previous_group=application.group_id if new_group else None)
        except StaleApplication:
            return  # someone else moved it first: the next pass reads what they did
        stored = self._repository.get(moved.force_id, moved.reference)
        if stored is not None:  # erased meanwhile: nobody left to tell
            self._mail.flush(stored)

    def resend(self, application: Application, stamp: str) -> int:
        """Fresh links for the panel members who have not answered this round (an operator asked, e.g. one was lost)."""
        return self._request_decisions(self._forces.require(application.force_id), application,
                                       self._unanswered(application), round_name=f"resend-{stamp}")

    def panel_changed(self, force_id: str, group_id: str, role: str, email: str) -> int:
        """Send the new holder of a panel role the requests waiting on that role in the group."""
        force = self._forces.require(force_id)
        sent = 0
        for stage in (Stage.AWAITING_REVIEW, Stage.DISCUSSION_REQUESTED):
            for application in self._all_at(force_id, group_id, stage):
                if role in self._unanswered(application):
                    person = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:12]
                    sent += self._request_decisions(force, application, [role], round_name=f"review-to-{person}")
        return sent

    def _unanswered(self, application: Application) -> list[str]:
        group = self._forces.require(application.force_id).require_group(application.group_id)
        decisions = self._store.decisions(application.force_id, application.reference, application.version)
        return [r for r in group.panel if r not in decisions]

    def _request_decisions(self, force: ForceProfile, application: Application, roles: list[str],
                           reminder: bool = False, round_name: Optional[str] = None) -> int:
        members = self._store.panel_members(force.id, application.group_id)
        group_name = force.require_group(application.group_id).name
        sent = 0
        for role in roles:
            if role not in members:
                role_notices.role_empty(self._mail.postbox, self._mail.render, force, application_email(
                    application, f"role-empty-v{application.version}-{role}"), role, f"the {group_name}",
                    f"Application {application.reference}")
                continue
            if roles_domain.same_person(members[role][1], application.applicant.get("email", "")):
                role_notices.own_application(self._mail.postbox, self._mail.render, force, application_email(
                    application, f"own-application-v{application.version}-{role}"), role, application.reference)
                continue
            kind = f"{round_name or ('reminder' if reminder else 'review')}-v{application.version}-{role}"

            def request(role: str = role) -> EmailMessage:
                token = new_token(self._random_bytes(32))
                self._store.add_links([Link(token_hash(token), Purpose.REVIEW, force.id, application.reference, role,
                                            application.version,
                                            self._clock.now() + timedelta(days=force.review.link_valid_days),
                                            holder=roles_domain.person(members[role][1]))])
                return self._mail.review_request(force, application, role, members[role],
                                                 f"{self._base_url}/review/{token}", reminder=reminder)
            if not self._mail.postbox.email(application_email(application, kind), request):
                continue  # already sent (or being sent) for this round
            sent += 1
        return sent
