"""Bounces and complaints SES tells later, through SNS to the `ses_feedback` function, on moto: the right people hear
once, a transient bounce alone tells nobody, and a notification that cannot be read is dropped, not retried."""
from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

import pytest

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.joining import member_item
from chalicelib.domain.membership import Member, Role
from chalicelib.services.ports import About, EmailKey
from tests.conftest import send_announced, sent_emails
from tests.factories import application_payload, post_json

EVENTS = Path(__file__).resolve().parent / "events"
OPERATOR, COORDINATOR = "platform-operator@derbyshire.iag-backoffice.example", "helen.ham@derbyshire.police.uk"


def notification(name: str, message_id: str, **changes) -> dict:
    message = json.loads((EVENTS / name).read_text())
    message["mail"]["messageId"] = message_id
    for path, value in changes.items():  # e.g. bounce__bounceType="Transient"
        outer, inner = path.split("__")
        message[outer][inner] = value
    return message


def deliver(api, message, topic_arn: str = "arn:aws:sns:eu-west-2:123456789012:iag-backoffice-ses-feedback"):
    """What SNS hands the function: one record whose Message is the notification's JSON text."""
    event = api.events.generate_sns_event(message=message if isinstance(message, str) else json.dumps(message))
    event["Records"][0]["Sns"]["TopicArn"] = topic_arn
    return api.lambda_.invoke("ses_feedback", event).payload["outcomes"]


def alerts_to() -> list[str]:
    return sorted(m.destinations["ToAddresses"][0] for m in sent_emails() if m.subject.startswith("Needs attention"))


@pytest.fixture
def confirmation(api):
    """An application whose confirmation went out: (its reference, SES's message id of that email)."""
    reference = post_json(api, "/forces/derbyshire/applications", application_payload()).json_body["reference"]
    send_announced("derbyshire", reference)
    sent = [m for m in sent_emails() if "amira.khan@example.org" in m.destinations["ToAddresses"]]
    assert sent, "the confirmation was sent"
    return reference, sent[-1].id


def test_a_permanent_bounce_tells_the_operator_and_the_coordinator_once(api, confirmation):
    reference, message_id = confirmation
    bounce = notification("ses-bounce-permanent.json", message_id)
    assert deliver(api, bounce) == ["alerted"]
    assert alerts_to() == [COORDINATOR, OPERATOR]
    alert = next(m for m in sent_emails() if m.subject.startswith("Needs attention"))
    assert reference in alert.subject and "amira" not in (alert.subject + alert.body).lower()
    assert deliver(api, bounce) == ["repeat"]  # SNS delivers at least once
    assert deliver(api, notification("ses-bounce-permanent.json", message_id,
                                     bounce__feedbackId="another-notification-of-the-same-bounce")) == ["noted"]
    assert alerts_to() == [COORDINATOR, OPERATOR]  # nobody hears twice


def test_staff_see_the_bounce_on_the_application_without_the_address(api, confirmation, operator_pool):
    reference, message_id = confirmation
    deliver(api, notification("ses-bounce-permanent.json", message_id))
    coordinator = operator_pool.token("coord", "coordinator", "derbyshire", "derbyshire-iag")
    shown = api.http.get(f"/admin/forces/derbyshire/applications/{reference}",
                         headers={"Authorization": coordinator}).json_body
    noted = [e for e in shown["timeline"] if e["what"] == "email undeliverable"]
    assert [(e["by"], e["detail"]["provider"]) for e in noted] == [("mail provider", "Permanent/NoEmail")]
    assert "amira.khan" not in json.dumps(noted)


def test_a_transient_bounce_alone_tells_nobody(api, confirmation):
    _, message_id = confirmation
    assert deliver(api, notification("ses-bounce-permanent.json", message_id, bounce__bounceType="Transient",
                                     bounce__bounceSubType="MailboxFull")) == ["noted"]
    assert alerts_to() == []


def test_a_complaint_is_told_once_as_trouble_with_that_email(api, confirmation):
    _, message_id = confirmation
    complaint = notification("ses-complaint.json", message_id)
    assert deliver(api, complaint) == ["alerted"]
    assert deliver(api, complaint) == ["repeat"]
    assert alerts_to() == [COORDINATOR, OPERATOR]


def test_a_notification_that_cannot_be_read_is_logged_and_dropped_not_retried(api, confirmation, caplog):
    _, message_id = confirmation
    broken = notification("ses-bounce-permanent.json", message_id)
    del broken["mail"]["messageId"]
    with caplog.at_level(logging.WARNING):
        assert deliver(api, "this is not JSON") == ["malformed"]
        assert deliver(api, broken) == ["malformed"]
        assert deliver(api, notification("ses-bounce-permanent.json", message_id, bounce__bounceType="Soft")) == \
            ["malformed"]
    dropped = [r.getMessage() for r in caplog.records if "mail feedback dropped" in r.getMessage()]
    assert len(dropped) == 3 and not any("amira" in text for text in dropped)
    assert alerts_to() == []


def test_an_unknown_message_id_and_a_delivery_notice_change_nothing(api, confirmation):
    assert deliver(api, notification("ses-bounce-permanent.json", "not-one-of-ours")) == ["unknown"]
    assert deliver(api, {"notificationType": "Delivery", "mail": {"messageId": confirmation[1]}}) == ["ignored"]
    assert alerts_to() == []


def test_only_the_configured_topic_is_read(api, confirmation, monkeypatch):
    _, message_id = confirmation
    ours = "arn:aws:sns:eu-west-2:123456789012:iag-prod-ses-feedback"
    monkeypatch.setenv("IAG_SES_FEEDBACK_TOPIC_ARN", ours)
    bounce = notification("ses-bounce-permanent.json", message_id)
    assert deliver(api, bounce, topic_arn="arn:aws:sns:eu-west-2:999999999999:someone-elses") == ["foreign"]
    assert alerts_to() == []
    assert deliver(api, bounce, topic_arn=ours) == ["alerted"]


def test_a_members_bounced_address_is_noted_on_their_record_in_each_group(api):
    member = Member("DBY-1", "derbyshire", "derbyshire-iag", Role.MEMBER, "Member One", "one@example.org", "",
                    date(2026, 1, 5), date(2029, 1, 5), {}, {}, "confidentiality-agreement@2026-11")
    member_item(member).save()
    key = EmailKey(About("member", "derbyshire", "DBY-1"), "renewal-reminder")
    container = bootstrap.container()
    assert container.postbox.email(key, lambda: _message("one@example.org"))
    message_id = sent_emails()[-1].id
    assert deliver(api, notification("ses-bounce-permanent.json", message_id)) == ["alerted"]
    record = container.membership.member_record("derbyshire", "derbyshire-iag", "DBY-1")
    assert [(e["what"], e["by"]) for e in record["events"]] == [("email undeliverable", "mail provider")]
    assert "one@example.org" not in json.dumps(record["events"])


def _message(to: str):
    from chalicelib.services.ports import EmailMessage

    return EmailMessage(to=to, subject="Your term", text="text", html="<p>html</p>", force_id="derbyshire")


def test_the_outbox_records_which_email_a_message_id_was(api, confirmation):
    reference, message_id = confirmation
    from chalicelib.adapters.dynamodb.mail_feedback import DynamoMailFeedback

    found = DynamoMailFeedback().sent_as(message_id)
    assert found is not None and found.about == About("application", "derbyshire", reference)
