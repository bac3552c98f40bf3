"""Emails to applicants and to forces. Each is recorded as pending in the same write as
what it announces, then sent through the one outbox (services/outbox.py); one that fails
stays pending for a later retry."""
from __future__ import annotations

from contextlib import suppress
from typing import Any, Callable, Optional

from chalicelib.domain.application import Application
from chalicelib.domain.forces import ForceProfile
from chalicelib.domain.role_titles import role_words
from chalicelib.services.events import EmailDue, MessageBus
from chalicelib.services.outbox import About, EmailKey, Postbox, application_email
from chalicelib.services.ports import ApplicationRepository, Attachment, EmailMessage, ForceCatalogue

Render = Callable[..., str]  # (template name, **context) -> text

SCREENING_WORDS = {"basic": "a basic police check", "limited": "limited security screening"}


class ApplicantNotifier:
    """The emails a person's own request owes them (or the force): sent at once, through the one outbox. (The
    confirmation of an application is not one: its flow run sends it, see ReviewMail.flush.)"""

    def __init__(self, postbox: Postbox, render: Render, public_base_url: str):
        self._postbox = postbox
        self._render = render
        self._base_url = public_base_url

    @staticmethod
    def received_message(render: Render, force: ForceProfile, application: Application, status_url: str,
                         withdraw_url: str) -> EmailMessage:
        group = force.require_group(application.group_id)
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

    def pack_requested(self, force: ForceProfile, request_id: str, details: dict[str, Any]) -> None:
        contact = force.contacts["accessible_formats"]
        # Only what we chose and a link to the operators' page: the requester's words stay out of the email, and
        # replies go to no address they typed (anyone can fill in the form, with anyone's address).
        context = {"force": force, "request": details, "request_id": request_id, "contact": contact,
                   "request_url": f"{self._base_url}/admin/pages/forces/{force.id}/pack-requests/{request_id}"}
        message = EmailMessage(
            to=contact.address(),
            subject=f"Application pack requested in {details['format_words']}: {request_id}",
            text=self._render("email/pack_request.txt", **context),
            html=self._render("email/pack_request.html", **context),
            force_id=force.id,
        )
        self._now_or_later(EmailKey(About("pack_request", force.id, request_id), "pack_request"), message)

    def pack_sent(self, force: ForceProfile, request_id: str, to: str,
                  attachments: Callable[[], tuple[Attachment, ...]]) -> None:
        """The standard pack, to the address typed: the documents the force's pages already publish, nothing more,
        and replies go to the force's recruitment contact."""
        contact = force.contacts["recruitment"]
        context = {"force": force, "request_id": request_id, "contact": contact, "documents": force.pack_documents,
                   "apply_url": f"{self._base_url}/forces/{force.id}/apply"}

        def build() -> EmailMessage:
            return EmailMessage(
                to=to, subject=f"{force.name}: the IAG application pack you asked for",
                text=self._render("email/pack_sent.txt", **context),
                html=self._render("email/pack_sent.html", **context),
                reply_to=contact.email, attachments=attachments(), force_id=force.id)
        with suppress(Exception):  # logged by send_once; it stays pending, the request is stored
            self._postbox.email(EmailKey(About("pack_request", force.id, request_id), "pack_sent"), build)

    def _now_or_later(self, key: EmailKey, message: EmailMessage) -> None:
        # A failure is logged by send_once and the email stays pending; the person's request is stored either way.
        with suppress(Exception):
            self._postbox.email(key, lambda: message)


# Emails that carry a single-use link, or tell the coordinator a step cannot go on: the step that owes one claims
# and sends it itself.
SENT_BY_THEIR_STEP = ("review-", "reminder-", "escalation-", "offer-", "onboarding-", "agreement-", "appeal-review-",
                      "screening-request-", "role-empty-", "own-application-", "residency-")


