"""A person joins through the links in their emails, in a real browser: reviewers approve, the applicant accepts
the offer on a phone, reads the documents and signs the agreement. This stack has no Prefect, so the test runs
the flow's step (`advance`) itself, against the same moto, whenever the run would have woken."""
from __future__ import annotations

import json
import re
import urllib.request

import pytest
from playwright.sync_api import expect

from chalicelib import bootstrap
from chalicelib.domain.review import Choice, Decision
from tests.conftest import FakeWorkflow
from tests.factories import application_payload
from tests.web.conftest import ROOT, screenshot
from tests.web.test_browser import axe_violations, fits_width

pytestmark = pytest.mark.browser


@pytest.fixture
def services(live_stack, monkeypatch):
    """The services of the flow worker, pointed at the browser stack's moto and API."""
    for name, value in {"IAG_AWS_ENDPOINT": live_stack.moto_url, "IAG_PUBLIC_BASE_URL": live_stack.api_url,
                        "IAG_TABLE": "iag-backoffice", "IAG_STAGE": "local"}.items():
        monkeypatch.setenv(name, value)
    bootstrap.reset()
    container = bootstrap.override(workflow=FakeWorkflow())
    from chalicelib.adapters.s3_documents import S3Documents
    documents = S3Documents(container.settings.documents_bucket, container.settings.region, live_stack.moto_url)
    documents.ensure_bucket()
    documents.publish(ROOT / "infra" / "documents")
    for role in ("iag_chair", "police_coordinator"):
        container.review_store.put_reviewer("derbyshire", "derbyshire-iag", role, f"Demo {role}",
                                            f"{role}@derbyshire.browser.example")
    yield container
    bootstrap.reset()


def apply(live_stack, email: str) -> str:
    payload = json.dumps(application_payload(applicant={"email": email})).encode()
    request = urllib.request.Request(f"{live_stack.api_url}/forces/derbyshire/applications", data=payload,
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request) as response:
        return json.load(response)["reference"]


def link(live_stack, to: str, path: str) -> str:
    found = [href for m in live_stack.emails() if to in m["destinations"]["ToAddresses"]
             for href in re.findall(rf'href="(http[^"]+/{path}/[^"]+)"', m["body"])]
    return found[-1]


def test_a_person_accepts_the_offer_on_a_phone_and_signs_the_agreement(live_stack, services, page, phone):
    reference = apply(live_stack, "joining.phone@example.org")
    services.review.advance("derbyshire", reference)
    for role in ("iag_chair", "police_coordinator"):
        page.goto(link(live_stack, f"{role}@derbyshire.browser.example", "review"))
        page.get_by_role("button", name="Approve").click()
        expect(page.get_by_role("heading", name="Decision recorded")).to_be_visible()
    assert services.review.advance("derbyshire", reference).stage == "offered"

    phone.goto(link(live_stack, "joining.phone@example.org", "offer"))
    expect(phone.get_by_role("heading", name=re.compile("Your offer of membership"))).to_be_visible()
    assert fits_width(phone)
    screenshot(phone, "offer-320px")
    phone.get_by_role("button", name="Accept the offer").click()
    expect(phone.get_by_role("heading", name="You have accepted")).to_be_visible()
    assert services.review.advance("derbyshire", reference).stage == "onboarding"

    phone.goto(link(live_stack, "joining.phone@example.org", "agreement"))
    terms = phone.get_by_role("link", name="Terms of Reference").get_attribute("href")
    assert urllib.request.urlopen(terms).read().decode().count("Terms of Reference") >= 1  # a live presigned link
    phone.get_by_label("Your full name").fill("Amira Khan")
    phone.get_by_role("button", name="Sign the agreement").click()  # the box is not ticked
    expect(phone).to_have_title(re.compile("^Error: "))
    expect(phone.locator(".govuk-error-summary")).to_be_visible()
    assert fits_width(phone)
    assert phone.get_by_label("Your full name").input_value() == "Amira Khan"  # kept
    phone.get_by_label(re.compile("I have read the confidentiality agreement")).check()
    phone.get_by_role("button", name="Sign the agreement").click()
    expect(phone.get_by_role("heading", name="Welcome to the group")).to_be_visible()
    screenshot(phone, "signed-320px")
    step = services.review.advance("derbyshire", reference)
    assert step.done and step.stage == "member"


@pytest.mark.parametrize("path", ["offer", "agreement"])
def test_the_offer_and_agreement_pages_have_no_serious_accessibility_violations(live_stack, services, browser, path):
    reference = apply(live_stack, f"axe.{path}@example.org")
    services.review.advance("derbyshire", reference)
    for role in ("iag_chair", "police_coordinator"):
        token = link(live_stack, f"{role}@derbyshire.browser.example", "review").rsplit("/", 1)[1]
        services.review.decide(token, Decision("", Choice.APPROVE))
    services.review.advance("derbyshire", reference)
    if path == "agreement":
        services.joining.answer_offer(link(live_stack, f"axe.{path}@example.org", "offer").rsplit("/", 1)[1], True)
        services.review.advance("derbyshire", reference)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(link(live_stack, f"axe.{path}@example.org", path))
    assert axe_violations(page) == []
    if path == "agreement":
        page.get_by_role("button", name="Sign the agreement").click()
        expect(page).to_have_title(re.compile("^Error: "))
        assert axe_violations(page) == []
    context.close()
