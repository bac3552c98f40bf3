"""Emails to applicants and to forces. Each is recorded as pending in the same write as
what it announces, then sent; one that fails stays pending for a later retry."""
from __future__ import annotations

import logging
from typing import Callable

from chalicelib.domain.application import Application
from chalicelib.domain.forces import ForceProfile
from chalicelib.services.ports import ApplicationRepository, Clock, EmailMessage, Mailer

log = logging.getLogger(__name__)

Render = Callable[..., str]  # (template name, **context) -> text

SCREENING_WORDS = {"basic": "a basic police check", "limited": "limited security screening"}
ROLE_WORDS = {
    "iag_chair": "the IAG Chair", "police_coordinator": "the IAG Police Coordinator",
    "local_inspector": "the local Neighbourhood Policing Inspector",
}


def role_words(role: str) -> str:
    return ROLE_WORDS.get(role, "the " + role.replace("_", " "))


class ApplicantNotifier:
    def __init__(self, mailer: Mailer, render: Render, repository: ApplicationRepository, clock: Clock,
                 public_base_url: str):
        self._mailer = mailer
        self._render = render
        self._repository = repository
        self._clock = clock
        self._base_url = public_base_url

    def application_received(self, force: ForceProfile, application: Application, withdraw_url: str) -> None:
        status_url = f"{self._base_url}/forces/{force.id}/applications/{application.reference}/confirmation"
        message = self.received_message(self._render, force, application, status_url, withdraw_url)
        self._send(message, lambda message_id: self._repository.mark_email_sent(
            application, "received", message_id, self._clock.now()), application.reference)

    @staticmethod
    def received_message(render: Render, force: ForceProfile, application: Application, status_url: str,
                         withdraw_url: str) -> EmailMessage:
        group = force.group(application.group_id)
        context = {
            "force": force, "group": group, "application": application,
            "applicant": application.applicant, "reasons": application.eligibility["reasons"],
            "eligible": application.stage.value != "ineligible",
            "screening": SCREENING_WORDS.get(application.eligibility["screening"]),
            "panel": [role_words(r) for r in group.panel],
            "contact": force.contacts["recruitment"],
            "status_url": status_url, "withdraw_url": withdraw_url,
            "open_groups": [g for g in force.groups if g.accepts_applicants and g.id != group.id],
        }
        return EmailMessage(
            to=application.applicant["email"],
            subject=f"Your application to the {group.name}: {application.reference}",
            text=render("email/received.txt", **context),
            html=render("email/received.html", **context),
            reply_to=force.contacts["recruitment"].email,
            force_id=force.id,
        )

    def pack_requested(self, force: ForceProfile, request_id: str, details: dict) -> None:
        contact = force.contacts["accessible_formats"]
        # Only what we chose and a link to the operators' page: the requester's words stay out of the email, and
        # replies go to no address they typed (anyone can fill in the form, with anyone's address).
        context = {"force": force, "request": details, "request_id": request_id, "contact": contact,
                   "request_url": f"{self._base_url}/admin/pages/forces/{force.id}/pack-requests/{request_id}"}
        message = EmailMessage(
            to=contact.email,
            subject=f"Application pack requested in {details['format_words']}: {request_id}",
            text=self._render("email/pack_request.txt", **context),
            html=self._render("email/pack_request.html", **context),
            force_id=force.id,
        )
        self._send(message, lambda message_id: self._repository.mark_pack_request_sent(
            force.id, request_id, message_id, self._clock.now()), request_id)

    def _send(self, message: EmailMessage, mark_sent: Callable[[str], None], about: str) -> None:
        try:
            message_id = self._mailer.send(message)
        except Exception:  # the email stays pending in the outbox; the person's request is safe
            log.exception("email about %s not sent; left pending", about)
            return
        log.info("email about %s sent as %s", about, message_id)
        try:
            mark_sent(message_id)
        except Exception:  # sent but still marked pending: a retry may send it twice, which beats never
            log.exception("email about %s sent as %s but not marked sent", about, message_id)


# Emails that carry a single-use link: the step that owes one claims, links and sends it itself.
SENT_BY_THEIR_STEP = ("review-", "reminder-", "escalation-", "offer-", "onboarding-", "agreement-", "appeal-review-",
                      "screening-request-")


