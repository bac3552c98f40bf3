"""One application's whole life, submission to membership, counted: AWS calls by operation and time per step.

Run from the repo root: .venv/bin/python bench/journey.py (or `make bench`). moto in process, a fake Prefect
(the flow's step is called directly), Northamptonshire (so screening runs), then Avon and Somerset with a
refusal and an upheld appeal. It prints figures and never fails on a number.
"""
from __future__ import annotations

import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update({
    "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench",
    "AWS_DEFAULT_REGION": "eu-west-2", "AWS_REGION": "eu-west-2", "IAG_TABLE": "iag-bench", "IAG_STAGE": "local",
    "IAG_PREFECT_API_URL": "http://127.0.0.1:9/api",
})
for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "IAG_DYNAMODB_ENDPOINT"):
    os.environ.pop(name, None)

import boto3  # noqa: E402
from bench.aws_calls import calls  # noqa: E402
from chalice.test import Client  # noqa: E402
from moto import mock_aws  # noqa: E402

from app import app  # noqa: E402
from chalicelib import bootstrap  # noqa: E402
from chalicelib.adapters import dynamodb  # noqa: E402
from chalicelib.adapters.s3_documents import S3Documents  # noqa: E402
from chalicelib.services.joining import APPEAL_PANEL  # noqa: E402
from chalicelib.settings import Settings  # noqa: E402
from tests.conftest import FakeWorkflow  # noqa: E402
from tests.factories import application_payload, post_json  # noqa: E402



class Journey:
    def __init__(self, client: Client, force: str):
        self.client, self.force, self.steps = client, force, []

    def step(self, name: str, action):
        before, began = Counter(calls), time.perf_counter()
        result = action()
        spent = Counter(calls)
        spent.subtract(before)
        self.steps.append((name, (time.perf_counter() - began) * 1000, +spent))
        return result

    def advance(self, reference: str):
        return bootstrap.container().review.advance(self.force, reference)

    def post(self, path: str, token: str, fields: dict):
        body = "&".join(f"{k}={v}" for k, v in fields.items())
        response = self.client.http.post(f"/{path}/{token}", body=body,
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code == 200, (path, response.status_code)


def latest_link(to: str, path: str) -> str:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    found = [t for m in ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-2"].sent_messages if hasattr(m, "body")
             and to in m.destinations["ToAddresses"] for t in re.findall(rf'/{path}/([A-Za-z0-9_-]+)"', m.body)]
    return found[-1]


def screened_member(client: Client) -> Journey:
    journey = Journey(client, "northamptonshire")
    payload = application_payload(group="northampton", applicant={"postcode": "NN1 1DT"})
    reference = journey.step("submit (API)", lambda: post_json(
        client, "/forces/northamptonshire/applications", payload).json_body["reference"])
    journey.step("flow: ask the panel", lambda: journey.advance(reference))
    for role in ("iag_chair", "local_inspector"):
        journey.step(f"decision ({role})", lambda role=role: journey.post(
            "review", latest_link(f"{role}@bench.example", "review"), {"decision": "approve"}))
    journey.step("flow: outcome, screening, offer", lambda: journey.advance(reference))
    journey.step("accept the offer", lambda: journey.post(
        "offer", latest_link("amira.khan@example.org", "offer"), {"answer": "accept"}))
    journey.step("flow: documents and agreement", lambda: journey.advance(reference))
    journey.step("sign the agreement", lambda: journey.post(
        "agreement", latest_link("amira.khan@example.org", "agreement"), {"confirm": "yes", "signed_name": "A+K"}))
    journey.step("flow: welcome (.ics), notices", lambda: journey.advance(reference))
    return journey


def appealed_member_offer(client: Client) -> Journey:
    journey = Journey(client, "avon-and-somerset")
    payload = application_payload(group="bristol", applicant={"postcode": "BS1 4DJ", "email": "b@example.org"})
    reference = journey.step("submit (API)", lambda: post_json(
        client, "/forces/avon-and-somerset/applications", payload).json_body["reference"])
    journey.step("flow: ask the panel", lambda: journey.advance(reference))
    journey.step("decision (reject)", lambda: journey.post(
        "review", latest_link("iag_chair@bench.example", "review"), {"decision": "reject", "reason": "No"}))
    journey.step("flow: refusal with appeal link", lambda: journey.advance(reference))
    journey.step("lodge the appeal", lambda: journey.post(
        "appeal", latest_link("b@example.org", "appeal"), {"grounds": "Please"}))
    journey.step("flow: ask the appeal panel", lambda: journey.advance(reference))
    for role in ("strategic_iag_chair", "assistant_chief_constable"):
        journey.step(f"appeal decision ({role})", lambda role=role: journey.post(
            "appeal-review", latest_link(f"{role}@bench.example", "appeal-review"), {"decision": "uphold"}))
    journey.step("flow: upheld, offer", lambda: journey.advance(reference))
    return journey


def report(title: str, journey: Journey) -> None:
    print(f"\n{title}")
    print(f"{'step':<44} {'ms':>7}  AWS calls")
    total = Counter()
    for name, ms, spent in journey.steps:
        total.update(spent)
        print(f"{name:<44} {ms:7.1f}  {', '.join(f'{op} {n}' for (_, op), n in sorted(spent.items()))}")
    writes = sum(n for (service, op), n in total.items() if service == "dynamodb" and op in (
        "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"))
    reads = sum(n for (service, op), n in total.items() if service == "dynamodb" and op in (
        "GetItem", "Query", "Scan", "TransactGetItems"))
    print(f"{'total':<44} {sum(ms for _, ms, _ in journey.steps):7.1f}  DynamoDB {writes} writes, {reads} reads; "
          f"SES {sum(n for (s, _), n in total.items() if s in ('ses', 'sesv2'))}; "
          f"S3 {sum(n for (s, _), n in total.items() if s == 's3')}")


def main() -> None:
    with mock_aws():
        settings = Settings.from_env()
        dynamodb.configure(settings)
        dynamodb.create_table_if_missing()
        boto3.client("ses", region_name=settings.region).verify_email_identity(EmailAddress=settings.mail_from)
        documents = S3Documents(settings.documents_bucket, settings.region)
        documents.ensure_bucket()
        documents.publish(ROOT / "infra" / "documents")
        bootstrap.reset()
        container = bootstrap.override(workflow=FakeWorkflow())
        for force in container.forces.all():
            for group in force.groups:
                for role in group.panel:
                    container.review_store.put_reviewer(force.id, group.id, role, role, f"{role}@bench.example")
            for role in force.appeal.panel:
                container.review_store.put_reviewer(force.id, APPEAL_PANEL, role, role, f"{role}@bench.example")
        with Client(app) as client:
            report("Northamptonshire: applied, approved, screened (simulated), accepted, signed: a member",
                   screened_member(client))
            report("Avon and Somerset: refused, appealed, upheld by both, offered",
                   appealed_member_offer(client))
    print("\nWrites: TransactWriteItems is one write of several items; UpdateItem are mostly email claims and"
          " 'sent' marks. The Prefect calls (start, resume) are faked here.")


if __name__ == "__main__":
    main()
