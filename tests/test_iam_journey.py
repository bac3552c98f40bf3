"""Issue 14 point 6: IAM matches the code. One whole journey (apply, review, screening, joining, a meeting with
papers, a call-out, an election, a data request and erasure, residency evidence erased and deleted by retention,
reports) on in-process moto, recording every AWS request the API and the flows make, and the links the API signs.
Each must be allowed, action and resource, to the role that runs it in infra/resources.json (ApiHandlerRole,
FlowTaskRole) and, for the API, in .chalice/policy-prod.json; and every grant the journey never used must be on
the stated list below, with why.
Operators act through the admin API (call-outs and elections too), as they do in AWS: their requests run as the API.
"""
from __future__ import annotations

import email
import email.policy
import json
import re
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from urllib.parse import unquote, urlencode, urlparse

import botocore.client
import botocore.signers
import pytest

from chalicelib import bootstrap
from chalicelib.adapters.s3_documents import S3Documents
from tests.conftest import send_announced, sent_emails
from tests.factories import application_payload, post_json

ROOT = Path(__file__).resolve().parents[1]
FORCE, GROUP = "northamptonshire", "northampton"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
APPLICANT = "amira.khan@example.org"
# Thames Valley asks for evidence of residency: one applicant with evidence is erased, another withdraws and is
# deleted by retention, so the evidence grants (upload, and deletion by each component) are used, not stated.
TV, TV_GROUP, TV_POSTCODE = "thames-valley", "reading", "RG1 7TH"
TV_ERASED, TV_WITHDRAWN = "tv.erased@example.org", "tv.withdrawn@example.org"

# The IAM action each part of a TransactWriteItems needs (the transaction itself has no action of its own).
TRANSACTION_PARTS = {"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem", "Delete": "dynamodb:DeleteItem",
                     "ConditionCheck": "dynamodb:ConditionCheckItem"}

# Grants the journey does not use, and why each is still needed: what only the Lambda runtime, Prefect's worker or
# a deployed stage (secrets, Notify keys) uses. Anything else unused is a grant the code never uses, and fails the
# test; an entry no grant needs any more fails it too, so the list cannot outlive the grant.
STATED_UNUSED = {
    ("FlowTaskRole", "s3:GetObject", "flow-results"): "Prefect's own result storage (the flows' worker, not our code)",
    ("FlowTaskRole", "s3:PutObject", "flow-results"): "Prefect's own result storage",
    ("FlowTaskRole", "s3:DeleteObject", "flow-results"): "Prefect's own result storage",
    ("FlowTaskRole", "s3:ListBucket", "flow-results"): "Prefect's own result storage",
    ("ApiHandlerRole", "secretsmanager:GetSecretValue", ""): "the form secret, the Prefect API key and a force's "
                                                             "Notify key outside the local stage (tests run the "
                                                             "local stage)",
    ("FlowTaskRole", "secretsmanager:GetSecretValue", ""): "the Prefect API key and a Notify key outside the local "
                                                           "stage",
    ("ApiHandlerRole", "ssm:GetParameter", ""): "GOV.UK Notify keys, for a force that sends through Notify",
    ("FlowTaskRole", "ssm:GetParameter", ""): "as the API's",
    ("ApiHandlerRole", "logs:CreateLogStream", ""): "the Lambda runtime writing its logs, not our code",
    ("ApiHandlerRole", "logs:PutLogEvents", ""): "the Lambda runtime",
    ("ApiHandlerRole", "logs:CreateLogGroup", ""): "the Lambda runtime (Chalice's policy)",
}

component: ContextVar[str] = ContextVar("component", default="setup")


@contextmanager
def running_as(who: str):
    token = component.set(who)
    try:
        yield
    finally:
        component.reset(token)


