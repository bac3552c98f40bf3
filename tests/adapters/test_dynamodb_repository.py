from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.adapters.dynamodb import (
    ApplicationItem, AuditEventItem, DynamoApplicationRepository, EqualityItem, Item, LiveApplicationItem,
)
from chalicelib.domain.application import Application, AuditEvent, apply
from chalicelib.domain.lifecycle import Action, Stage
from chalicelib.services.ports import (
    DuplicateLiveApplication, EqualityRecord, IdempotencyRecord, IdempotentReplay, ReferenceTaken, StaleApplication,
)

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)


def new_application(reference="DBY-2026-AAAAAAAA", email="amira@example.org", group="derbyshire-iag",
                    at=T0, stage=Stage.AWAITING_REVIEW) -> Application:
    return Application(reference=reference, force_id="derbyshire", group_id=group, stage=stage,
                       submitted_at=at, updated_at=at,
                       applicant={"given_name": "Amira", "family_name": "Khan", "email": email},
                       answers={"statements": {"motivation": "m"}}, eligibility={"reasons": [], "screening": "none"})


def received(application: Application) -> list[AuditEvent]:
    return [AuditEvent(application.reference, application.submitted_at, "submit", None, application.stage, "applicant")]


@pytest.fixture
def repository(table):
    return DynamoApplicationRepository()


def test_a_stored_application_reads_back_as_it_was_with_version_one(repository):
    application = new_application()
    repository.add(application, received(application), equality=None, idempotency=None)
    stored = repository.get("derbyshire", application.reference)
    assert replace(stored, version=0) == application
    assert stored.version == 1


def test_another_force_cannot_read_the_application_by_its_reference(repository):
    application = new_application()
    repository.add(application, received(application), equality=None, idempotency=None)
    assert repository.get("thames-valley", application.reference) is None


def test_a_taken_reference_is_reported_so_the_service_can_draw_another(repository):
    first, second = new_application(), new_application(email="someone.else@example.org")
    repository.add(first, received(first), equality=None, idempotency=None)
    with pytest.raises(ReferenceTaken):
        repository.add(second, received(second), equality=None, idempotency=None)


def test_a_second_live_application_from_the_same_email_to_the_same_group_is_refused_whatever_the_case(repository):
    first = new_application()
    repository.add(first, received(first), equality=None, idempotency=None)
    again = new_application(reference="DBY-2026-BBBBBBBB", email=" Amira@Example.org ")
    with pytest.raises(DuplicateLiveApplication):
        repository.add(again, received(again), equality=None, idempotency=None)
    assert repository.get("derbyshire", again.reference) is None


def test_an_ineligible_application_does_not_block_a_corrected_one(repository):
    ineligible = new_application(stage=Stage.INELIGIBLE)
    repository.add(ineligible, received(ineligible), equality=None, idempotency=None)
    corrected = new_application(reference="DBY-2026-BBBBBBBB")
    repository.add(corrected, received(corrected), equality=None, idempotency=None)


def test_withdrawing_frees_the_applicant_to_apply_again_and_is_audited_in_the_same_write(repository):
    first = new_application()
    stored = repository.add(first, received(first), equality=None, idempotency=None)
    withdrawn, event = apply(stored, Action.WITHDRAW, at=T0 + timedelta(days=1), actor="applicant")
    repository.save_transition(withdrawn, event)
    assert [e.action for e in repository.events("derbyshire", first.reference)] == ["submit", "withdraw"]
    again = new_application(reference="DBY-2026-BBBBBBBB")
    repository.add(again, received(again), equality=None, idempotency=None)


def test_a_decision_on_an_outdated_copy_is_refused_and_writes_no_event(repository):
    first = new_application()
    stored = repository.add(first, received(first), equality=None, idempotency=None)
    approved, approval = apply(stored, Action.APPROVE, at=T0 + timedelta(hours=1), actor="iag_chair")
    rejected, rejection = apply(stored, Action.REJECT, at=T0 + timedelta(hours=2), actor="police_coordinator")
    repository.save_transition(approved, approval)
    with pytest.raises(StaleApplication):
        repository.save_transition(rejected, rejection)
    assert repository.get("derbyshire", first.reference).stage is Stage.APPROVED
    assert [e.action for e in repository.events("derbyshire", first.reference)] == ["submit", "approve"]


