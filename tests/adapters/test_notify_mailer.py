"""The GOV.UK Notify mailer against a small Notify stand-in on 127.0.0.1: what the real client sends, and how
Notify's answers become the port's contract (a message id, or MailNotSent saying whether to try again)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest

from chalicelib.adapters.notify_mailer import NotifyMailer
from chalicelib.domain.forces import NotifySettings
from chalicelib.services.log_context import about
from chalicelib.services.ports import Attachment, EmailMessage, MailNotSent

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"iag_test-{SERVICE_ID}-{SECRET}"
TEMPLATE_ID = "f33517ff-2a88-4f6e-b855-c550268ce08a"
RECRUITMENT_REPLY_ID = "8e222534-7f05-4972-86e3-17c5d9f894e2"
NOTIFICATION_ID = "740e5834-3a29-46b4-9a6f-16142fde533a"


class FakeNotify:
    """Answers POST /v2/notifications/email with the next queued (status, body) and keeps each request."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, dict]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "json": body})
                status, answer = fake.answers.pop(0) if fake.answers else (201, _created())
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _created() -> dict:
    return {"id": NOTIFICATION_ID, "reference": None, "content": {"subject": "s", "body": "b", "from_email": "x"},
            "uri": "", "template": {"id": TEMPLATE_ID, "version": 1, "uri": ""}}


@pytest.fixture
def notify():
    fake = FakeNotify()
    yield fake
    fake.close()


def settings(**changes) -> NotifySettings:
    values = dict(template_id=TEMPLATE_ID, api_key_source="ssm_parameter", api_key_name="/iag/test/notify",
                  reply_to_ids={"iag.recruitment@force.example": RECRUITMENT_REPLY_ID})
    return NotifySettings(**{**values, **changes})


def mailer(notify: FakeNotify, **changes) -> NotifyMailer:
    return NotifyMailer(settings(**changes), lambda: API_KEY, base_url=notify.url, timeout_seconds=2)


def message(**changes) -> EmailMessage:
    values = dict(to="applicant@example.com", subject="Your application to the Derby IAG: DER-2026-000123",
                  text="Dear Sam,\n\nWe have your application.\n\n- one\n- two\n", html="<p>Dear Sam</p>",
                  reply_to="iag.recruitment@force.example", force_id="derbyshire")
    return EmailMessage(**{**values, **changes})


def test_an_email_goes_to_the_generic_template_with_subject_and_plain_text_body(notify):
    message_id = mailer(notify).send(message())

    assert message_id == NOTIFICATION_ID
    [request] = notify.requests
    assert request["path"] == "/v2/notifications/email"
    assert request["json"] == {
        "email_address": "applicant@example.com", "template_id": TEMPLATE_ID,
        "personalisation": {"subject": "Your application to the Derby IAG: DER-2026-000123",
                            "body": "Dear Sam,\n\nWe have your application.\n\n- one\n- two\n"},
        "email_reply_to_id": RECRUITMENT_REPLY_ID}


def test_the_application_reference_goes_with_the_email_so_notify_can_be_searched_by_it(notify):
    with about(reference="DER-2026-000123", force="derbyshire"):
        mailer(notify).send(message())

    assert notify.requests[0]["json"]["reference"] == "DER-2026-000123"


def test_each_request_carries_a_bearer_jwt_signed_with_the_key_for_the_service(notify):
    mailer(notify).send(message())

    scheme, token = notify.requests[0]["headers"]["Authorization"].split(" ")
    assert scheme == "Bearer"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["iss"] == SERVICE_ID and "iat" in claims


def test_a_reply_to_address_without_a_notify_id_is_written_into_the_email_instead(notify):
    mailer(notify, default_reply_to_id=None).send(message(reply_to="someone.asking@example.org"))

    sent = notify.requests[0]["json"]
    assert "email_reply_to_id" not in sent  # the Notify service's default reply-to
    assert "To reply, write to someone.asking@example.org" in sent["personalisation"]["body"]


def test_a_calendar_file_cannot_travel_through_notify_and_the_email_says_so_first(notify):
    ics = Attachment("derby-meetings.ics", "text/calendar; method=PUBLISH", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")

    mailer(notify).send(message(attachments=(ics,)))

    body = notify.requests[0]["json"]["personalisation"]["body"]
    assert body.startswith("^ This email cannot carry its calendar file (derby-meetings.ics)")
    assert body.endswith("- one\n- two\n")
    assert "BEGIN:VCALENDAR" not in json.dumps(notify.requests[0]["json"])


def test_text_someone_typed_cannot_become_a_disguised_link(notify):
    mailer(notify).send(message(text="New member: [Sam](https://evil.example/)"))

    assert notify.requests[0]["json"]["personalisation"]["body"] == "New member: [Sam] (https://evil.example/)"


@pytest.mark.parametrize("status, error, retryable", [
    (400, {"error": "BadRequestError", "message": "Template not found"}, False),
    (400, {"error": "ValidationError", "message": "email_address Not a valid email address"}, False),
    (403, {"error": "AuthError", "message": "Invalid token: API key not found"}, False),
    (429, {"error": "RateLimitError", "message": "Exceeded rate limit for key type LIVE of 3000 requests per 60 "
                                                 "seconds"}, True),
    (500, {"error": "Exception", "message": "Internal server error"}, True),
])
def test_notify_refusals_raise_and_say_whether_trying_again_can_help(notify, status, error, retryable):
    notify.answers.append((status, {"status_code": status, "errors": [error]}))

    with pytest.raises(MailNotSent) as raised:
        mailer(notify).send(message())

    assert raised.value.status == status and raised.value.retryable is retryable
    assert error["message"] in str(raised.value)


def test_no_answer_from_notify_is_worth_trying_again():
    unreachable = NotifyMailer(settings(), lambda: API_KEY, base_url="http://127.0.0.1:9", timeout_seconds=1)

    with pytest.raises(MailNotSent) as raised:
        unreachable.send(message())

    assert raised.value.retryable is True


def test_a_missing_api_key_fails_the_send_loudly_and_is_not_retried_blindly(notify):
    def no_key():
        raise LookupError("ParameterNotFound: /iag/test/notify")

    with pytest.raises(MailNotSent, match="no GOV.UK Notify API key") as raised:
        NotifyMailer(settings(), no_key, base_url=notify.url).send(message())

    assert raised.value.retryable is False
    assert notify.requests == []


def test_a_malformed_api_key_is_the_same_loud_failure_as_a_missing_one(notify):
    with pytest.raises(MailNotSent, match="no GOV.UK Notify API key") as raised:
        NotifyMailer(settings(), lambda: "", base_url=notify.url).send(message())

    assert raised.value.retryable is False
