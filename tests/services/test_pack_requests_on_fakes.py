"""A request for the application pack in an accessible format, on the in-memory fakes: stored, then emailed to
the force's contact for accessible formats. (tests/web/test_pages.py checks the form on moto.)"""
from __future__ import annotations

import pytest

from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.adapters.pack_files import ShippedPackFiles
from chalicelib.adapters.schema_validation import validate
from chalicelib.adapters.templates import render
from chalicelib.services.intake import InvalidApplication
from chalicelib.services.notifications import ApplicantNotifier
from chalicelib.services.outbox import Postbox
from chalicelib.services.pack_requests import PackRequestService
from tests.conftest import TODAY, FixedClock
from tests.fakes import FakeApplicationRepository, FakeMailer, FakeOutbox

pytestmark = pytest.mark.fast
REQUEST = {"name": "Sam Person", "email": "sam@example.org", "format": "large_print"}


@pytest.fixture
def world():
    repository, mailer, clock = FakeApplicationRepository(), FakeMailer(), FixedClock(TODAY)
    notifier = ApplicantNotifier(Postbox(FakeOutbox(repository), mailer, clock), render, "https://iag.example")
    return repository, mailer, PackRequestService(FileForceCatalogue(), repository, validate, clock, notifier,
                                                  ShippedPackFiles())


def test_a_request_is_stored_and_sent_to_the_forces_contact_for_accessible_formats(world):
    repository, mailer, service = world
    request_id = service.request("derbyshire", REQUEST)

    assert repository.pack_requests[("derbyshire", request_id)]["format_words"] == "large print"
    [email] = mailer.sent
    assert email.to == "helen.ham@derbyshire.police.uk" and email.reply_to is None  # never an address they typed
    assert request_id in email.subject and "large print" in email.subject
    assert repository.outbox[(f"FORCE#derbyshire#PACK#{request_id}", "pack_request")]["status"] == "sent"


def test_a_format_the_force_does_not_offer_is_refused_and_nothing_is_stored_or_sent(world):
    repository, mailer, service = world
    with pytest.raises(InvalidApplication) as refused:
        service.request("derbyshire", {**REQUEST, "format": "braille"})
    assert [e.pointer for e in refused.value.errors] == ["/format"]
    assert repository.pack_requests == {} and mailer.sent == []


def test_when_the_email_cannot_be_sent_the_request_is_kept_and_its_email_stays_pending(world):
    repository, mailer, service = world
    mailer.failures.append(ConnectionError("SES unreachable"))
    request_id = service.request("derbyshire", REQUEST)
    assert ("derbyshire", request_id) in repository.pack_requests and mailer.sent == []
    assert repository.outbox[(f"FORCE#derbyshire#PACK#{request_id}", "pack_request")]["status"] == "pending"


# The standard pack by email (Greater Manchester: "apply for an information and application pack" by email).

STANDARD = {"name": "Sam Person", "email": "sam@example.org", "format": "standard"}


@pytest.mark.parametrize("force_id, files", [
    ("greater-manchester", ["iag-application-pack.html"]),
    ("derbyshire", ["iag-job-description.html"]),
    ("northamptonshire", ["iag-roles-and-responsibilities.html"]),
    ("avon-and-somerset", ["iag-application-form.html", "iag-equality-monitoring-form.html"]),
])
def test_the_standard_pack_is_emailed_at_once_with_every_document_the_seed_names(world, force_id, files):
    repository, mailer, service = world
    request_id = service.request(force_id, STANDARD)

    [email] = mailer.sent
    assert email.to == "sam@example.org" and "application pack" in email.subject
    assert [a.filename for a in email.attachments] == files
    assert all(b"TEMPLATE" in a.data for a in email.attachments)  # marked for the force to replace
    assert "Sam Person" not in email.text  # a typed address may not be theirs: nothing else they typed
    assert repository.outbox[(f"FORCE#{force_id}#PACK#{request_id}", "pack_sent")]["status"] == "sent"


def test_asking_for_the_standard_pack_needs_an_email_address(world):
    repository, mailer, service = world
    with pytest.raises(InvalidApplication) as refused:
        service.request("greater-manchester", {"name": "Sam", "phone": "01632 960 001", "format": "standard"})
    assert [e.pointer for e in refused.value.errors] == ["/email"]
    assert repository.pack_requests == {} and mailer.sent == []


def test_a_force_without_pack_documents_refuses_the_standard_pack(world):
    repository, mailer, service = world
    with pytest.raises(InvalidApplication) as refused:
        service.request("thames-valley", STANDARD)
    assert [e.pointer for e in refused.value.errors] == ["/format"]
    assert mailer.sent == []


def test_every_pack_document_a_profile_names_is_shipped():
    files = ShippedPackFiles()
    for force in FileForceCatalogue().all():
        for document in force.pack_documents:
            assert files.read(force.id, document.file).startswith(b"<!DOCTYPE html>"), (force.id, document.file)
