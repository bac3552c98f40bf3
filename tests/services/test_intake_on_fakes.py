"""Submitting an application, on the in-memory fakes of the storage and mail ports: what the applicant and the
force notice, in milliseconds. (tests/api/test_applications_api.py checks the same journey through HTTP on moto.)

The request writes the application and starts its run, nothing else: the confirmation email is announced in
that write and sent by the run's first pass (ReviewMail.flush), or by reconciliation when there is no run."""
from __future__ import annotations

import itertools
import logging

import pytest

from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.adapters.schema_validation import validate
from chalicelib.adapters.templates import render
from chalicelib.domain.lifecycle import Stage
from chalicelib.services.intake import IdempotencyKeyReused, IntakeService, InvalidApplication, UnknownForce
from chalicelib.services.notifications import ReviewMail
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
    """The review as intake sees it: told to start the application's run."""

    def __init__(self, random_bytes):
        self.started: list[str] = []

    def start(self, application):
        self.started.append(application.reference)


@pytest.fixture
def world():
    repository, mailer, clock = FakeApplicationRepository(), FakeMailer(), FixedClock(TODAY)

    def intake(random_bytes=None):
        random_bytes = random_bytes or ScriptedRandom()
        review = RecordingReview(random_bytes)
        return IntakeService(FORCES, repository, validate, clock, random_bytes, review), review

    return repository, mailer, intake


class RunsFirstPass:
    """What the application's run (or reconciliation) does with the emails its move announced: ReviewMail.flush,
    with withdrawal links issued as they are built."""

    def __init__(self, repository, mailer):
        self.issued = []

        def issue(application):
            link, url = withdraw_link(application, ScriptedRandom(), BASE_URL)
            self.issued.append(link)
            return link, url
        self.mail = ReviewMail(Postbox(FakeOutbox(repository), mailer, FixedClock(TODAY)), render, repository, FORCES,
                               BASE_URL, issue)

    def flush(self, application):
        self.mail.flush(application)


def received(repository, reference) -> str:
    return repository.email_status(repository.get("derbyshire", reference), "received")


def test_the_request_stores_the_application_and_starts_its_run_and_sends_nothing(world):
    repository, mailer, intake = world
    service, review = intake()
    submission = service.submit("derbyshire", application_payload())

    stored = repository.get("derbyshire", submission.reference)
    assert stored.stage is Stage.AWAITING_REVIEW and submission.status == "awaiting_review"
    assert review.started == [submission.reference]
    assert mailer.sent == [] and [kind for kind, _ in repository.pending_emails(stored)] == ["received"]
    assert [e.action for e in repository.events("derbyshire", submission.reference)] == ["submit", "pass_eligibility"]


def test_the_runs_first_pass_sends_one_confirmation_with_a_withdraw_link_it_issues(world):
    repository, mailer, intake = world
    service, _ = intake()
    stored = repository.get("derbyshire", service.submit("derbyshire", application_payload()).reference)
    run = RunsFirstPass(repository, mailer)
    run.flush(stored)
    run.flush(stored)  # a second pass (a resumed run, reconciliation) sends nothing more

    [email] = mailer.sent
    assert email.to == application_payload()["applicant"]["email"]
    assert stored.reference in email.subject and f"{BASE_URL}/withdraw/" in email.text
    assert [link.reference for link in run.issued] == [stored.reference]  # the link in the email exists
    assert received(repository, stored.reference) == "sent"


def test_an_ineligible_application_starts_no_run_and_its_confirmation_carries_no_withdraw_link(world):
    repository, mailer, intake = world
    service, review = intake()
    submission = service.submit("derbyshire", application_payload(applicant={"date_of_birth": "2012-01-01"}))
    assert submission.status == "ineligible" and review.started == [] and mailer.sent == []
    run = RunsFirstPass(repository, mailer)
    run.flush(repository.get("derbyshire", submission.reference))  # reconciliation's pass over pending emails
    [email] = mailer.sent
    assert "/withdraw/" not in email.text and run.issued == []


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer_and_no_second_email(world):
    repository, mailer, intake = world
    service, _ = intake()
    first = service.submit("derbyshire", application_payload(), idempotency_key="retry-1")
    again = service.submit("derbyshire", application_payload(), idempotency_key="retry-1")
    assert again == first
    assert len(repository.applications) == 1 and received(repository, first.reference) == "pending"


def test_the_same_idempotency_key_with_a_different_application_is_refused_and_stores_nothing(world):
    repository, mailer, intake = world
    service, _ = intake()
    service.submit("derbyshire", application_payload(), idempotency_key="retry-1")
    changed = application_payload(applicant={"email": "someone.else@example.org"})
    with pytest.raises(IdempotencyKeyReused):
        service.submit("derbyshire", changed, idempotency_key="retry-1")
    assert len(repository.applications) == 1 and len(repository.outbox) == 1


def test_a_second_live_application_to_the_same_group_goes_ahead_marked_as_a_repeat(world):
    repository, mailer, intake = world
    service, _ = intake()
    first = service.submit("derbyshire", application_payload())
    again = service.submit("derbyshire", application_payload())
    assert (again.status, again.reasons) == (first.status, first.reasons) and again.reference != first.reference
    repeat = repository.get("derbyshire", again.reference)
    assert repeat.eligibility["repeat_of"] == first.reference
    assert any(first.reference in note for note in repeat.eligibility["panel_notes"])
    assert len(repository.applications) == 2 and mailer.sent == []  # the request sends nothing
    run = RunsFirstPass(repository, mailer)
    for reference in (first.reference, again.reference):
        run.flush(repository.get("derbyshire", reference))
    assert len(mailer.sent) == 2  # each confirmed once, to the same address
    assert first.reference in mailer.sent[-1].text  # only the address's owner learns of the earlier one


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


def test_when_the_run_cannot_send_the_confirmation_it_stays_pending_for_a_later_pass(world, caplog):
    repository, mailer, intake = world
    service, _ = intake()
    stored = repository.get("derbyshire", service.submit("derbyshire", application_payload()).reference)
    mailer.failures.append(ConnectionError("SES unreachable"))
    run = RunsFirstPass(repository, mailer)
    with caplog.at_level(logging.ERROR), pytest.raises(ConnectionError):
        run.flush(stored)
    assert mailer.sent == [] and [kind for kind, _ in repository.pending_emails(stored)] == ["received"]
    assert stored.reference in caplog.text
    run.flush(stored)
    assert len(mailer.sent) == 1


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