@contextmanager
def aws_requests():
    """Every AWS request made in the block as (component, service, operation, params), and every URL signed."""
    made: list[tuple[str, str, str, dict]] = []
    make_api_call = botocore.client.BaseClient._make_api_call
    presign = botocore.signers.RequestSigner.generate_presigned_url

    def recording(client, operation, params):
        made.append((component.get(), client.meta.service_model.service_name, operation, params))
        return make_api_call(client, operation, params)

    def signing(signer, request_dict, operation_name, *args, **kwargs):
        made.append((component.get(), signer._service_id.hyphenize(), operation_name, {"url": request_dict["url"]}))
        return presign(signer, request_dict, operation_name, *args, **kwargs)
    botocore.client.BaseClient._make_api_call = recording
    botocore.signers.RequestSigner.generate_presigned_url = signing
    try:
        yield made
    finally:
        botocore.client.BaseClient._make_api_call = make_api_call
        botocore.signers.RequestSigner.generate_presigned_url = presign


# --- what a request needs: (IAM action, resource as the roles name it) ---

def needs(service: str, operation: str, params: dict) -> list[tuple[str, str]]:
    if service == "dynamodb":
        table = "table/" + params.get("TableName", "?")
        resource = f"{table}/index/{params['IndexName']}" if params.get("IndexName") else table
        if operation == "TransactWriteItems":
            return [(TRANSACTION_PARTS[kind], "table/" + body["TableName"])
                    for part in params["TransactItems"] for kind, body in part.items()]
        if operation == "BatchWriteItem":
            return [("dynamodb:BatchWriteItem", "table/" + name) for name in params["RequestItems"]]
        return [(f"dynamodb:{operation}", resource)]
    if service == "s3":
        if "url" in params:  # a signed link: the signer's role needs the action on the object
            url = urlparse(params["url"])
            path = unquote(url.path).lstrip("/")
            if not url.netloc.startswith(("s3.", "s3-")):  # virtual-hosted: the bucket is in the host name
                path = f"{url.netloc.split('.s3')[0]}/{path}"
            return [(f"s3:{operation}", f"bucket/{path}")]
        if operation in ("ListObjectsV2", "ListObjects"):
            return [("s3:ListBucket", f"bucket/{params['Bucket']}")]
        if operation == "DeleteObjects":  # no action of its own: s3:DeleteObject on each object
            return [("s3:DeleteObject", f"bucket/{params['Bucket']}/{o['Key']}") for o in params["Delete"]["Objects"]]
        if operation == "HeadObject":
            return [("s3:GetObject", f"bucket/{params['Bucket']}/{params['Key']}")]
        return [(f"s3:{operation}", f"bucket/{params['Bucket']}/{params.get('Key', '')}")]
    if service == "sesv2":
        return [("ses:SendEmail", "ses-identity")]
    return [(f"{service}:{operation}", service)]


def _resource(value, names: dict[str, str]) -> str:
    """A role's resource as the names used in the test: the template's references resolved to them."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return names[value["Fn::GetAtt"][0]]
    if isinstance(value, dict) and "Fn::Sub" in value:
        return re.sub(r"\$\{(\w+)\.Arn\}", lambda m: names[m.group(1)], value["Fn::Sub"]) \
            if "${" in value["Fn::Sub"] and ".Arn}" in value["Fn::Sub"] else "other:" + value["Fn::Sub"]
    if isinstance(value, dict) and "Ref" in value:
        return "ref:" + value["Ref"]
    return str(value)


def grants(settings) -> dict[str, list[tuple[str, str, str]]]:
    """role -> [(Sid, action, resource pattern)] for ApiHandlerRole, FlowTaskRole and Chalice's policy."""
    names = {"ApplicationsTable": f"table/{settings.table_name}", "DocumentsBucket": f"bucket/{settings.documents_bucket}",
             "FlowResultsBucket": "bucket/flow-results", "OperatorUserPool": "cognito-pool",
             "ApiHandlerLogGroup": "logs"}
    resources = json.loads((ROOT / "infra" / "resources.json").read_text())["Resources"]
    found: dict[str, list[tuple[str, str, str]]] = {}
    for role in ("ApiHandlerRole", "FlowTaskRole"):
        for policy in resources[role]["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                found.setdefault(role, []).extend((statement["Sid"], action, _resource(target, names))
                                                  for action in statement["Action"] for target in targets)
    chalice = json.loads((ROOT / ".chalice" / "policy-prod.json").read_text())["Statement"]
    literal = {"table/iag-backoffice": names["ApplicationsTable"], ":::iag-documents": ":::" + names["DocumentsBucket"]}
    for statement in chalice:
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for target in targets:
            for old, new in literal.items():
                target = target.replace(old, new)
            target = re.sub(r"^arn:aws:dynamodb:\*:\*:", "", target).replace("arn:aws:s3:::", "")
            found.setdefault("policy-prod", []).extend((statement["Sid"], action, target)
                                                        for action in statement["Action"])
    return found