class ReviewMail:
    """Emails of the review: requests to panel members, and each outcome to the applicant.

    Outcome emails are announced (pending) in the same write as the outcome;
    `flush` claims each before sending, so a repeated or concurrent flush sends
    it once."""

    def __init__(self, mailer: Mailer, render: Render, repository: ApplicationRepository, clock: Clock,
                 forces, public_base_url: str, withdraw_link, more=None):
        self._mailer = mailer
        self._render = render
        self._repository = repository
        self._clock = clock
        self._forces = forces
        self._base_url = public_base_url
        self._withdraw_link = withdraw_link  # (application) -> (Link, url): a fresh link when one is re-sent
        # (application, kind, detail) -> EmailMessage, () for "nobody to tell", or None: emails of later stages
        self._more = more or (lambda application, kind, detail: None)

    def review_request(self, force: ForceProfile, application: Application, role: str, person: tuple[str, str],
                       url: str, kind: str, reminder: bool = False) -> None:
        name, email = person
        group = force.group(application.group_id)
        context = {"force": force, "group": group, "application": application, "name": name,
                   "role": role_words(role), "url": url, "valid_days": force.review.link_valid_days,
                   "reminder": reminder}
        message_id = self._mailer.send(EmailMessage(
            to=email, subject=f"{'Reminder: ' if reminder else ''}Application {application.reference} to the "
                              f"{group.name}: your decision",
            text=self._render("email/review_request.txt", **context),
            html=self._render("email/review_request.html", **context), force_id=force.id))
        log.info("email %s sent as %s", kind, message_id)
        self._repository.mark_email_sent(application, kind, message_id, self._clock.now())

    def escalation(self, force: ForceProfile, application: Application, missing: list[str], kind: str) -> None:
        coordinator = force.contacts["iag_coordinator"]
        group = force.group(application.group_id)
        context = {"force": force, "group": group, "application": application, "contact": coordinator,
                   "missing": [role_words(r) for r in missing],
                   "days": force.review.reminder_after_days + force.review.escalate_after_days}
        message_id = self._mailer.send(EmailMessage(
            to=coordinator.email, subject=f"Review overdue: application {application.reference} to the {group.name}",
            text=self._render("email/escalation.txt", **context), html=self._render("email/escalation.html", **context),
            force_id=force.id))
        log.info("email %s sent as %s", kind, message_id)
        self._repository.mark_email_sent(application, kind, message_id, self._clock.now())

    def flush(self, application: Application) -> None:
        for kind, detail in self._repository.pending_emails(application):
            if kind.startswith(SENT_BY_THEIR_STEP):
                continue  # these carry a fresh link, so only the step that owes them (re)sends them
            if not self._repository.claim_email(application, kind, self._clock.now()):
                continue
            try:
                outcome = kind.split("-v")[0]
                message = self._more(application, outcome, detail)
                if message is None:
                    message = self._applicant_email(application, outcome, detail)
                message_id = self._mailer.send(message) if message else "nobody-to-tell"
            except Exception:
                self._repository.release_email(application, kind)
                raise
            log.info("email %s sent as %s", kind, message_id)
            self._repository.mark_email_sent(application, kind, message_id, self._clock.now())

    def _applicant_email(self, application: Application, outcome: str, detail: dict) -> EmailMessage:
        force = self._forces.get(application.force_id)
        group = force.group(application.group_id)
        context = {"force": force, "group": group, "application": application, "applicant": application.applicant,
                   "outcome": outcome, "detail": detail, "contact": force.contacts["recruitment"],
                   "appeal_panel": [role_words(r) for r in force.appeal.panel],
                   "appeal_days": force.appeal.window_days,
                   "screening": SCREENING_WORDS.get(group.screening),
                   "previous_group": force.group(application.answers.get("redirected_from", "")),
                   "status_url": f"{self._base_url}/forces/{force.id}/applications/{application.reference}/confirmation"}
        if outcome == "received":
            return ApplicantNotifier.received_message(self._render, force, application, context["status_url"],
                                                      self._withdraw_link(application)[1])
        subjects = {"approved": "You have been accepted", "rejected": "The decision on your application",
                    "discussion": "An invitation to an informal discussion",
                    "redirected": "A suggestion of another IAG", "withdrawn": "Your application is withdrawn"}
        return EmailMessage(
            to=application.applicant["email"],
            subject=f"{subjects[outcome]}: {application.reference}",
            text=self._render("email/outcome.txt", **context), html=self._render("email/outcome.html", **context),
            reply_to=force.contacts["recruitment"].email, force_id=force.id)
