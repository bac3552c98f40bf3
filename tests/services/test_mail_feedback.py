"""Bounces and complaints told later, on fakes: the same email-failing alert as a refusal at send time, once per
incident, finished by SNS's redelivery when telling someone failed part-way, and never about an alert itself."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.services.mail_feedback import MailFeedbackService
from chalicelib.services.outbox import About, EmailKey
from chalicelib.services.ports import EmailMessage, MailNotSent
from tests.fakes import FakeSentEmails
from tests.services.test_alerts import COORDINATOR, OPERATOR, World

pytestmark = pytest.mark.fast

EVENTS = Path(__file__).resolve().parents[1] / "events"
CONFIRMATION = EmailKey(About("application", "northamptonshire", "NOR-2026-ABCD1234"), "confirmation")


def sent(world: World, key: EmailKey) -> str:
    """Send the email through the world's postbox: the provider's message id."""
    assert world.postbox.email(key, lambda: EmailMessage(to="amira.khan@example.org", subject="Thank you",
                                                         text="t", html="<p>t</p>", force_id=key.about.force_id))
    return f"message-{len(world.mailer.sent)}"


def bounce(message_id: str, bounce_type: str = "Permanent", feedback_id: str = "feedback-1") -> str:
    message = json.loads((EVENTS / "ses-bounce-permanent.json").read_text())
    message["mail"]["messageId"] = message_id
    message["bounce"].update(bounceType=bounce_type, feedbackId=feedback_id)
    return json.dumps(message)


@pytest.fixture
def world():
    world = World()
    world.sent_emails = FakeSentEmails(world.postbox.outbox)
    world.feedback = MailFeedbackService(world.sent_emails, world.alerts)
    return world


def test_a_permanent_bounce_reaches_the_operator_and_the_coordinator_once(world):
    message_id = sent(world, CONFIRMATION)
    assert world.feedback.handle(bounce(message_id)) == "alerted"
    assert world.feedback.handle(bounce(message_id)) == "repeat"
    assert world.feedback.handle(bounce(message_id, feedback_id="feedback-2")) == "noted"
    assert [len(world.alerts_to(a)) for a in (OPERATOR, COORDINATOR)] == [1, 1]
    assert world.postbox.outbox.entry(CONFIRMATION)["delivery"] == "bounced"
    assert len(world.sent_emails.noted) == 2  # each notification on the application's timeline, once


def test_a_transient_bounce_alone_tells_nobody_and_never_hides_a_permanent_one(world):
    message_id = sent(world, CONFIRMATION)
    assert world.feedback.handle(bounce(message_id, "Transient")) == "noted"
    assert world.alerts_to(OPERATOR) == world.alerts_to(COORDINATOR) == []
    world.feedback.handle(bounce(message_id, feedback_id="feedback-2"))
    world.feedback.handle(bounce(message_id, "Transient", feedback_id="feedback-3"))
    assert world.postbox.outbox.entry(CONFIRMATION)["delivery"] == "bounced"


def test_when_telling_someone_fails_snss_redelivery_finishes_the_job_without_repeating_it(world):
    message_id = sent(world, CONFIRMATION)
    world.mailer.failing[COORDINATOR] = [MailNotSent("SES answered 503", retryable=True)]
    with pytest.raises(MailNotSent):  # the function fails: SNS delivers the notification again
        world.feedback.handle(bounce(message_id))
    assert (len(world.alerts_to(OPERATOR)), len(world.alerts_to(COORDINATOR))) == (1, 0)
    assert world.feedback.handle(bounce(message_id)) == "alerted"
    assert (len(world.alerts_to(OPERATOR)), len(world.alerts_to(COORDINATOR))) == (1, 1)


def test_an_alert_that_bounces_is_logged_not_alerted_about(world):
    alert = EmailKey(About("alert", "northamptonshire", "email-failing:x"), "to-abc")
    message_id = sent(world, alert)
    assert world.feedback.handle(bounce(message_id)) == "noted"
    assert world.alerts_to(OPERATOR) == world.alerts_to(COORDINATOR) == []
