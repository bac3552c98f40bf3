"""One contract for ApplicationRepository and the Outbox, run against the in-memory fakes (tests/fakes.py) and
against the DynamoDB adapters on moto: what the services rely on holds for both, so a test written on the fakes
means the same on DynamoDB."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.application import Application, AuditEvent, apply
from chalicelib.domain.lifecycle import Action, Stage
from chalicelib.domain.links import Link, Purpose
from chalicelib.services.ports import (
    DuplicateLiveApplication, IdempotencyRecord, IdempotentReplay, LinkConflict, ReferenceTaken, StaleApplication,
)
from chalicelib.services.outbox import CLAIM_TIMEOUT, About, EmailKey, application_email
from tests.fakes import FakeApplicationRepository, FakeOutbox

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(params=[pytest.param("fake", marks=pytest.mark.fast), "dynamodb"])
def adapters(request):
    """(the repository, the outbox over the same storage)."""
    if request.param == "fake":
        repository = FakeApplicationRepository()
        return repository, FakeOutbox(repository)
    request.getfixturevalue("table")  # moto in process, an empty table
    from chalicelib.adapters.dynamodb.applications import DynamoApplicationRepository
    from chalicelib.adapters.dynamodb.outbox import DynamoOutbox

    return DynamoApplicationRepository(), DynamoOutbox()


@pytest.fixture
def repository(adapters):
    return adapters[0]


@pytest.fixture
def outbox(adapters):
    return adapters[1]


def claim(outbox, application: Application, kind: str, at: datetime) -> bool:
    """As send_once claims: a claim older than CLAIM_TIMEOUT is stale."""
    return outbox.claim(application_email(application, kind), at, at - CLAIM_TIMEOUT)


def new_application(reference="DBY-2026-AAAAAAAA", email="amira@example.org", group="derbyshire-iag",
                    at=T0, stage=Stage.AWAITING_REVIEW) -> Application:
    return Application(reference=reference, force_id="derbyshire", group_id=group, stage=stage,
                       submitted_at=at, updated_at=at,
                       applicant={"given_name": "Amira", "family_name": "Khan", "email": email},
                       answers={"statements": {"motivation": "m"}}, eligibility={"reasons": [], "screening": "none"})


def received(application: Application) -> list[AuditEvent]:
    return [AuditEvent(application.reference, application.submitted_at, "submit", None, application.stage, "applicant")]


def store(repository, application: Application, **kwargs) -> Application:
    return repository.add(application, received(application), equality=kwargs.pop("equality", None),
                          idempotency=kwargs.pop("idempotency", None), **kwargs)


# --- applications

def test_a_stored_application_reads_back_as_it_was_with_version_one(repository):
    application = new_application()
    store(repository, application)
    stored = repository.get("derbyshire", application.reference)
    assert replace(stored, version=0) == application
    assert stored.version == 1


def test_another_force_cannot_read_the_application_by_its_reference(repository):
    store(repository, new_application())
    assert repository.get("thames-valley", "DBY-2026-AAAAAAAA") is None


def test_a_taken_reference_is_reported_and_the_first_application_is_kept(repository):
    first, second = new_application(), new_application(email="someone.else@example.org")
    store(repository, first)
    with pytest.raises(ReferenceTaken):
        store(repository, second)
    assert repository.get("derbyshire", first.reference).applicant["email"] == "amira@example.org"


def test_a_second_live_application_from_the_same_email_to_the_same_group_is_refused_whatever_the_case(repository):
    first = store(repository, new_application())
    again = new_application(reference="DBY-2026-BBBBBBBB", email=" Amira@Example.org ")
    with pytest.raises(DuplicateLiveApplication) as refused:
        store(repository, again)
    assert refused.value.reference == first.reference  # so the repeat can be marked for the panel
    assert repository.get("derbyshire", again.reference) is None


def test_the_same_person_may_apply_live_to_another_group(repository):
    store(repository, new_application())
    other = store(repository, new_application(reference="DBY-2026-BBBBBBBB", group="south-derbyshire-iag"))
    assert repository.get("derbyshire", other.reference).group_id == "south-derbyshire-iag"


def test_an_ineligible_application_does_not_block_a_corrected_one(repository):
    store(repository, new_application(stage=Stage.INELIGIBLE))
    corrected = store(repository, new_application(reference="DBY-2026-BBBBBBBB"))
    assert repository.get("derbyshire", corrected.reference).stage is Stage.AWAITING_REVIEW


def test_withdrawing_frees_the_applicant_to_apply_again_and_is_audited_in_the_same_write(repository):
    stored = store(repository, new_application())
    withdrawn, event = apply(stored, Action.WITHDRAW, at=T0 + timedelta(days=1), actor="applicant")
    repository.save_transition(withdrawn, event)
    assert [e.action for e in repository.events("derbyshire", stored.reference)] == ["submit", "withdraw"]
    again = store(repository, new_application(reference="DBY-2026-BBBBBBBB"))
    assert repository.get("derbyshire", again.reference).stage is Stage.AWAITING_REVIEW


def test_a_redirected_application_takes_its_guard_to_the_new_group(repository):
    stored = store(repository, new_application())
    moved, event = apply(stored, Action.REDIRECT, at=T0 + timedelta(hours=1), actor="police_coordinator")
    repository.save_transition(replace(moved, group_id="south-derbyshire-iag"), event, previous_group="derbyshire-iag")
    first_group_again = store(repository, new_application(reference="DBY-2026-BBBBBBBB"))
    assert repository.get("derbyshire", first_group_again.reference) is not None
    with pytest.raises(DuplicateLiveApplication):
        store(repository, new_application(reference="DBY-2026-CCCCCCCC", group="south-derbyshire-iag"))


def test_a_decision_on_an_outdated_copy_is_refused_and_writes_no_event(repository):
    stored = store(repository, new_application())
    approved, approval = apply(stored, Action.APPROVE, at=T0 + timedelta(hours=1), actor="iag_chair")
    rejected, rejection = apply(stored, Action.REJECT, at=T0 + timedelta(hours=2), actor="police_coordinator")
    after = repository.save_transition(approved, approval)
    assert after.version == 2
    with pytest.raises(StaleApplication):
        repository.save_transition(rejected, rejection)
    assert repository.get("derbyshire", stored.reference).stage is Stage.APPROVED
    assert [e.action for e in repository.events("derbyshire", stored.reference)] == ["submit", "approve"]


def test_a_repeated_idempotency_key_returns_the_stored_answer_instead_of_writing(repository):
    record = IdempotencyRecord("k" * 64, "r" * 64, {"reference": "DBY-2026-AAAAAAAA"}, T0, T0 + timedelta(hours=24))
    store(repository, new_application(), idempotency=record)
    retry = new_application(reference="DBY-2026-BBBBBBBB")
    with pytest.raises(IdempotentReplay) as replay:
        store(repository, retry, idempotency=record)
    assert replay.value.record.response == {"reference": "DBY-2026-AAAAAAAA"}
    assert replay.value.record.request_hash == "r" * 64
    assert repository.get("derbyshire", retry.reference) is None


def test_an_expired_idempotency_record_that_ttl_has_not_yet_deleted_no_longer_counts(repository):
    store(repository, new_application(), idempotency=IdempotencyRecord("k" * 64, "r" * 64, {}, T0,
                                                                          T0 + timedelta(hours=24)))
    later = T0 + timedelta(hours=25)
    fresh = IdempotencyRecord("k" * 64, "s" * 64, {}, later, later + timedelta(hours=24))
    second = store(repository, new_application(reference="DBY-2026-BBBBBBBB", email="other@example.org", at=later),
                   idempotency=fresh)
    assert repository.get("derbyshire", second.reference) is not None


def test_applications_are_listed_by_group_and_stage_newest_first_in_pages(repository):
    for n in range(5):
        store(repository, new_application(reference=f"DBY-2026-AAAAAAA{n}", email=f"p{n}@example.org",
                                          at=T0 + timedelta(minutes=n)))
    store(repository, new_application(reference="DBY-2026-BBBBBBBB", email="x@example.org", stage=Stage.INELIGIBLE))

    first = repository.list_by_stage("derbyshire", "derbyshire-iag", Stage.AWAITING_REVIEW, limit=3)
    second = repository.list_by_stage("derbyshire", "derbyshire-iag", Stage.AWAITING_REVIEW, limit=3,
                                      next_token=first.next_token)
    assert [a.reference[-1] for a in first.items + second.items] == ["4", "3", "2", "1", "0"]
    assert second.next_token is None
    everything = repository.all_at("derbyshire", "derbyshire-iag", Stage.AWAITING_REVIEW)
    assert [a.reference[-1] for a in everything] == ["4", "3", "2", "1", "0"]


def test_a_move_to_another_stage_moves_the_application_to_that_stage_list(repository):
    stored = store(repository, new_application())
    repository.save_transition(*apply(stored, Action.APPROVE, at=T0, actor="iag_chair"))
    assert repository.list_by_stage("derbyshire", "derbyshire-iag", Stage.AWAITING_REVIEW).items == []
    assert [a.reference for a in repository.list_by_stage("derbyshire", "derbyshire-iag", Stage.APPROVED).items] == \
        [stored.reference]


# --- the outbox: what the services' claim, send, mark sequence relies on

def test_an_announced_email_is_pending_until_marked_sent(repository, outbox):
    stored = store(repository, new_application(), emails=("received",))
    assert repository.pending_emails(stored) == [("received", {})]
    assert claim(outbox, stored, "received", T0)
    outbox.mark_sent(application_email(stored, "received"), "message-1", T0)
    assert repository.pending_emails(stored) == []


def test_an_email_announced_with_a_transition_keeps_its_detail(repository):
    stored = store(repository, new_application())
    moved, event = apply(stored, Action.APPROVE, at=T0, actor="iag_chair")
    repository.save_transition(moved, event, emails=(("approved", {"note": "welcome"}),))
    assert repository.pending_emails(stored) == [("approved", {"note": "welcome"})]


def test_only_one_caller_may_claim_an_email_until_it_is_released(repository, outbox):
    stored = store(repository, new_application(), emails=("received",))
    assert claim(outbox, stored, "received", T0) is True
    assert claim(outbox, stored, "received", T0 + timedelta(seconds=1)) is False
    outbox.release(application_email(stored, "received"))
    assert claim(outbox, stored, "received", T0 + timedelta(seconds=2)) is True


def test_each_release_counts_one_more_failed_send_and_a_release_without_a_claim_counts_none(repository, outbox):
    stored = store(repository, new_application(), emails=("received",))
    key = application_email(stored, "received")
    assert outbox.release(key) == 0  # not claimed: nothing failed
    for failures in (1, 2, 3):
        assert claim(outbox, stored, "received", T0 + timedelta(seconds=failures))
        assert outbox.release(key) == failures


def test_a_claim_left_by_a_sender_that_died_goes_stale_and_can_be_taken_again(repository, outbox):
    stored = store(repository, new_application(), emails=("received",))
    assert claim(outbox, stored, "received", T0)
    assert claim(outbox, stored, "received", T0 + CLAIM_TIMEOUT - timedelta(seconds=1)) is False
    assert claim(outbox, stored, "received", T0 + CLAIM_TIMEOUT + timedelta(seconds=1)) is True


def test_a_sent_email_can_never_be_claimed_again(repository, outbox):
    stored = store(repository, new_application(), emails=("received",))
    assert claim(outbox, stored, "received", T0)
    outbox.mark_sent(application_email(stored, "received"), "message-1", T0)
    assert claim(outbox, stored, "received", T0 + timedelta(days=1)) is False
    assert claim(outbox, stored, "received", T0 + CLAIM_TIMEOUT * 10) is False


def test_an_email_no_transition_announced_can_be_claimed_once(repository, outbox):
    stored = store(repository, new_application())
    assert claim(outbox, stored, "review_request", T0) is True
    assert claim(outbox, stored, "review_request", T0) is False
    assert [kind for kind, _ in repository.pending_emails(stored)] == ["review_request"]


def test_a_pack_request_is_kept_with_its_email_pending_until_sent_and_then_never_claimed_again(repository, outbox):
    repository.add_pack_request("derbyshire", "PACK-1", {"name": "Sam", "email": "sam@example.org",
                                                          "format_words": "large print"}, T0)
    assert repository.get_pack_request("derbyshire", "PACK-1")["details"]["name"] == "Sam"
    key = EmailKey(About("pack_request", "derbyshire", "PACK-1"), "pack_request")
    assert outbox.claim(key, T0, T0 - CLAIM_TIMEOUT)
    outbox.mark_sent(key, "message-1", T0)
    assert not outbox.claim(key, T0 + CLAIM_TIMEOUT * 10, T0 + CLAIM_TIMEOUT * 9)


def test_links_stored_with_an_application_are_kept_with_it(repository):
    link = Link("a" * 64, Purpose.WITHDRAW, "derbyshire", "DBY-2026-AAAAAAAA", "applicant", None,
                T0 + timedelta(days=30))
    stored = store(repository, new_application(), links=(link,))
    assert repository.get("derbyshire", stored.reference) is not None
    with pytest.raises(LinkConflict):  # a token is never stored twice: the whole write is refused
        store(repository, new_application(reference="DBY-2026-BBBBBBBB", email="b@example.org"), links=(link,))
    assert repository.get("derbyshire", "DBY-2026-BBBBBBBB") is None


def test_reconciliation_finds_announced_emails_left_unsent_oldest_first(repository, outbox):
    older = store(repository, new_application(), emails=("received",))
    newer = store(repository, new_application(reference="DBY-2026-BBBBBBBB", email="b@example.org",
                                               at=T0 + timedelta(minutes=1)), emails=("received",))
    store(repository, new_application(reference="DBY-2026-CCCCCCCC", email="c@example.org",
                                      at=T0 + timedelta(hours=1)), emails=("received",))  # too recent to count
    assert repository.pending_email_references("derbyshire", T0 + timedelta(minutes=30)) == \
        [older.reference, newer.reference]
    assert claim(outbox, older, "received", T0)
    outbox.mark_sent(application_email(older, "received"), "message-1", T0)
    assert repository.pending_email_references("derbyshire", T0 + timedelta(minutes=30)) == [newer.reference]
    assert repository.pending_email_references("thames-valley", T0 + timedelta(days=1)) == []


def test_a_full_rate_counter_refuses_the_whole_write_and_counts_nothing_more(repository):
    from chalicelib.domain.rate_limits import RateLimited, RateSpend

    spend = (RateSpend("RATE#apply#email#abc#0", 1, int(T0.timestamp()) + 3600),)
    store(repository, new_application(), rate_spends=spend)
    with pytest.raises(RateLimited) as refused:
        store(repository, new_application(reference="DBY-2026-BBBBBBBB", email="b@example.org"), rate_spends=spend)
    assert refused.value.retry_after == 3600
    assert repository.get("derbyshire", "DBY-2026-BBBBBBBB") is None