def test_a_repeated_idempotency_key_returns_the_stored_answer_instead_of_writing(repository):
    record = IdempotencyRecord("k" * 64, "r" * 64, {"reference": "DBY-2026-AAAAAAAA"}, T0, T0 + timedelta(hours=24))
    first = new_application()
    repository.add(first, received(first), equality=None, idempotency=record)
    retry = new_application(reference="DBY-2026-BBBBBBBB")
    with pytest.raises(IdempotentReplay) as replay:
        repository.add(retry, received(retry), equality=None, idempotency=record)
    assert replay.value.record.response == {"reference": "DBY-2026-AAAAAAAA"}
    assert replay.value.record.request_hash == "r" * 64


def test_an_expired_idempotency_record_that_ttl_has_not_yet_deleted_no_longer_counts(repository):
    old = IdempotencyRecord("k" * 64, "r" * 64, {}, T0, T0 + timedelta(hours=24))
    first = new_application()
    repository.add(first, received(first), equality=None, idempotency=old)
    later = T0 + timedelta(hours=25)
    fresh = IdempotencyRecord("k" * 64, "s" * 64, {}, later, later + timedelta(hours=24))
    second = new_application(reference="DBY-2026-BBBBBBBB", email="other@example.org", at=later)
    repository.add(second, received(second), equality=None, idempotency=fresh)


def test_equality_answers_are_stored_apart_and_never_with_the_application(repository):
    application = new_application()
    equality = EqualityRecord("derbyshire", "derbyshire-iag", application.reference, {"ethnicity": "mixed"}, T0)
    repository.add(application, received(application), equality=equality, idempotency=None)
    application_items = list(Item.query(f"FORCE#derbyshire#APP#{application.reference}"))
    assert {type(i) for i in application_items} == {ApplicationItem, AuditEventItem}
    assert "mixed" not in repr([i.attribute_values for i in application_items])
    stored = EqualityItem.get(f"FORCE#derbyshire#EQUALITY#{application.reference}", "EQUALITY")
    assert stored.answers.as_dict() == {"ethnicity": "mixed"}
    assert "mixed" not in repr(repository.get("derbyshire", application.reference))


def test_applications_are_listed_by_group_and_stage_newest_first_in_pages(repository):
    for n in range(5):
        application = new_application(reference=f"DBY-2026-AAAAAAA{n}", email=f"p{n}@example.org",
                                      at=T0 + timedelta(minutes=n))
        repository.add(application, received(application), equality=None, idempotency=None)
    other_stage = new_application(reference="DBY-2026-BBBBBBBB", email="x@example.org", stage=Stage.INELIGIBLE)
    repository.add(other_stage, received(other_stage), equality=None, idempotency=None)

    first = repository.list_by_stage("derbyshire", "derbyshire-iag", Stage.AWAITING_REVIEW, limit=3)
    second = repository.list_by_stage("derbyshire", "derbyshire-iag", Stage.AWAITING_REVIEW, limit=3,
                                      next_token=first.next_token)
    refs = [a.reference[-1] for a in first.items + second.items]
    assert refs == ["4", "3", "2", "1", "0"]
    assert second.next_token is None


def test_a_move_to_another_stage_moves_the_application_to_that_stage_list(repository):
    application = new_application()
    stored = repository.add(application, received(application), equality=None, idempotency=None)
    repository.save_transition(*apply(stored, Action.APPROVE, at=T0, actor="iag_chair"))
    assert repository.list_by_stage("derbyshire", "derbyshire-iag", Stage.AWAITING_REVIEW).items == []
    assert [a.reference for a in repository.list_by_stage("derbyshire", "derbyshire-iag", Stage.APPROVED).items] == \
        [application.reference]


def test_live_guard_holds_no_email_address(repository):
    application = new_application()
    repository.add(application, received(application), equality=None, idempotency=None)
    guards = [i for i in Item.scan() if isinstance(i, LiveApplicationItem)]  # test-only scan
    assert len(guards) == 1 and "amira" not in guards[0].pk.lower()