def allowed(granted: list[tuple[str, str, str]], action: str, resource: str) -> list[tuple[str, str, str]]:
    if action == "ses:SendEmail":
        return [g for g in granted if g[1] == action]  # any verified identity of the sender's domain
    if action.split(":")[0] in ("cognito-idp",):
        return [g for g in granted if g[1] == action]  # the one operator pool
    return [g for g in granted if g[1] == action and fnmatchcase(resource, g[2])]


# --- the journey ---

def upload_evidence(api, token: str):
    boundary = "----evidence"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"evidence\"; filename=\"bill.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n%PDF-1.4 a council tax bill\n%%EOF\r\n--{boundary}--\r\n").encode()
    return api.http.post(f"/residency/{token}", body=body,
                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


def _text(message) -> str:
    """An email's text as sent: the body, or every text part of a raw message (one with an .ics)."""
    if hasattr(message, "body"):
        return message.body
    parsed = email.message_from_string(message.raw_data, policy=email.policy.default)
    return " ".join(part.get_content() for part in parsed.walk() if part.get_content_type() in ("text/plain",
                                                                                              "text/html"))


def links(address: str, path: str) -> list[str]:
    mine = [m for m in sent_emails() if address in str(m.destinations)]
    found = [t for m in mine for t in re.findall(rf'/{path}/([A-Za-z0-9_-]+)', _text(m))]
    assert found, (address, path, [getattr(m, "subject", "raw") for m in mine])
    return found


def form(api, path: str, token: str, **fields):
    answer = api.http.post(f"/{path}/{token}", body=urlencode(fields), headers=FORM)
    assert answer.status_code == 200, (path, answer.status_code, answer.body[:300])
    return answer


@pytest.fixture
def journey(api, operator_pool, clock):
    """Everything a force does with one person, from application to erasure, with the component of each step."""
    container = bootstrap.container()
    documents = S3Documents(container.settings.documents_bucket, container.settings.region)
    documents.ensure_bucket()
    documents.publish(ROOT / "infra" / "documents")
    bootstrap.override(documents=documents)
    admin = operator_pool.token("ann", "force_admin", FORCE)
    container = bootstrap.container()
    for role in container.forces.require(FORCE).require_group(GROUP).panel:
        container.review_store.put_reviewer(FORCE, GROUP, role, role.title(), f"{role}@panel.example")
    tv_panel = container.forces.require(TV).require_group(TV_GROUP).panel
    for role in tv_panel:
        container.review_store.put_reviewer(TV, TV_GROUP, role, role.title(), f"{role}@tv-panel.example")
    tv_admin = operator_pool.token("tia", "force_admin", TV)

    from flows.callouts import ask_members
    from flows.housekeeping import reconcile_force, remind_force
    from flows.member_life import meeting_business_of_force, members_of_force
    from flows.retention import sweep_force
    from flows.review import advance

    def admin_call(method: str, path: str, body=None, token: str = ""):
        headers = {"Authorization": token or admin, **({"Content-Type": "application/json"} if body is not None else {})}
        answer = getattr(api.http, method)(path, headers=headers, **({"body": json.dumps(body)} if body is not None else {}))
        assert answer.status_code < 300, (path, answer.status_code, answer.body[:300])
        return answer

    with aws_requests() as made:
        with running_as("api"):
            reference = post_json(api, f"/forces/{FORCE}/applications", application_payload(
                group=GROUP, applicant={"postcode": "NN1 1DT"})).json_body["reference"]
        with running_as("flows"):
            send_announced(FORCE, reference)
            advance.fn(FORCE, reference)
        with running_as("api"):
            for role in container.forces.require(FORCE).require_group(GROUP).panel:
                form(api, "review", links(f"{role}@panel.example", "review")[-1], decision="approve")
        with running_as("flows"):
            advance.fn(FORCE, reference)  # the outcome, screening (simulated here), the offer
        with running_as("api"):
            form(api, "offer", links(APPLICANT, "offer")[-1], answer="accept")
        with running_as("flows"):
            advance.fn(FORCE, reference)
        with running_as("api"):
            form(api, "agreement", links(APPLICANT, "agreement")[-1], confirm="yes", signed_name="Amira Khan")
        with running_as("flows"):
            advance.fn(FORCE, reference)  # welcome, member record
            remind_force.fn(FORCE)  # meetings planned, invitations sent; reminders; elections moved on
            members_of_force.fn(FORCE)
        with running_as("api"):
            form(api, "attend", links(APPLICANT, "attend")[-1], answer="apologies")
            planned = container.meetings.plan(FORCE, GROUP)[0]
            uid = planned.meeting.uid_key
            admin_call("post", f"/admin/forces/{FORCE}/groups/{GROUP}/meetings/{uid}/papers",
                       {"filename": "briefing.txt", "title": "Briefing", "content_base64": "TWVtYmVycyBvbmx5"})
            admin_call("post", f"/admin/forces/{FORCE}/groups/{GROUP}/meetings/{uid}/send-papers", {})
        with running_as("flows"):
            meeting_business_of_force.fn(FORCE)
        with running_as("api"):
            papers = links(APPLICANT, "papers")[-1]
            assert api.http.get(f"/papers/{papers}").status_code == 200
            assert api.http.get(f"/papers/{papers}/1").status_code in (302, 303)  # to a signed S3 link
        with running_as("api"):  # the members asked are written in batches (BatchWriteItem)
            incident = admin_call("post", f"/admin/forces/{FORCE}/incidents", {
                "title": "Disorder", "summary": "Advice wanted.", "respond_within_minutes": 120,
                "police_lead_name": "Supt Lead", "police_lead_email": "lead@police.example"}).json_body
        with running_as("flows"):
            ask_members.fn(FORCE, incident["id"])
        with running_as("api"):
            form(api, "callout", links(APPLICANT, "callout")[-1], answer="available", note="")
        with running_as("flows"):
            reconcile_force.fn(FORCE)
        with running_as("api"):
            election = admin_call("post", f"/admin/forces/{FORCE}/groups/{GROUP}/elections", {
                "office": "chair", "nominations_days": 7, "voting_days": 7}).json_body
            form(api, "stand", links(APPLICANT, "stand")[-1], statement="I will listen.")
        clock.moment += timedelta(days=7, hours=1)
        with running_as("flows"):
            remind_force.fn(FORCE)  # voting opens
        with running_as("api"):
            paper = re.search(r'name="paper" value="([^"]+)"',
                              form(api, "vote", links(APPLICANT, "vote")[-1]).body.decode()).group(1)
            answer = api.http.post("/ballot", body=urlencode({"paper": paper, "candidate": reference}), headers=FORM)
            assert answer.status_code == 200, answer.body[:300]
        clock.moment += timedelta(days=7, hours=1)
        with running_as("flows"):
            remind_force.fn(FORCE)  # the result
            container.reports.funnel(FORCE)  # as flows/reports.py publishes it
            container.reports.queues(FORCE)
        with running_as("api"):
            admin_call("get", f"/admin/forces/{FORCE}/reports/recruitment")
            admin_call("post", f"/admin/forces/{FORCE}/subject-access", {"email": APPLICANT})
            form(api, "your-data", links(APPLICANT, "your-data")[-1])
            admin_call("post", f"/admin/forces/{FORCE}/applications/{reference}/erasure",
                       {"reason": "Letter of 20 November", "confirm": reference})
        tv_references = {}
        for address in (TV_ERASED, TV_WITHDRAWN):
            with running_as("api"):
                tv_references[address] = post_json(api, f"/forces/{TV}/applications", application_payload(
                    group=TV_GROUP, applicant={"postcode": TV_POSTCODE, "email": address})).json_body["reference"]
            with running_as("flows"):
                send_announced(TV, tv_references[address])
                advance.fn(TV, tv_references[address])
            with running_as("api"):
                for role in tv_panel:
                    form(api, "review", links(f"{role}@tv-panel.example", "review")[-1], decision="approve")
            with running_as("flows"):
                advance.fn(TV, tv_references[address])  # evidence of residency asked for
            with running_as("api"):
                uploaded = upload_evidence(api, links(address, "residency")[-1])
                assert uploaded.status_code == 200, uploaded.body[:300]
        with running_as("api"):
            admin_call("post", f"/admin/forces/{TV}/applications/{tv_references[TV_ERASED]}/erasure",
                       {"reason": "Letter of 21 November", "confirm": tv_references[TV_ERASED]}, token=tv_admin)
            form(api, "withdraw", links(TV_WITHDRAWN, "withdraw")[-1])
            # Signing out ends the operator's sign-in everywhere (Cognito global sign-out).
            assert api.http.post("/admin/sign-out", body="", headers={
                **FORM, "Cookie": f"iag_operator={admin}"}).status_code == 303
            assert api.http.get("/admin/me", headers={"Authorization": admin}).status_code == 401
        with running_as("flows"):
            sweep_force.fn(FORCE)
        clock.moment += timedelta(days=220)  # past Thames Valley's six months for an unsuccessful application
        with running_as("flows"):
            assert sweep_force.fn(TV)["evidence_files"] == 1  # the withdrawn applicant's, with their application
    assert all(documents.delete_evidence(TV, reference) == 0 for reference in tv_references.values())
    assert container.elections.follow(FORCE, GROUP, election["id"])["election"].status.value == "closed"
    return made


def unstated(unused: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The unused grants that STATED_UNUSED does not explain (policy-prod is the API's role, as Chalice deploys it)."""
    return [(role, action, pattern) for role, action, pattern in unused
            if not any(r == ("ApiHandlerRole" if role == "policy-prod" else role) and a == action and p in pattern
                       for r, a, p in STATED_UNUSED)]


def test_every_aws_request_of_a_whole_journey_is_granted_and_nothing_unused_is_granted_beyond_the_stated_list(
        journey):
    """One journey (it takes a while to build), three checks: every request is allowed to its role, every grant
    of a role is used by the journey or stated in STATED_UNUSED, and every stated entry still names a grant."""
    granted = grants(bootstrap.container().settings)
    refused, used = [], set()
    for who, service, operation, params in journey:
        assert who in ("api", "flows"), (who, service, operation)
        roles = ("ApiHandlerRole", "policy-prod") if who == "api" else ("FlowTaskRole",)
        for action, resource in needs(service, operation, params):
            for role in roles:
                matches = allowed(granted[role], action, resource)
                refused += [] if matches else [(role, action, resource)]
                used |= {(role, g[1], g[2]) for g in matches}
    assert sorted(set(refused)) == [], "\n".join(map(str, sorted(set(refused))))
    assert [o for _, s, o, _ in journey if s == "dynamodb" and o == "Scan"] == []
    reached = {(who, s) for who, s, _, _ in journey}
    assert {("api", "dynamodb"), ("api", "sesv2"), ("api", "s3"), ("api", "cognito-idp"), ("flows", "dynamodb"),
            ("flows", "sesv2")} <= reached  # the journey reached every service it is meant to

    unused = sorted({(role, action, pattern) for role, statements in granted.items()
                     for _, action, pattern in statements if (role, action, pattern) not in used})
    assert unstated(unused) == [], "\n".join(map(str, unstated(unused)))
    outlived = [entry for entry in STATED_UNUSED
                if not any(r == entry[0] and a == entry[1] and entry[2] in p
                           for role, a, p in unused for r in (("ApiHandlerRole",) if role == "policy-prod" else (role,)))]
    assert outlived == [], f"used now, no longer to be stated: {outlived}"
    # A grant added back that nothing uses (as the flows' ConditionCheckItem was, issue 14) fails the first check.
    table = f"table/{bootstrap.container().settings.table_name}"
    assert unstated(unused + [("FlowTaskRole", "dynamodb:ConditionCheckItem", table)]) == [
        ("FlowTaskRole", "dynamodb:ConditionCheckItem", table)]
