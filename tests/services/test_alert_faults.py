"""Fault tests for issue 16 point 4, in process (moto's DynamoDB and SES, a fake Prefect, a movable clock): Prefect
stopped while a decision is made, and an email SES refuses, each reach the platform operator and the coordinator once.
(A run failing twice, where Prefect's automation itself is the point: tests/flows/test_alert_automation.py.)"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from chalicelib import bootstrap
from chalicelib.adapters.ses_mailer import SesMailer
from chalicelib.services.ports import MailNotSent
from tests.conftest import sent_emails
from tests.services.review_panel import PANEL, applied

OPERATOR = "platform-operator@derbyshire.iag-backoffice.example"
COORDINATOR = "helen.ham@derbyshire.police.uk"  # Derbyshire's seed names her for applications


def alerts_to(address: str) -> list:
    return [m for m in sent_emails() if address in m.destinations["ToAddresses"] and "Needs attention" in m.subject]


def watch(api) -> None:
    """The Lambda schedule (chalicelib/api/watch.py), as EventBridge invokes it."""
    event = api.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])
    assert api.lambda_.invoke("watch_decisions", event).payload is not None


def test_a_decision_made_while_prefect_is_stopped_is_told_once_after_an_hour(api, review, workflow, clock):
    reference = applied(api)
    review.advance("derbyshire", reference)
    workflow.resume = lambda run_id, run_input: False  # Prefect stopped: the run cannot be resumed
    [token] = [t for m in sent_emails() if PANEL["iag_chair"] in m.destinations["ToAddresses"]
               for t in re.findall(r'/review/([A-Za-z0-9_-]+)"', m.body)]
    body = "decision=approve"
    assert api.http.post(f"/review/{token}", body=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 200

    clock.moment += timedelta(minutes=45)
    watch(api)
    assert alerts_to(OPERATOR) == []  # reconciliation may still deliver it

    clock.moment += timedelta(minutes=20)
    watch(api)
    for address in (OPERATOR, COORDINATOR):
        [alert] = alerts_to(address)
        assert reference in alert.subject and "Prefect" in alert.body

    for _ in range(3):  # every quarter of an hour while Prefect stays down
        clock.moment += timedelta(minutes=15)
        watch(api)
    assert len(alerts_to(OPERATOR)) == 1 and len(alerts_to(COORDINATOR)) == 1

    del workflow.resume  # Prefect is back: reconciliation delivers it, and nothing more is told
    assert review.reconcile("derbyshire")["woken"] == 1
    watch(api)
    assert len(alerts_to(OPERATOR)) == 1


class RefusesOneAddress(SesMailer):
    """SES refusing an address (a hard bounce puts it on the account's suppression list: MessageRejected)."""

    def __init__(self, refused: str, **settings):
        super().__init__(**settings)
        self.refused = refused

    def _send(self, message):
        if message.to == self.refused:
            raise ClientError({"Error": {"Code": "MessageRejected", "Message": "Address is on the suppression list"},
                               "ResponseMetadata": {"HTTPStatusCode": 400}}, "SendEmail")
        return super()._send(message)


def test_an_email_ses_refuses_is_told_once_and_the_others_still_go(api):
    settings = bootstrap.container().settings
    bootstrap.override(mailer=RefusesOneAddress("bounced@example.org", sender=settings.mail_from,
                                                region=settings.region, endpoint_url=settings.aws_endpoint))
    container = bootstrap.container()
    reference = applied(api, email="bounced@example.org")
    for _ in range(3):  # the application's run, then reconciliation passes, each try to send the confirmation
        with pytest.raises(MailNotSent):
            container.review.send_announced(container.repository.get("derbyshire", reference))

    for address in (OPERATOR, COORDINATOR):
        [alert] = alerts_to(address)
        assert "received" in alert.body and "SES answered 400 MessageRejected" in alert.body
        assert "bounced@example.org" not in alert.body  # the alert names the email, not the person
    assert all("bounced@example.org" not in m.destinations["ToAddresses"] for m in sent_emails())
