"""Submitting an application, on the in-memory fakes of the storage and mail ports: what the applicant and the
force notice, in milliseconds. (tests/api/test_applications_api.py checks the same journey through HTTP on moto.)"""
from __future__ import annotations

import itertools
import logging

import pytest

from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.adapters.schema_validation import validate
from chalicelib.adapters.templates import render
from chalicelib.domain.lifecycle import Stage
from chalicelib.services.intake import IdempotencyKeyReused, IntakeService, InvalidApplication, UnknownForce
from chalicelib.services.notifications import ApplicantNotifier
from chalicelib.services.outbox import Postbox
from chalicelib.services.review import withdraw_link
from tests.conftest import TODAY, FixedClock
from tests.factories import application_payload
from tests.fakes import FakeApplicationRepository, FakeMailer, FakeOutbox

pytestmark = pytest.mark.fast
BASE_URL = "https://iag.example"
FORCES = FileForceCatalogue()


class ScriptedRandom:
    """Random bytes as a script says, then counting: makes reference collisions happen on purpose."""

    def __init__(self, *scripted: bytes):
        self._scripted = list(scripted)
        self._counter = itertools.count(1)

    def __call__(self, n: int) -> bytes:
        if self._scripted:
            return self._scripted.pop(0)[:n].ljust(n, b"\0")
        return next(self._counter).to_bytes(n, "big")


class RecordingReview:
    """The review as intake sees it: issues the withdrawal link and is told to start."""

    def __init__(self, random_bytes):
        self.started: list[str] = []
        self._random_bytes = random_bytes

    def withdraw_link(self, application):
        return withdraw_link(application, self._random_bytes, BASE_URL)

    def start(self, application):
        self.started.append(application.reference)


@pytest.fixture
def world():
    repository, mailer, clock = FakeApplicationRepository(), FakeMailer(), FixedClock(TODAY)

    def intake(random_bytes=None):
        random_bytes = random_bytes or ScriptedRandom()
        review = RecordingReview(random_bytes)
        notifier = ApplicantNotifier(Postbox(FakeOutbox(repository), mailer, clock), render, BASE_URL)
        return IntakeService(FORCES, repository, validate, clock, random_bytes, notifier, review), review

    return repository, mailer, intake


def test_an_eligible_application_is_stored_for_review_and_the_applicant_gets_one_confirmation(world):
    repository, mailer, intake = world
    service, review = intake()
    submission = service.submit("derbyshire", application_payload())

    stored = repository.get("derbyshire", submission.reference)
    assert stored.stage is Stage.AWAITING_REVIEW and submission.status == "awaiting_review"
    assert review.started == [submission.reference]
    [email] = mailer.sent
    assert email.to == application_payload()["applicant"]["email"]
    assert submission.reference in email.subject and f"{BASE_URL}/withdraw/" in email.text
    assert repository.email_status(stored, "received") == "sent"
    assert [e.action for e in repository.events("derbyshire", submission.reference)] == ["submit", "pass_eligibility"]


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer_and_no_second_email(world):
    repository, mailer, intake = world
    service, _ = intake()
    first = service.submit("derbyshire", application_payload(), idempotency_key="retry-1")
    again = service.submit("derbyshire", application_payload(), idempotency_key="retry-1")
    assert again == first
    assert len(repository.applications) == 1 and len(mailer.sent) == 1


def test_the_same_idempotency_key_with_a_different_application_is_refused_and_stores_nothing(world):
    repository, mailer, intake = world
    service, _ = intake()
    service.submit("derbyshire", application_payload(), idempotency_key="retry-1")
    changed = application_payload(applicant={"email": "someone.else@example.org"})
    with pytest.raises(IdempotencyKeyReused):
        service.submit("derbyshire", changed, idempotency_key="retry-1")
    assert len(repository.applications) == 1 and len(mailer.sent) == 1


def test_a_second_live_application_to_the_same_group_goes_ahead_marked_as_a_repeat(world):
    repository, mailer, intake = world
    service, _ = intake()
    first = service.submit("derbyshire", application_payload())
    again = service.submit("derbyshire", application_payload())
    assert (again.status, again.reasons) == (first.status, first.reasons) and again.reference != first.reference
    repeat = repository.get("derbyshire", again.reference)
    assert repeat.eligibility["repeat_of"] == first.reference
    assert any(first.reference in note for note in repeat.eligibility["panel_notes"])
    assert len(repository.applications) == 2 and len(mailer.sent) == 2  # each confirmed once, to the same address
    assert first.reference in mailer.sent[-1].text


def test_a_drawn_reference_that_is_taken_is_drawn_again(world):
    repository, _, intake = world
    same = b"\x01" * 5
    service, _ = intake(ScriptedRandom(same, b"w" * 32))
    first = service.submit("derbyshire", application_payload())
    # The next draw repeats the first reference; the service draws again instead of failing the applicant.
    service, _ = intake(ScriptedRandom(same, b"x" * 32, b"\x02" * 5, b"y" * 32))
    second = service.submit("derbyshire", application_payload(applicant={"email": "other@example.org"}))
    assert second.reference != first.reference
    assert {a.reference for a in repository.applications.values()} == {first.reference, second.reference}


def test_when_the_email_cannot_be_sent_the_application_is_kept_and_the_email_stays_pending(world, caplog):
    repository, mailer, intake = world
    mailer.failures.append(ConnectionError("SES unreachable"))
    service, _ = intake()
    with caplog.at_level(logging.ERROR):
        submission = service.submit("derbyshire", application_payload())
    stored = repository.get("derbyshire", submission.reference)
    assert stored is not None and mailer.sent == []
    assert repository.email_status(stored, "received") != "sent"
    assert [kind for kind, _ in repository.pending_emails(stored)] == ["received"]
    assert submission.reference in caplog.text


def test_an_invalid_application_is_refused_with_every_error_and_changes_nothing(world):
    repository, mailer, intake = world
    service, _ = intake()
    payload = application_payload(applicant={"email": "not an address", "postcode": ""})
    with pytest.raises(InvalidApplication) as refused:
        service.submit("derbyshire", payload)
    assert len(refused.value.errors) >= 2
    assert repository.applications == {} and mailer.sent == []


def test_an_unknown_force_is_refused(world):
    repository, _, intake = world
    service, _ = intake()
    with pytest.raises(UnknownForce):
        service.submit("atlantis", application_payload())
    assert repository.applications == {}
