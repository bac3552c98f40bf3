"""After the panel's decision: screening where required, appeals, the offer, onboarding, membership.

Like the review, each stage has a `step` the application's flow run takes
whenever it wakes: it sends what is owed (each email claimed once in
DynamoDB), moves the application when it can, and otherwise says what to
wait for. People act through single-use links; each action is one write
that also spends the link, then wakes the run.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from functools import partial
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol, TypeVar
from zoneinfo import ZoneInfo

from chalicelib.domain.application import Application, AuditEvent, apply
from chalicelib.domain.eligibility import residency_evidence_needed
from chalicelib.domain.forces import ForceProfile, Group
from chalicelib.domain.lifecycle import Action, IllegalTransition, Stage
from chalicelib.domain.links import Link, LinkProblem, Purpose, new_token, token_hash
from chalicelib.domain.membership import Member, SignedAgreement, member_from
from chalicelib.domain.review import Decision, appeal_outcome, check_appeal_decision
from chalicelib.domain import roles as roles_domain
from chalicelib.domain import screening
from chalicelib.domain.role_titles import role_words
from chalicelib.services import role_notices
from chalicelib.services.joining_mail import JoiningMail
from chalicelib.services.outbox import Postbox, application_email
from chalicelib.services.events import EmailDue, PanelDecided
from chalicelib.services.ports import (
    ApplicationRepository, Attachment, Clock, DecisionConflict, EmailMessage, ForceCatalogue, LinkConflict,
    RandomSource, StaleApplication,
)
from chalicelib.services.refusals import LinkRefused
from chalicelib.services.review import Step
from chalicelib.services.screening import ScreeningProvider, ScreeningRequest

if TYPE_CHECKING:  # the meetings module stays off the cold path (see _next_meetings)
    from chalicelib.domain.meetings import Meeting

T = TypeVar("T")

log = logging.getLogger(__name__)

# Stages where the application waits on a person, and time can remind, escalate or end the wait.
CHASED = (Stage.RESIDENCY, Stage.SCREENING, Stage.OFFERED, Stage.ONBOARDING, Stage.REJECTED, Stage.APPEAL_LODGED)

LONDON = ZoneInfo("Europe/London")
APPEAL_PANEL = "appeal"  # reviewers of appeals are stored under this group id: they serve the whole force
SCREENING_LINK_DAYS = 30
EVIDENCE_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
MAX_EVIDENCE_BYTES = 5 * 1024 * 1024  # under Lambda's 6 MB request limit
MAX_GROUNDS = 5000


class InvalidAnswer(ValueError):
    """What a person typed cannot be acted on; nothing was changed."""


class JoiningStore(Protocol):
    """What joining keeps: offers, agreements, appeals, screening, members (DynamoJoiningStore)."""

    def agreement(self, application: Application, document_id: str) -> Optional[SignedAgreement]: ...

    def answer_offer(self, moved: Application, event: AuditEvent, link: Link, emails: tuple[Any, ...] = ()) -> Application: ...

    def appeal(self, application: Application) -> Optional[dict[str, Any]]: ...

    def complete_onboarding(self, moved: Application, event: AuditEvent, agreement: SignedAgreement, member: Member,
                            link: Link, emails: tuple[Any, ...]) -> Application: ...

    def delivered(self, force_id: str, reference: str) -> None: ...

    def latest_screening(self, application: Application) -> Optional[screening.ScreeningResult]: ...

    def lodge_appeal(self, moved: Application, event: AuditEvent, grounds: str, link: Link) -> Application: ...

    def member(self, force_id: str, member_id: str, group_id: str) -> Optional[Member]: ...

    def move(self, moved: Application, event: AuditEvent, emails: tuple[Any, ...] = ()) -> Application: ...

    def spend_link_and_move(self, moved: Application, event: AuditEvent, link: Link) -> Application: ...

    def record_screening(self, moved: Application, event: AuditEvent, result: screening.ScreeningResult,
                         link: Optional[Link] = None, emails: tuple[Any, ...] = ()) -> Application: ...


class PanelLinks(Protocol):
    """Links and the panel's decisions (DynamoReviewStore)."""

    def add_links(self, links: list[Link]) -> None: ...

    def decisions(self, force_id: str, reference: str, version: int) -> dict[str, Decision]: ...

    def mark_decisions_delivered(self, force_id: str, reference: str) -> None: ...

    def panel_members(self, force_id: str, group_id: str) -> dict[str, tuple[str, str]]: ...

    def record_decision(self, link: Link, decision: Decision, at: datetime, event: AuditEvent) -> None: ...


