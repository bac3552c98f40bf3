"""Tests never reach real AWS: fake credentials, a fixed region, and moto in process."""
from __future__ import annotations

import os
from datetime import datetime, timezone

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-2", "AWS_REGION": "eu-west-2", "IAG_TABLE": "iag-test",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # Nothing listens here: a test that forgets its fake workflow fails loudly instead of reaching a real Prefect.
    "IAG_PREFECT_API_URL": "http://127.0.0.1:9/api",
})
for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "IAG_DYNAMODB_ENDPOINT"):
    os.environ.pop(name, None)

import boto3  # noqa: E402
import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib import bootstrap  # noqa: E402
from chalicelib.adapters import dynamodb  # noqa: E402
from chalicelib.settings import Settings  # noqa: E402


class FixedClock:
    def __init__(self, moment: datetime):
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


TODAY = datetime(2026, 11, 22, 10, 30, tzinfo=timezone.utc)


@pytest.fixture
def clock():
    return FixedClock(TODAY)


@pytest.fixture
def table():
    """An empty application table in moto, with the models pointed at it, and a verified sender."""
    with mock_aws():
        settings = Settings.from_env()
        dynamodb.configure(settings)
        dynamodb.create_table_if_missing()
        boto3.client("ses", region_name=settings.region).verify_email_identity(EmailAddress=settings.mail_from)
        yield
    for model in dynamodb.all_models():
        model._connection = None


class FakeWorkflow:
    """Prefect as the intake sees it: records the runs it was asked to start and resume."""

    def __init__(self):
        self.started: list[dict] = []
        self.resumed: list[tuple[str, dict]] = []

    def start(self, deployment, *, name, parameters, tags, idempotency_key):
        self.started.append({"deployment": deployment, "name": name, "parameters": parameters, "tags": tags})
        return f"run-{name}"

    def find_run(self, name):
        return f"run-{name}" if any(r["name"] == name for r in self.started) else None

    def resume(self, flow_run_id, run_input):
        self.resumed.append((flow_run_id, run_input))
        return True

    def state(self, flow_run_id):
        return "PAUSED", 0.0

    def retry(self, flow_run_id):
        pass


@pytest.fixture
def workflow():
    return FakeWorkflow()


@pytest.fixture
def api(table, clock, workflow):
    """The Chalice app in process, on moto, with a fixed clock and a fake Prefect."""
    from chalice.test import Client

    from app import app

    bootstrap.reset()
    bootstrap.override(clock=clock, workflow=workflow)
    with Client(app) as client:
        yield client
    bootstrap.reset()


def sent_emails() -> list:
    """What moto's SES has sent, oldest first (moto keeps the HTML body when both parts are sent)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-2"].sent_messages)
