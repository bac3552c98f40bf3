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

    def application_received(self, force: ForceProfile, application: Application) -> None:
        group = force.group(application.group_id)
        context = {
            "force": force, "group": group, "application": application,
            "applicant": application.applicant, "reasons": application.eligibility["reasons"],
            "eligible": application.stage.value != "ineligible",
            "screening": SCREENING_WORDS.get(application.eligibility["screening"]),
            "panel": [role_words(r) for r in group.panel],
            "contact": force.contacts["recruitment"],
            "status_url": f"{self._base_url}/forces/{force.id}/applications/{application.reference}/confirmation",
            "open_groups": [g for g in force.groups if g.accepts_applicants and g.id != group.id],
        }
        message = EmailMessage(
            to=application.applicant["email"],
            subject=f"Your application to the {group.name}: {application.reference}",
            text=self._render("email/received.txt", **context),
            html=self._render("email/received.html", **context),
            reply_to=force.contacts["recruitment"].email,
        )
        self._send(message, lambda message_id: self._repository.mark_email_sent(
            application, "received", message_id, self._clock.now()), application.reference)

    def pack_requested(self, force: ForceProfile, request_id: str, details: dict) -> None:
        contact = force.contacts["accessible_formats"]
        context = {"force": force, "request": details, "request_id": request_id, "contact": contact}
        message = EmailMessage(
            to=contact.email,
            subject=f"Application pack requested in {details['format_words']}: {request_id}",
            text=self._render("email/pack_request.txt", **context),
            html=self._render("email/pack_request.html", **context),
            reply_to=details.get("email"),
        )
        self._send(message, lambda message_id: self._repository.mark_pack_request_sent(
            force.id, request_id, message_id, self._clock.now()), request_id)

    def _send(self, message: EmailMessage, mark_sent: Callable[[str], None], about: str) -> None:
        try:
            message_id = self._mailer.send(message)
        except Exception:  # the email stays pending in the outbox; the person's request is safe
            log.exception("email about %s not sent; left pending", about)
            return
        try:
            mark_sent(message_id)
        except Exception:  # sent but still marked pending: a retry may send it twice, which beats never
            log.exception("email about %s sent as %s but not marked sent", about, message_id)