class ReviewMail:
    """Emails of the review: requests to panel members, and each outcome to the applicant.

    Outcome emails are announced (pending) in the same write as the outcome;
    `flush` sends each through the one outbox, so a repeated or concurrent flush
    sends it once. An email of a later stage is written by whoever handles
    EmailDue on the bus (joining)."""

    def __init__(self, postbox: Postbox, render: Render, repository: ApplicationRepository, forces: ForceCatalogue,
                 public_base_url: str, withdraw_link: Callable[[Application], tuple[Any, ...]],
                 bus: Optional[MessageBus] = None):
        self.postbox = postbox
        self._repository = repository
        self._render = render
        self.render = render  # for the coordinator's notices (services/role_notices.py)
        self._forces = forces
        self._base_url = public_base_url
        self._withdraw_link = withdraw_link  # (application) -> (Link, url): issues (stores) a fresh link
        self._bus = bus or MessageBus()

    def review_request(self, force: ForceProfile, application: Application, role: str, person: tuple[str, str],
                       url: str, reminder: bool = False) -> EmailMessage:
        name, email = person
        group = force.require_group(application.group_id)
        context = {"force": force, "group": group, "application": application, "name": name,
                   "role": role_words(role), "url": url, "valid_days": force.review.link_valid_days,
                   "reminder": reminder}
        return EmailMessage(
            to=email, subject=f"{'Reminder: ' if reminder else ''}Application {application.reference} to the "
                              f"{group.name}: your decision",
            text=self._render("email/review_request.txt", **context),
            html=self._render("email/review_request.html", **context), force_id=force.id)

    def escalation(self, force: ForceProfile, application: Application, missing: list[str]) -> EmailMessage:
        coordinator = force.contacts["iag_coordinator"]
        group = force.require_group(application.group_id)
        context = {"force": force, "group": group, "application": application, "contact": coordinator,
                   "missing": [role_words(r) for r in missing],
                   "days": force.review.reminder_after_days + force.review.escalate_after_days}
        return EmailMessage(
            to=coordinator.address(), subject=f"Review overdue: application {application.reference} to the {group.name}",
            text=self._render("email/escalation.txt", **context), html=self._render("email/escalation.html", **context),
            force_id=force.id)

    def flush(self, application: Application) -> None:
        """Send the emails moves announced about it, each once; raises on the first failure (the rest wait)."""
        for kind, detail in self._repository.pending_emails(application):
            if kind.startswith(SENT_BY_THEIR_STEP):
                continue  # these carry a fresh link, so only the step that owes them (re)sends them

            def build(kind: str = kind, detail: dict[str, Any] = detail) -> Optional[EmailMessage]:
                return self._message(application, kind, detail)
            self.postbox.email(application_email(application, kind), build)

    def _message(self, application: Application, kind: str, detail: dict[str, Any]) -> Optional[EmailMessage]:
        outcome = kind.split("-v")[0]
        message = self._bus.ask(EmailDue(application, outcome, detail))
        if message is None:
            return self._applicant_email(application, outcome, detail)
        return message or None  # (): nobody to tell

    def _applicant_email(self, application: Application, outcome: str, detail: dict[str, Any]) -> EmailMessage:
        force = self._forces.require(application.force_id)
        group = force.require_group(application.group_id)
        context = {"force": force, "group": group, "application": application, "applicant": application.applicant,
                   "outcome": outcome, "detail": detail, "contact": force.contacts["recruitment"],
                   "appeal_panel": [role_words(r) for r in force.appeal.panel],
                   "appeal_days": force.appeal.window_days,
                   "screening": SCREENING_WORDS.get(group.screening),
                   "previous_group": force.group(application.answers.get("redirected_from", "")),
                   "status_url": f"{self._base_url}/forces/{force.id}/applications/{application.reference}/confirmation"}
        if outcome == "received":  # a withdraw link only for a live application: an ineligible one has ended
            return ApplicantNotifier.received_message(self._render, force, application, str(context["status_url"]),
                                                      self._withdraw_link(application)[1] if application.live else "")
        subjects = {"approved": "You have been accepted", "rejected": "The decision on your application",
                    "discussion": "An invitation to an informal discussion",
                    "redirected": "A suggestion of another IAG", "withdrawn": "Your application is withdrawn"}
        return EmailMessage(
            to=application.applicant["email"],
            subject=f"{subjects[outcome]}: {application.reference}",
            text=self._render("email/outcome.txt", **context), html=self._render("email/outcome.html", **context),
            reply_to=force.contacts["recruitment"].email, force_id=force.id)