class Documents(Protocol):
    """The documents a new member signs, and the evidence an applicant uploads (S3Documents: a private bucket)."""

    def url(self, force_id: str, file: str, expires_in: int) -> str: ...

    def fingerprint(self, force_id: str, file: str) -> str: ...

    def put_evidence(self, force_id: str, reference: str, name: str, data: bytes, content_type: str) -> str:
        """Store the file; returns its key."""


class ReviewLinks(Protocol):
    """What joining uses of the review: a link's application, and waking an application's run."""

    def open_link(self, token: str, purpose: Purpose) -> tuple[Link, Application, ForceProfile]: ...

    def wake(self, force_id: str, reference: str, reason: str) -> bool: ...


@dataclass(frozen=True)
class Parts:
    """What the joining service works with (adapters in production, fakes in tests)."""
    forces: ForceCatalogue
    repository: ApplicationRepository
    store: JoiningStore
    links: PanelLinks
    postbox: Postbox  # every email goes through its send_once
    mail: JoiningMail
    documents: Documents
    screening: ScreeningProvider
    clock: Clock
    random_bytes: RandomSource
    base_url: str
    review: ReviewLinks  # the review service: joining follows it, never the other way round
    calendar_file: Callable[..., bytes]  # meetings -> an .ics file
    holidays: Callable[[list[int]], frozenset[date]] = lambda years: frozenset()  # bank holidays meetings move off


