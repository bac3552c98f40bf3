"""Reading SES's later notifications: what kind of news, about which message, never an address."""
import json
from pathlib import Path

import pytest

from chalicelib.domain.mail_feedback import Feedback, MalformedFeedback, parse_feedback

EVENTS = Path(__file__).resolve().parents[1] / "events"


def event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


@pytest.mark.parametrize("bounce_type, kind", [("Permanent", Feedback.PERMANENT_BOUNCE),
                                               ("Transient", Feedback.TRANSIENT_BOUNCE),
                                               ("Undetermined", Feedback.TRANSIENT_BOUNCE)])
def test_a_bounce_is_permanent_only_when_ses_says_so(bounce_type, kind):
    message = event("ses-bounce-permanent.json")
    message["bounce"]["bounceType"] = bounce_type
    feedback = parse_feedback(json.dumps(message))
    assert (feedback.kind, feedback.message_id) == (kind, "MESSAGE_ID")
    assert feedback.kind.needs_a_person is (kind is Feedback.PERMANENT_BOUNCE)


def test_a_complaint_from_event_publishing_needs_a_person_and_names_no_address():
    feedback = parse_feedback(event("ses-complaint.json"))
    assert feedback.kind is Feedback.COMPLAINT and feedback.kind.needs_a_person
    assert "@" not in repr(feedback)


def test_deliveries_and_other_events_are_ignored():
    assert parse_feedback({"notificationType": "Delivery", "mail": {"messageId": "m"}}) is None
    assert parse_feedback({"eventType": "Open", "mail": {"messageId": "m"}}) is None


@pytest.mark.parametrize("message", [
    "not json", "[]", {}, {"notificationType": "Bounce", "mail": {}},
    {"notificationType": "Bounce", "mail": {"messageId": "m"}},
    {"notificationType": "Bounce", "mail": {"messageId": "m"},
     "bounce": {"bounceType": "Soft", "feedbackId": "f", "timestamp": "2026-11-22T10:00:00Z"}},
    {"notificationType": "Complaint", "mail": {"messageId": "m"}, "complaint": {"feedbackId": "f", "timestamp": "x"}},
])
def test_what_cannot_be_read_is_refused_with_a_reason(message):
    with pytest.raises(MalformedFeedback):
        parse_feedback(message)
