"""Importing members through the admin API on moto: the report, all or nothing in DynamoDB (across transactions),
the welcome emails, and the imported member's agreement page."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chalicelib.adapters.dynamodb import members as dynamodb_members
from chalicelib.adapters.dynamodb.joining import DynamoJoiningStore
from chalicelib.adapters.dynamodb.members import DynamoMemberImport
from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.domain.member_import import Row, member_from_row
from chalicelib.services.ports import MemberChange, MemberConflict
from tests.conftest import TODAY, sent_emails

DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLE = (DATA / "members-northamptonshire.csv").read_text()
WITH_ERRORS = (DATA / "members-northamptonshire-with-errors.csv").read_text()
PATH = "/admin/forces/northamptonshire/members/import"


def post(api, token, body):
    return api.http.post(PATH, headers={"Authorization": token, "Content-Type": "application/json"},
                         body=json.dumps(body))


def stored(group="northampton"):
    return {m.email: m for m in DynamoJoiningStore().members("northamptonshire", group)}


def test_a_dry_run_then_a_real_run_then_the_same_file_again(operator_pool, api):
    admin = operator_pool.token("ann", "force_admin", "northamptonshire")
    dry = post(api, admin, {"csv": WITH_ERRORS, "dry_run": True})
    assert dry.status_code == 200 and {"line": 3, "column": "email"} in [
        {k: p[k] for k in ("line", "column")} for p in json.loads(dry.body)["problems"]]
    refused = post(api, admin, {"csv": WITH_ERRORS, "dry_run": False})
    assert refused.status_code == 422 and refused.headers["Content-Type"] == "application/problem+json"
    assert stored() == {} and sent_emails() == []
    done = json.loads(post(api, admin, {"csv": SAMPLE, "dry_run": False}).body)
    assert done["applied"] and len(done["created"]) == 7 and done["welcomed"] == 7
    assert stored()["priya.raman@example.org"].role.value == "chair"
    again = json.loads(post(api, admin, {"csv": SAMPLE, "dry_run": False}).body)
    assert again["created"] == [] and again["updated"] == [] and again["welcomed"] == 0
    assert len(sent_emails()) == 7


def test_an_imported_chair_takes_the_iag_chair_panel_role(operator_pool, api):
    from chalicelib.adapters.dynamodb.review import DynamoReviewStore

    post(api, operator_pool.token("ann", "force_admin", "northamptonshire"), {"csv": SAMPLE, "dry_run": False})
    assert DynamoReviewStore().panel_members("northamptonshire", "northampton")["iag_chair"] == (
        "Priya Raman", "priya.raman@example.org")


def test_the_imported_member_signs_the_agreement_on_the_page_their_welcome_links_to(operator_pool, api):
    from chalicelib import bootstrap
    from chalicelib.adapters.s3_documents import S3Documents

    settings = bootstrap.container().settings
    documents = S3Documents(settings.documents_bucket, settings.region)
    documents.ensure_bucket()
    documents.publish(Path(__file__).resolve().parent.parent.parent / "infra" / "documents")
    post(api, operator_pool.token("ann", "force_admin", "northamptonshire"), {"csv": SAMPLE, "dry_run": False})
    [welcome] = [m for m in sent_emails() if "tom.okafor@example.org" in m.destinations["ToAddresses"]]
    [token] = set(re.findall(r"/members/agreement/([A-Za-z0-9_-]+)", welcome.body))
    shown = api.http.get(f"/members/agreement/{token}")
    assert shown.status_code == 200 and "Sign the agreement" in shown.body.decode()
    signed = api.http.post(f"/members/agreement/{token}", body="confirm=yes&signed_name=Tom+Okafor",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert signed.status_code == 200, signed.body
    assert stored()["tom.okafor@example.org"].agreement_version == "confidentiality-agreement@2026-11"
    assert api.http.get(f"/members/agreement/{token}").status_code == 409


def test_a_coordinator_of_another_group_and_another_forces_administrator_are_refused(operator_pool, api):
    for token in (operator_pool.token("cy", "coordinator", "northamptonshire", "strategic"),
                  operator_pool.token("tv", "force_admin", "thames-valley")):
        assert post(api, token, {"csv": SAMPLE, "dry_run": False}).status_code == 403
    assert stored() == {} and sent_emails() == []


def test_a_file_larger_than_one_transaction_is_undone_when_a_later_transaction_fails(api, monkeypatch):
    monkeypatch.setattr(dynamodb_members, "CHUNK", 2)
    force = FileForceCatalogue().get("northamptonshire")
    rows = [Row(n + 2, {"name": f"Person {n}", "email": f"person{n}@example.org", "group": "northampton",
                        "role": "member", "joined_on": "2024-01-08", "screening_outcome": "clear",
                        "screening_level": "basic", "screening_date": "2024-01-01", "screening_expires": "2027-01-01"})
            for n in range(5)]
    changes = [MemberChange(r.line, None, member_from_row(force, r), ("name",)) for r in rows]
    DynamoJoiningStore().add_member(changes[4].after)  # someone else created the fifth meanwhile
    with pytest.raises(MemberConflict):  # the port's refusal; the service answers ImportConflict (409)
        DynamoMemberImport().apply_import("northamptonshire", changes, actor="test", at=TODAY)
    assert set(stored()) == {"person4@example.org"}  # the first two transactions were put back
    assert DynamoMemberImport().audit("northamptonshire", changes[0].after.member_id) == []


def test_an_imported_member_gets_their_data_by_email_and_can_be_erased_by_their_member_id(operator_pool, api):
    """Issue 14: a member who never applied (MEM-... id) is found by their address through the person index."""
    admin = operator_pool.token("ann", "force_admin", "northamptonshire")
    post(api, admin, {"csv": SAMPLE, "dry_run": False})
    priya = stored()["priya.raman@example.org"]
    emails = len(sent_emails())
    answer = api.http.post("/admin/forces/northamptonshire/subject-access", body=json.dumps(
        {"email": "Priya.Raman@example.org"}), headers={"Authorization": admin, "Content-Type": "application/json"})
    assert answer.status_code == 202 and json.loads(answer.body)["references"] == [priya.member_id]
    [email] = sent_emails()[emails:]
    assert email.destinations["ToAddresses"] == ["priya.raman@example.org"]
    [token] = set(re.findall(r"/your-data/([A-Za-z0-9_-]+)", email.body))
    package = api.http.post(f"/your-data/{token}", headers={"Content-Type": "application/x-www-form-urlencoded"},
                            body="")
    assert package.status_code == 200 and "Priya Raman" in package.body.decode()

    path = f"/admin/forces/northamptonshire/applications/{priya.member_id}/erasure"
    done = api.http.post(path, body=json.dumps({"reason": "Letter of 20 Nov", "confirm": priya.member_id}),
                         headers={"Authorization": admin, "Content-Type": "application/json"})
    assert done.status_code == 200 and json.loads(done.body)["references"] == [priya.member_id]
    assert "priya.raman@example.org" not in stored()


def test_the_welcome_carries_the_members_own_links_and_no_scrutiny_panel_they_did_not_choose(operator_pool, api):
    text = ("name,email,group,role,joined_on,agreement_signed_on\n"
            "Pat Member,pat.member@example.org,derbyshire-iag,member,2024-03-11,2024-03-11\n")
    answer = api.http.post("/admin/forces/derbyshire/members/import", body=json.dumps({"csv": text, "dry_run": False}),
                           headers={"Authorization": operator_pool.token("dee", "force_admin", "derbyshire"),
                                    "Content-Type": "application/json"})
    assert answer.status_code == 200, answer.body
    [welcome] = sent_emails()
    assert re.search(r"/step-down/[A-Za-z0-9_-]+", welcome.body) and re.search(r"/my-details/[A-Za-z0-9_-]+",
                                                                               welcome.body)
    assert "IAG meeting" in welcome.body and "Scrutiny panel" not in welcome.body  # opt-in, not chosen yet