class JoiningService:
    def __init__(self, parts: Parts):
        self._p = parts

    # --- what the review announces ---

    def panel_decided(self, event: PanelDecided) -> Optional[Step]:
        return self.step(event.application)

    def email_due(self, event: EmailDue) -> Optional[EmailMessage | tuple[()]]:
        return self.message_for(event.application, event.kind, event.detail)

    # --- the flow's steps ---

    def step(self, application: Application) -> Optional[Step]:
        """None when the application moved (look again); else a Step to finish or wait on."""
        handlers = {
            Stage.APPROVED: self._after_approval, Stage.APPEAL_UPHELD: self._after_approval,
            Stage.RESIDENCY: self._residency,
            Stage.SCREENING: self._screening, Stage.OFFERED: self._offer, Stage.ONBOARDING: self._onboarding,
            Stage.REJECTED: self._rejected, Stage.APPEAL_LODGED: self._appeal,
        }
        handler = handlers.get(application.stage)
        if handler is None:
            return Step(done=True, stage=application.stage.value)
        return handler(self._p.forces.require(application.force_id), application)

    def _after_approval(self, force: ForceProfile, application: Application) -> Optional[Step]:
        if residency_evidence_needed(force, application.answers):
            self._move(application, Action.REQUEST_RESIDENCY, actor="system")
            return None
        latest = self._p.store.latest_screening(application)
        if screening.needs_screening(force, application.group_id, latest, self._today()):
            self._move(application, Action.START_SCREENING, actor="system",
                       detail={"level": screening.required_level(force, application.group_id)})
        else:
            self._move(application, Action.MAKE_OFFER, actor="system")
        return None

    def _residency(self, force: ForceProfile, application: Application) -> Optional[Step]:
        """Waits for evidence of residency (uploaded, or seen by a coordinator); then on as after approval."""
        if not residency_evidence_needed(force, application.answers):
            return self._after_approval(force, application)
        self._send_with_link(force, application, f"residency-v{application.version}", Purpose.RESIDENCY,
                             self._residency_link_expiry(force), self._p.mail.residency)
        return Step(done=False, stage=application.stage.value, wait_key=f"v{application.version}-residency")

    def _residency_link_expiry(self, force: ForceProfile) -> datetime:
        # Each reminder carries a fresh link, so one need only last until the next.
        return self._now() + timedelta(days=force.review.reminder_after_days + force.review.escalate_after_days)

    def upload_residency(self, token: str, *, name: str, content_type: str, data: bytes) -> Application:
        """The applicant's evidence, through their single-use link: stored in the private bucket, then recorded on
        the application in one write that spends the link. Nothing is stored for a refused file."""
        link, application, force = self._p.review.open_link(token, Purpose.RESIDENCY)
        content_type = content_type.split(";")[0].strip().lower()
        if not data:
            raise InvalidAnswer("Choose a file to upload")
        if content_type not in EVIDENCE_TYPES:
            raise InvalidAnswer("The file must be a PDF, JPEG or PNG")
        if len(data) > MAX_EVIDENCE_BYTES:
            raise InvalidAnswer("The file must be smaller than 5 MB")
        if application.stage is not Stage.RESIDENCY:
            raise LinkRefused(LinkProblem.SUPERSEDED)
        # Stored first: if the write then loses a race, the file sits under the application's prefix, which erasure
        # and retention delete with it.
        key = self._p.documents.put_evidence(force.id, application.reference,
                                             f"residency.{EVIDENCE_TYPES[content_type]}", data, content_type)
        moved, event = self._record_residency(application, {"how": "uploaded", "key": key}, actor="applicant")
        stored = self._write(lambda: self._p.store.spend_link_and_move(moved, event, link))
        self._tell_run(stored, "residency evidence")
        return stored

    def confirm_residency_seen(self, application: Application, operator: str) -> Application:
        """A coordinator saw the evidence another way (in person, by post): recorded as theirs, then on."""
        if application.stage is not Stage.RESIDENCY:
            raise IllegalTransition(application.stage, Action.RECORD_RESIDENCY)
        moved, event = self._record_residency(application, {"how": "seen", "by": operator}, actor=operator)
        stored = self._p.store.move(moved, event)
        self._tell_run(stored, "residency evidence")
        return stored

    def _record_residency(self, application: Application, evidence: dict[str, Any],
                          actor: str) -> tuple[Application, AuditEvent]:
        moved, event = self._apply(application, Action.RECORD_RESIDENCY, actor=actor,
                                   detail={"how": evidence["how"]})
        evidence = {**evidence, "at": event.at.isoformat()}
        return replace(moved, answers={**moved.answers, "residency": evidence}), event

    def _screening(self, force: ForceProfile, application: Application) -> Optional[Step]:
        kind = f"screening-request-v{application.version}"
        wait = Step(done=False, stage=application.stage.value, wait_key=f"v{application.version}-screening")
        outcome: list[Optional[screening.Outcome]] = []
        if not self._p.postbox.act(application_email(application, kind),
                                   lambda: self._ask_for_screening(force, application, outcome)):
            return wait  # asked already: the outcome comes through the vetting unit's link
        if outcome[0] is None:
            return wait
        try:
            self._record_screening(force, application, outcome[0], self._today(), link=None,
                                   actor="screening_provider")
        except LinkConflict:
            pass  # recorded by someone else meanwhile
        return None

    def _ask_for_screening(self, force: ForceProfile, application: Application,
                           outcome: list[Optional[screening.Outcome]]) -> str:
        """Ask the screening provider, with a fresh link for the vetting unit; its answer (if it has one now)
        goes into `outcome`."""
        level = screening.required_level(force, application.group_id)
        unit = force.contacts.get("vetting_unit")
        url = self._new_link(application, Purpose.SCREENING, "vetting_unit",
                             self._now() + timedelta(days=SCREENING_LINK_DAYS), "screening",
                             holder=roles_domain.person(unit.email) if unit and unit.email else "")
        outcome.append(self._p.screening.request(ScreeningRequest(force, application, level, url,
                                                                  SCREENING_LINK_DAYS)))
        return "screening-provider"

    def _offer(self, force: ForceProfile, application: Application) -> Optional[Step]:
        self._send_with_link(force, application, f"offer-v{application.version}", Purpose.OFFER,
                             application.updated_at + timedelta(days=force.onboarding.offer_valid_days),
                             self._p.mail.offer)
        return Step(done=False, stage=application.stage.value, wait_key=f"v{application.version}-offer")

    def _onboarding(self, force: ForceProfile, application: Application) -> Optional[Step]:
        self._send_with_link(force, application, f"onboarding-v{application.version}", Purpose.AGREEMENT,
                             application.updated_at + timedelta(days=force.onboarding.agreement_valid_days),
                             self._onboarding_email)
        return Step(done=False, stage=application.stage.value, wait_key=f"v{application.version}-agreement")

    def _rejected(self, force: ForceProfile, application: Application) -> Optional[Step]:
        # Waits out the appeal window even when no appeal is open (one per application): the daily lapse ends
        # the application and wakes the run, so "rejected" always has a live run and reconciliation agrees.
        return Step(done=False, stage=application.stage.value, wait_key=f"v{application.version}-appeal-window")

    def _appeal(self, force: ForceProfile, application: Application) -> Optional[Step]:
        decisions = self._p.links.decisions(force.id, application.reference, application.version)
        outcome = appeal_outcome(force.appeal.panel, decisions)
        if outcome is not None:
            upheld = outcome.action is Action.UPHOLD_APPEAL
            reasons = [d.reason for d in decisions.values() if d.reason]
            self._move(application, outcome.action, actor="appeal_panel",
                       emails=((f"appeal_{'upheld' if upheld else 'dismissed'}-v{application.version + 1}",
                                {"reasons": reasons}),))
            return None
        self._ask_appeal_panel(force, application, [r for r in force.appeal.panel if r not in decisions])
        return Step(done=False, stage=application.stage.value,
                    wait_key=f"v{application.version}-a{len(decisions)}")

    def _ask_appeal_panel(self, force: ForceProfile, application: Application, roles: list[str],
                          reminder: bool = False, round_name: str = "") -> int:
        members = self._p.links.panel_members(force.id, APPEAL_PANEL)
        appeal = self._p.store.appeal(application) or {"grounds": ""}
        sent = 0
        for role in roles:
            if role not in members:
                role_notices.role_empty(self._p.postbox, self._p.mail.render, force, application_email(
                    application, f"role-empty-v{application.version}-{role}"), role, "appeals",
                    f"The appeal of application {application.reference}")
                continue
            if roles_domain.same_person(members[role][1], application.applicant.get("email", "")):
                role_notices.own_application(self._p.postbox, self._p.mail.render, force, application_email(
                    application, f"own-application-v{application.version}-{role}"), role, application.reference)
                continue
            kind = f"appeal-review-{round_name or ('reminder-' if reminder else '')}v{application.version}-{role}"

            def request(role: str = role) -> EmailMessage:
                url = self._new_link(application, Purpose.APPEAL_REVIEW, role,
                                     self._now() + timedelta(days=force.review.link_valid_days), "appeal-review",
                                     holder=roles_domain.person(members[role][1]))
                return self._p.mail.appeal_request(force, application, role, members[role], url, appeal["grounds"],
                                                   reminder=reminder)
            if self._p.postbox.email(application_email(application, kind), request):
                sent += 1
        return sent

    def appeal_panel_changed(self, force_id: str, role: str, email: str) -> int:
        """Send the new holder of an appeal panel role the appeals waiting on that role (the previous holder's
        links stopped working when the role changed hands)."""
        force = self._p.forces.require(force_id)
        person = roles_domain.person(email)[:12]
        sent = 0
        for group in force.groups:
            for application in self._p.repository.all_at(force_id, group.id, Stage.APPEAL_LODGED):
                decisions = self._p.links.decisions(force_id, application.reference, application.version)
                if role in force.appeal.panel and role not in decisions:
                    sent += self._ask_appeal_panel(force, application, [role], round_name=f"to-{person}-")
        return sent

    def vetting_unit_changed(self, force_id: str, email: str) -> int:
        """The new vetting unit is asked for every check still waiting (the previous one's links stopped)."""
        force = self._p.forces.require(force_id)
        person = roles_domain.person(email)[:12]
        asked = 0
        for group in force.groups:
            for application in self._p.repository.all_at(force_id, group.id, Stage.SCREENING):
                outcome: list[Optional[screening.Outcome]] = []
                if self._p.postbox.act(application_email(application, f"screening-request-v{application.version}"
                                                                      f"-to-{person}"),
                                       partial(self._ask_for_screening, force, application, outcome)):
                    asked += 1
        return asked

    # --- what people do through links (Lambda side) ---

    def answer_offer(self, token: str, accept: bool) -> Application:
        link, application, force = self._p.review.open_link(token, Purpose.OFFER)
        action = Action.ACCEPT_OFFER if accept else Action.DECLINE_OFFER
        moved, event = self._apply(application, action, actor="applicant")
        emails: tuple[tuple[str, dict[str, Any]], ...] = () if accept else ((f"withdrawn-v{moved.version + 1}", {}),)
        self._write(lambda: self._p.store.answer_offer(moved, event, link, emails))
        self._tell_run(moved, action.value)
        return moved

    def sign_agreement(self, token: str, *, signed_name: str, confirmed: bool, source_ip: str,
                       user_agent: str = "") -> Application:
        link, application, force = self._p.review.open_link(token, Purpose.AGREEMENT)
        signed_name = " ".join(signed_name.split())
        if not confirmed:
            raise InvalidAnswer("Confirm that you have read and agree to the confidentiality agreement")
        if not signed_name or len(signed_name) > 200:
            raise InvalidAnswer("Type your full name to sign")
        document = force.onboarding.agreement
        now = self._now()
        agreement = SignedAgreement(application.reference, document.id, document.version,
                                    self._p.documents.fingerprint(force.id, document.file), signed_name, now,
                                    source_ip or "unknown", user_agent[:300])
        moved, event = self._apply(application, Action.COMPLETE_ONBOARDING, actor="applicant",
                                   detail={"document": document.id, "version": document.version})
        member = member_from(moved, force, self._today(), agreement, self._p.store.latest_screening(application))
        v = moved.version + 1
        emails: tuple[tuple[str, dict[str, Any]], ...] = (
            (f"welcome-v{v}", {}), (f"new_member_coordinator-v{v}", {}), (f"new_member_chair-v{v}", {}))
        self._write(lambda: self._p.store.complete_onboarding(moved, event, agreement, member, link, emails))
        self._tell_run(moved, "agreement signed")
        return moved

    def lodge_appeal(self, token: str, grounds: str) -> Application:
        link, application, force = self._p.review.open_link(token, Purpose.APPEAL)
        grounds = grounds.strip()
        if not grounds:
            raise InvalidAnswer("Say why you are appealing")
        if len(grounds) > MAX_GROUNDS:
            raise InvalidAnswer(f"Your grounds must be {MAX_GROUNDS} characters or fewer")
        moved, event = self._apply(application, Action.LODGE_APPEAL, actor="applicant")
        self._write(lambda: self._p.store.lodge_appeal(moved, event, grounds, link))
        self._tell_run(moved, "appeal lodged")
        return moved

    def decide_appeal(self, token: str, decision: Decision) -> Application:
        link, application, force = self._p.review.open_link(token, Purpose.APPEAL_REVIEW)
        decision = Decision(link.role, decision.choice, decision.reason.strip(), None, "")
        check_appeal_decision(decision)
        event = AuditEvent(application.reference, self._now(), "decide_appeal", application.stage, application.stage,
                           link.role, {"choice": decision.choice.value})
        try:
            self._p.links.record_decision(link, decision, self._now(), event)
        except DecisionConflict:
            raise LinkRefused(LinkProblem.USED) from None
        self._tell_run(application, "appeal decision", decision=True)
        return application

    def record_screening(self, token: str, outcome: screening.Outcome, completed_on: date) -> Application:
        link, application, force = self._p.review.open_link(token, Purpose.SCREENING)
        if completed_on > self._today():
            raise InvalidAnswer("The date the screening was completed cannot be in the future")
        if completed_on < application.updated_at.astimezone(LONDON).date():
            raise InvalidAnswer("The date the screening was completed cannot be before it was requested")
        moved = self._write(lambda: self._record_screening(force, application, outcome, completed_on, link,
                                                           actor="vetting_unit"))
        self._tell_run(application, "screening recorded")
        return moved

    # --- emails announced by a move, sent by the review mail's flush ---

    def message_for(self, application: Application, kind: str,
                    detail: dict[str, Any]) -> Optional[EmailMessage | tuple[()]]:
        """The email for an outbox entry of this service, None if it is not one, or () if nobody is to get it."""
        force = self._p.forces.require(application.force_id)
        mail = self._p.mail
        if kind == "rejected":
            return mail.rejected(force, application, detail, self._appeal_url(force, application))
        if kind in ("appeal_upheld", "appeal_dismissed"):
            return mail.appeal_decided(force, application, kind == "appeal_upheld", detail)
        if kind == "welcome":
            return self._welcome(force, application)
        if kind == "new_member_coordinator":
            return mail.new_member(force, application, force.contacts["iag_coordinator"].address(),
                                   force.contacts["iag_coordinator"].name)
        if kind == "new_member_chair":
            chair = self._p.links.panel_members(force.id, application.group_id).get("iag_chair")
            return mail.new_member(force, application, chair[1], chair[0]) if chair else ()
        if kind == "lapsed":
            return mail.lapsed(force, application, detail)
        return None

    def _appeal_url(self, force: ForceProfile, application: Application) -> Optional[str]:
        if application.stage is not Stage.REJECTED or not force.appeal.panel \
                or self._p.store.appeal(application) is not None:
            return None  # e.g. withdrawn before the refusal email went: no appeal to offer
        expires = application.updated_at + timedelta(days=force.appeal.window_days)
        return self._new_link(application, Purpose.APPEAL, "applicant", expires, "appeal")

    def _welcome(self, force: ForceProfile, application: Application) -> EmailMessage:
        group = force.require_group(application.group_id)
        meetings = self._next_meetings(force, group)
        agreement = self._p.store.agreement(application, force.onboarding.agreement.id)
        member = self._p.store.member(force.id, application.reference, application.group_id)
        message = self._p.mail.welcome(force, application, meetings, agreement, member)
        if meetings:
            ics = self._p.calendar_file(meetings, calendar_name=f"{group.name} meetings")
            message = replace(message, attachments=(
                Attachment(f"{group.id}-meetings.ics", "text/calendar; method=PUBLISH", ics),))
        return message

    def _onboarding_email(self, force: ForceProfile, application: Application, url: str,
                          reminder: bool = False) -> EmailMessage:
        group = force.require_group(application.group_id)
        # Titles only: a presigned link made with a worker's temporary credentials dies with them, so the
        # documents are opened from the signing page, which signs fresh links each time it is shown.
        documents = [(d.title, d.version) for d in force.onboarding.documents]
        meetings = self._next_meetings(force, group)
        return self._p.mail.onboarding(force, application, url, documents, meetings, reminder=reminder)

    def _next_meetings(self, force: ForceProfile, group: Group) -> list[Meeting]:
        """As the group's meetings are planned (off bank holidays), so a later invitation updates the same event."""
        from chalicelib.domain.meetings import upcoming_for_group  # imported here to keep it off the cold path

        now = self._now()
        return upcoming_for_group(force, group, after=now, count=force.onboarding.dates_shown,
                                  avoid=self._p.holidays([now.year, now.year + 1, now.year + 2]))

    def document_links(self, force: ForceProfile, expires_in: int) -> list[tuple[str, str, str]]:
        """(title, version, presigned url) for each document a new member is given."""
        return [(d.title, d.version, self._p.documents.url(force.id, d.file, expires_in))
                for d in force.onboarding.documents]

    # --- helpers ---

    def _tell_run(self, application: Application, reason: str, decision: bool = False) -> None:
        """Wake the application's run; if it cannot be reached, the undelivered marker lets reconciliation do it."""
        if not self._p.review.wake(application.force_id, application.reference, reason):
            return
        if decision:
            self._p.links.mark_decisions_delivered(application.force_id, application.reference)
        else:
            self._p.store.delivered(application.force_id, application.reference)

    def _record_screening(self, force: ForceProfile, application: Application, outcome: screening.Outcome,
                          completed_on: date, link: Optional[Link], actor: str) -> Application:
        result = screening.result(force, application.group_id, outcome, completed_on)
        moved, event = self._apply(application, screening.OUTCOME_ACTIONS[outcome], actor=actor,
                                   detail={"outcome": outcome.value, "level": result.level})
        return self._p.store.record_screening(moved, event, result, link)

    def _send_with_link(self, force: ForceProfile, application: Application, kind: str, purpose: Purpose,
                        expires: datetime, build: Callable[[ForceProfile, Application, str], EmailMessage]) -> bool:
        return self._p.postbox.email(application_email(application, kind), lambda: build(
            force, application, self._new_link(application, purpose, "applicant", expires, purpose.value)))

    def remind_all(self, force_id: str) -> dict[str, Any]:
        """Chase offers and agreements, let them lapse, and close appeal windows; moved runs are woken."""
        force = self._p.forces.require(force_id)
        counts = {"reminded": 0, "lapsed": 0, "escalated": 0}
        for group in force.groups:
            for stage in CHASED:
                for listed in self._p.repository.all_at(force_id, group.id, stage):
                    application = self._p.repository.get(force_id, listed.reference)  # the index can lag
                    if application is None or application.stage is not stage:
                        continue
                    for done in self.remind(force, application):
                        counts[done] += 1
        return counts

    def remind(self, force: ForceProfile, application: Application) -> list[str]:
        """What time does to an application waiting on a person: reminders, escalation, lapses."""
        waited = self._now() - application.updated_at
        if application.stage is Stage.REJECTED:
            if waited >= timedelta(days=force.appeal.window_days):  # the appeal window closed unused
                return ["lapsed"] if self._lapse(application) else []
            return []
        if application.stage is Stage.SCREENING:
            return self._chase_screening(force, application, waited)
        if application.stage is Stage.RESIDENCY:
            return self._chase_residency(force, application, waited)
        if application.stage is Stage.APPEAL_LODGED:
            return self._chase_appeal_panel(force, application, waited)
        policy = force.onboarding
        limit = policy.offer_valid_days if application.stage is Stage.OFFERED else policy.agreement_valid_days
        if waited >= timedelta(days=limit):
            lapsed = self._lapse(application, ((f"lapsed-v{application.version + 1}",
                                                {"stage": application.stage.value}),))
            return ["lapsed"] if lapsed else []
        if waited >= timedelta(days=policy.reminder_after_days):
            offer = application.stage is Stage.OFFERED
            build = self._p.mail.offer if offer else self._onboarding_email
            purpose = Purpose.OFFER if offer else Purpose.AGREEMENT
            expires = application.updated_at + timedelta(days=limit)
            if self._send_with_link(force, application, f"{purpose.value}-reminder-v{application.version}", purpose,
                                    expires, self._reminding(build)):
                return ["reminded"]
        return []

    def _chase_screening(self, force: ForceProfile, application: Application, waited: timedelta) -> list[str]:
        """The vetting unit is asked again with a fresh link every reminder period until it answers; the IAG
        coordinator is told once. A check takes as long as it takes: it never lapses on the applicant."""
        every = timedelta(days=force.review.reminder_after_days)
        done = []
        if waited >= every:
            kind = f"screening-request-v{application.version}-r{waited // every}"
            outcome: list[Optional[screening.Outcome]] = []
            if self._p.postbox.act(application_email(application, kind),
                                   lambda: self._ask_for_screening(force, application, outcome)):
                if outcome[0] is not None:
                    self._record_screening(force, application, outcome[0], self._today(), None, "screening_provider")
                done.append("reminded")
        if self._overdue(force, application, waited, [role_words("vetting_unit")]):
            done.append("escalated")
        return done

    def _chase_residency(self, force: ForceProfile, application: Application, waited: timedelta) -> list[str]:
        """A fresh link every reminder period, and the IAG coordinator told once; it never lapses on its own: the
        coordinator can confirm having seen the evidence, or the applicant withdraw."""
        every = timedelta(days=force.review.reminder_after_days)
        done = []
        if waited >= every and self._send_with_link(
                force, application, f"residency-reminder-v{application.version}-r{waited // every}", Purpose.RESIDENCY,
                self._residency_link_expiry(force), self._reminding(self._p.mail.residency)):
            done.append("reminded")
        if self._overdue(force, application, waited, ["evidence of residency from the applicant"]):
            done.append("escalated")
        return done

    def _chase_appeal_panel(self, force: ForceProfile, application: Application, waited: timedelta) -> list[str]:
        decisions = self._p.links.decisions(force.id, application.reference, application.version)
        missing = [r for r in force.appeal.panel if r not in decisions]
        done = []
        if missing and waited >= timedelta(days=force.review.reminder_after_days):
            done += ["reminded"] * self._ask_appeal_panel(force, application, missing, reminder=True)
        if missing and self._overdue(force, application, waited, [role_words(r) for r in missing]):
            done.append("escalated")
        return done

    def _overdue(self, force: ForceProfile, application: Application, waited: timedelta,
                 waiting_for: list[str]) -> bool:
        """Tell the IAG coordinator, once per stage, when a reminder has not helped."""
        days = force.review.reminder_after_days + force.review.escalate_after_days
        kind = f"escalation-v{application.version}"
        if waited < timedelta(days=days):
            return False
        return self._p.postbox.email(application_email(application, kind),
                                     lambda: self._p.mail.overdue(force, application, waiting_for, days))

    def _lapse(self, application: Application, emails: tuple[Any, ...] = ()) -> bool:
        """End a wait that ran out; the run is woken (or reconciliation wakes it) to send the news and finish."""
        moved, event = self._apply(application, Action.EXPIRE, actor="system")
        try:
            self._p.store.move(moved, event, emails)
        except (StaleApplication, LinkConflict):
            return False  # the person acted meanwhile
        self._tell_run(moved, "lapsed")
        return True

    def resend(self, application: Application, stamp: str) -> bool:
        """The offer or agreement link again, fresh (an operator asked: the first was lost or expired in a mailbox)."""
        force = self._p.forces.require(application.force_id)
        policy = force.onboarding
        offer = application.stage is Stage.OFFERED
        if application.stage not in (Stage.OFFERED, Stage.ONBOARDING):
            return False
        build = self._p.mail.offer if offer else self._onboarding_email
        purpose = Purpose.OFFER if offer else Purpose.AGREEMENT
        limit = policy.offer_valid_days if offer else policy.agreement_valid_days
        return self._send_with_link(force, application, f"{purpose.value}-resend-{stamp}-v{application.version}",
                                    purpose, application.updated_at + timedelta(days=limit), build)

    @staticmethod
    def _reminding(build: Callable[..., EmailMessage]) -> Callable[[ForceProfile, Application, str], EmailMessage]:
        return lambda force, application, url: build(force, application, url, reminder=True)

    def _new_link(self, application: Application, purpose: Purpose, role: str, expires: datetime, path: str,
                  holder: str = "") -> str:
        token = new_token(self._p.random_bytes(32))
        self._p.links.add_links([Link(token_hash(token), purpose, application.force_id, application.reference,
                                      role, application.version, expires, holder=holder)])
        return f"{self._p.base_url}/{path}/{token}"

    def _move(self, application: Application, action: Action, *, actor: str, detail: Optional[dict[str, Any]] = None,
              emails: tuple[Any, ...] = ()) -> bool:
        moved, event = self._apply(application, action, actor=actor, detail=detail)
        try:
            self._p.repository.save_transition(moved, event, emails=emails)
        except StaleApplication:
            return False  # someone else moved it first: the next pass reads what they did
        return True

    def _apply(self, application: Application, action: Action, *, actor: str,
               detail: Optional[dict[str, Any]] = None) -> tuple[Application, AuditEvent]:
        try:
            return apply(application, action, at=self._now(), actor=actor, detail=detail)
        except IllegalTransition:
            raise LinkRefused(LinkProblem.SUPERSEDED) from None

    @staticmethod
    def _write(write: Callable[[], T]) -> T:
        try:
            return write()
        except LinkConflict:
            raise LinkRefused(LinkProblem.USED) from None
        except StaleApplication:
            raise LinkRefused(LinkProblem.SUPERSEDED) from None

    def _now(self) -> datetime:
        return self._p.clock.now()

    def _today(self) -> date:
        return self._now().astimezone(LONDON).date()
