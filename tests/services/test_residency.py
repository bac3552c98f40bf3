"""Thames Valley's seed asks members to "validate residency": its profile requires evidence before the offer.
The applicant uploads it through a single-use link (to the private bucket), or a coordinator confirms having seen
it; meanwhile the application waits at that step, with reminders. In process: moto, a fake Prefect, a movable
clock, as tests/services/test_joining.py."""
from __future__ import annotations

from datetime import timedelta

import boto3
import pytest

from chalicelib import bootstrap
from chalicelib.domain.operators import Operator, Role
from tests.api.test_seed_rules import apply_to
from tests.conftest import sent_emails
from tests.services.test_joining import actions, journey, panel_approves, stage, to  # noqa: F401 (journey: a fixture)

APPLICANT = "amira.khan@example.org"
PDF = b"%PDF-1.4 a council tax bill\n%%EOF"


def upload(api, token: str, data: bytes = PDF, content_type: str = "application/pdf", filename: str = "bill.pdf"):
    boundary = "----residency-test"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"evidence\"; filename=\"{filename}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return api.http.post(f"/residency/{token}", body=body,
                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


def evidence_keys(reference: str) -> list[str]:
    settings = bootstrap.container().settings
    listed = boto3.client("s3", region_name=settings.region).list_objects_v2(
        Bucket=settings.documents_bucket, Prefix=f"evidence/thames-valley/{reference}/")
    return [o["Key"] for o in listed.get("Contents", [])]


def approved_in_thames_valley(api, journey, **changes) -> str:
    reference = apply_to(api, "thames-valley", **changes).json_body["reference"]
    panel_approves(api, journey, "thames-valley", reference)
    return reference


def test_after_approval_the_applicant_is_asked_for_evidence_of_residency_and_no_offer_is_made(api, journey):
    reference = approved_in_thames_valley(api, journey)
    assert stage("thames-valley", reference) == "residency"
    assert len(to(APPLICANT, "residency")) == 1
    assert to(APPLICANT, "offer") == [] and "make_offer" not in actions("thames-valley", reference)
    assert journey.advance("thames-valley", reference).stage == "residency"  # waking again asks once
    assert len(to(APPLICANT, "residency")) == 1


def test_uploaded_evidence_goes_to_the_private_bucket_and_the_offer_follows(api, journey):
    reference = approved_in_thames_valley(api, journey)
    token = to(APPLICANT, "residency")[-1]
    assert api.http.get(f"/residency/{token}").status_code == 200  # GET shows, changes nothing
    response = upload(api, token)
    assert response.status_code == 200, response.body
    [key] = evidence_keys(reference)
    settings = bootstrap.container().settings
    assert boto3.client("s3", region_name=settings.region).get_object(
        Bucket=settings.documents_bucket, Key=key)["Body"].read() == PDF
    application = bootstrap.container().repository.get("thames-valley", reference)
    assert application.answers["residency"]["how"] == "uploaded"
    assert journey.advance("thames-valley", reference).stage == "offered"
    assert to(APPLICANT, "offer")
    assert upload(api, token).status_code == 409  # the link worked once


@pytest.mark.parametrize("data, content_type, message", [
    (b"MZ an executable", "application/x-msdownload", "must be a PDF, JPEG or PNG"),
    (b"", "application/pdf", "Choose a file to upload"),
])
def test_a_refused_file_stores_nothing_and_the_link_still_works(api, journey, data, content_type, message):
    reference = approved_in_thames_valley(api, journey)
    token = to(APPLICANT, "residency")[-1]
    response = upload(api, token, data, content_type)
    assert response.status_code == 422 and message in response.body.decode()
    assert evidence_keys(reference) == [] and stage("thames-valley", reference) == "residency"
    assert upload(api, token).status_code == 200


def test_a_silent_applicant_is_reminded_with_a_fresh_link_and_the_coordinator_told_once_and_it_never_lapses(
        api, journey, clock):
    reference = approved_in_thames_valley(api, journey)
    joining = bootstrap.container().joining
    clock.moment += timedelta(days=7)
    assert joining.remind_all("thames-valley") == {"reminded": 1, "lapsed": 0, "escalated": 0}
    assert joining.remind_all("thames-valley")["reminded"] == 0
    assert len(to(APPLICANT, "residency")) == 2
    clock.moment += timedelta(days=14)
    counts = joining.remind_all("thames-valley")
    assert counts["escalated"] == 1 and counts["lapsed"] == 0
    assert joining.remind_all("thames-valley")["escalated"] == 0
    [overdue] = [m for m in sent_emails() if not hasattr(m, "raw_data") and m.subject.startswith("Overdue")]
    assert overdue.destinations["ToAddresses"] == ["iag@thames-valley.police.example"]
    assert "evidence of residency" in overdue.subject
    assert stage("thames-valley", reference) == "residency"
    assert upload(api, to(APPLICANT, "residency")[-1]).status_code == 200


def test_a_coordinator_who_saw_the_evidence_confirms_it_and_the_offer_follows(api, journey):
    reference = approved_in_thames_valley(api, journey)
    admin = Operator(id="coordinator-1", role=Role.FORCE_ADMIN, force_id="thames-valley")
    assert bootstrap.container().admin.confirm_residency(admin, "thames-valley", reference)["done"] == \
        "residency confirmed"
    application = bootstrap.container().repository.get("thames-valley", reference)
    assert application.answers["residency"] == {"how": "seen", "by": "coordinator-1",
                                                "at": application.answers["residency"]["at"]}
    assert journey.advance("thames-valley", reference).stage == "offered"
    assert upload(api, to(APPLICANT, "residency")[-1]).status_code == 409  # the applicant's link is superseded


def test_an_applicant_who_qualifies_by_working_in_the_area_goes_straight_to_the_offer(api, journey):
    reference = approved_in_thames_valley(api, journey, connection_to_area="works", work_postcode="RG1 7TH")
    assert stage("thames-valley", reference) == "offered"
    assert to(APPLICANT, "residency") == []


def test_erasing_the_application_deletes_the_uploaded_evidence(api, journey):
    reference = approved_in_thames_valley(api, journey)
    assert upload(api, to(APPLICANT, "residency")[-1]).status_code == 200
    summary = bootstrap.container().data_protection.erase("thames-valley", reference, requested_by="op-1",
                                                          reason="subject request")
    assert summary["evidence_files"] == 1 and evidence_keys(reference) == []
