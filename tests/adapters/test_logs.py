"""Structured logs: one JSON object a line, carrying what the line is about, and never the applicant's details."""
from __future__ import annotations

import io
import json
import logging
import re

import pytest

from chalicelib import bootstrap
from chalicelib.adapters.logs import configure_logging, log_context
from chalicelib.services.ports import WorkflowUnavailable
from tests.conftest import sent_emails
from tests.factories import application_payload, post_json
from tests.services.review_panel import PANEL, seat_panel

APPLICANT = application_payload()["applicant"]


@pytest.fixture
def log_lines():
    """Everything logged through the configuration the entry points use, as parsed lines (read when called)."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_each_line_is_one_json_object_with_time_level_logger_and_message(log_lines):
    logging.getLogger("chalicelib.services.example").warning("something about %s", "DBY-2026-7K3F9QX2")

    [line] = log_lines()
    assert line["level"] == "WARNING" and line["logger"] == "chalicelib.services.example"
    assert line["message"] == "something about DBY-2026-7K3F9QX2"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])
    assert "reference" not in line and "flow_run_id" not in line


def test_lines_written_inside_a_context_carry_its_reference_force_and_flow_run(log_lines):
    with log_context(reference="DBY-2026-7K3F9QX2", force="derbyshire", flow_run_id="run-1"):
        logging.getLogger("x").info("inside")
    logging.getLogger("x").info("after")

    inside, after = log_lines()
    assert (inside["reference"], inside["force"], inside["flow_run_id"]) == ("DBY-2026-7K3F9QX2", "derbyshire", "run-1")
    assert "reference" not in after


@pytest.mark.parametrize("leak, redacted", [
    ("sent to amira.khan@example.org", "sent to [email]"),
    ("lives at DE5 3RS", "lives at [postcode]"),
    ("lives at sw1a1aa", "lives at [postcode]"),
    ("lives at M1 1AE.", "lives at [postcode]."),
])
def test_anything_shaped_like_an_email_address_or_postcode_is_redacted(log_lines, leak, redacted):
    logging.getLogger("x").info(leak)
    try:
        raise ValueError(leak)
    except ValueError:
        logging.getLogger("x").exception("failed")

    message, failure = log_lines()
    assert message["message"] == redacted
    assert redacted in failure["exception"] and leak not in failure["exception"]


def test_references_and_message_ids_are_not_mistaken_for_postcodes(log_lines):
    logging.getLogger("x").info("DBY-2026-7K3F9QX2 sent as 0100018c-3fa8-5f64-5717-b3fc2c963f66")

    assert log_lines()[0]["message"] == "DBY-2026-7K3F9QX2 sent as 0100018c-3fa8-5f64-5717-b3fc2c963f66"


class RecordingMailer:
    def __init__(self, inner):
        self.inner = inner
        self.sent = []

    def send(self, message):
        self.sent.append(message)
        return self.inner.send(message)


def test_a_whole_application_logs_its_reference_on_every_line_and_none_of_the_applicants_details(
        api, workflow, log_lines):
    seat_panel()
    mailer = RecordingMailer(bootstrap.container().mailer)
    bootstrap.override(mailer=mailer)

    def prefect_down(*args, **kwargs):
        raise WorkflowUnavailable("connection refused")

    workflow.start = prefect_down  # a warning line too, not only the happy path
    reference = post_json(api, "/forces/derbyshire/applications", application_payload()).json_body["reference"]
    review = bootstrap.container().review
    review.advance("derbyshire", reference)  # the flow's first pass: the panel's links go out
    for address in PANEL.values():
        [token] = [t for m in sent_emails() if address in m.destinations["ToAddresses"]
                   for t in re.findall(r'/review/([A-Za-z0-9_-]+)"', m.body)]
        api.http.post(f"/review/{token}", body="decision=approve",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    review.advance("derbyshire", reference)  # the outcome email

    lines = log_lines()
    ours = [line for line in lines if line["logger"].startswith("chalicelib.")]
    assert [line["reference"] for line in ours] == [reference] * len(ours)
    messages = [line["message"] for line in ours]
    assert {"application received for derbyshire-iag: awaiting_review", "decision recorded: approve from the iag_chair",
            "decision recorded: approve from the police_coordinator"} <= set(messages)
    assert any(line["level"] == "WARNING" and "not started" in line["message"] for line in ours)
    # received, two review requests, the outcome and the offer
    assert sum(1 for line in ours if line["message"].startswith("email")) == len(mailer.sent) == 5
    assert {m.force_id for m in mailer.sent} == {"derbyshire"}  # so a Notify force's mail can leave by Notify
    written = json.dumps(lines)
    for detail in (APPLICANT["given_name"], APPLICANT["family_name"], APPLICANT["email"], APPLICANT["phone"],
                   APPLICANT["phone"].replace(" ", ""), APPLICANT["date_of_birth"], APPLICANT["postcode"],
                   APPLICANT["postcode"].replace(" ", "")):
        assert detail.lower() not in written.lower()


def test_in_lambda_the_runtime_handler_writes_the_json_with_its_request_id(monkeypatch):
    stream = io.StringIO()
    runtime = logging.StreamHandler(stream)  # stands in for the handler the Lambda runtime installs
    runtime.addFilter(lambda record: setattr(record, "aws_request_id", "8f5e-request") or True)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "iag-backoffice-prod")
    root.handlers[:] = [runtime]
    try:
        configure_logging()
        logging.getLogger("chalicelib.web.pages").warning("form refused")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)

    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert (line["message"], line["aws_request_id"]) == ("form refused", "8f5e-request")
