"""Bounces and complaints that arrive after an email was sent (SES → SNS → api/mail_feedback.py).

A refusal at send time is the outbox's (services/outbox.py and alerts.email_failing). This is the later news:
the notification names the provider's message id; the outbox recorded which email that was when it was sent.
Each notification is applied once (SNS delivers at least once): the email's outbox entry is marked, a permanent
bounce or a complaint about an applicant's or a member's email is noted on their record for staff (never the
address), and the platform operator and the force's coordinator get the same "email failing" alert as a refusal
at send time, keyed by the same incident, so they hear once however many times it is told.
"""
from __future__ import annotations

import logging
from typing import Optional, Protocol

from chalicelib.domain.alerts import Trouble
from chalicelib.domain.mail_feedback import Feedback, MailFeedback, MalformedFeedback, parse_feedback
from chalicelib.services.alerts import ALERT_AREA, AlertService
from chalicelib.services.ports import EmailKey

log = logging.getLogger(__name__)


class SentEmails(Protocol):
    """The outbox's record of sent emails by the provider's message id (DynamoMailFeedback)."""

    def sent_as(self, message_id: str) -> Optional[EmailKey]:
        """The email the provider gave this id, or None (not ours, or older than the record is kept)."""

    def record_feedback(self, key: EmailKey, feedback: MailFeedback) -> bool:
        """Mark the email's outbox entry; False when this notification (its feedback id) was applied already."""

    def note_on_record(self, key: EmailKey, feedback: MailFeedback) -> int:
        """Note it where staff see the person (the application's timeline, the member's record), once per
        notification: how many records were noted now (0 when the email was about no one person, e.g. a
        meeting's, or when this notification was noted already)."""


class MailFeedbackService:
    def __init__(self, sent: SentEmails, alerts: AlertService):
        self._sent = sent
        self._alerts = alerts

    def handle(self, message: object) -> str:
        """One SNS message: what was done, in a word (for the log and tests). Never raises for a message it cannot
        read or does not know: that is logged and dropped, since retrying it would fail the same way."""
        try:
            feedback = parse_feedback(message)
        except MalformedFeedback as error:
            log.warning("mail feedback dropped: %s", error)  # the message itself may hold addresses: not logged
            return "malformed"
        if feedback is None:
            return "ignored"
        key = self._sent.sent_as(feedback.message_id)
        if key is None:
            log.info("mail feedback %s for message %s: no email of ours by that id", feedback.kind.value,
                     feedback.message_id)
            return "unknown"
        first = self._sent.record_feedback(key, feedback)
        about = key.about
        if first:
            log.warning("email %s about %s %s: %s (%s)", key.kind, about.area, about.id, feedback.kind.value,
                        feedback.detail)
        if not feedback.kind.needs_a_person:
            return "noted" if first else "repeat"
        if about.area == ALERT_AREA:  # an alert that bounced: alerting about it would loop; the log says it
            log.error("an alert email to the force's contacts: %s; check the force profile's contacts",
                      feedback.kind.value)
            return "noted" if first else "repeat"
        # Both steps are idempotent (keyed by the notification, and by the incident in the one outbox), so a
        # repeat delivery after a failure part-way finishes the job, and after a success tells nobody again.
        self._sent.note_on_record(key, feedback)
        what = "bounced: the address does not take mail" if feedback.kind is Feedback.PERMANENT_BOUNCE else \
            "was reported as spam by its recipient"
        told = self._alerts.note(
            about.force_id, Trouble.EMAIL_FAILING, f"{about.area}:{about.id}:{key.kind}",
            f"the email '{key.kind}' about {about.area} {about.id} {what} ({feedback.detail})",
            "Correct the person's address (the application or the member's record shows the bounce) and send it "
            "again from the console; SES will not deliver to an address on its suppression list until it is "
            "removed there." if feedback.kind is Feedback.PERMANENT_BOUNCE else
            "Do not write to them again unasked: ask the coordinator to contact them another way.")
        return "alerted" if told else ("noted" if first else "repeat")
