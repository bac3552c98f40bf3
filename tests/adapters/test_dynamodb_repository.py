"""What only the DynamoDB adapter can show: where it puts things. What every ApplicationRepository promises
(references, the live guard, versions, idempotency, pages, the outbox) is in tests/contracts/, run on moto too."""
from datetime import datetime, timezone

import pytest

from chalicelib.adapters.dynamodb.applications import (
    ApplicationItem, AuditEventItem, DynamoApplicationRepository, EqualityItem, LiveApplicationItem,
)
from chalicelib.adapters.dynamodb.base import Item
from chalicelib.services.ports import EqualityRecord
from tests.contracts.test_application_repository import new_application, received

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def repository(table):
    return DynamoApplicationRepository()


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


def test_live_guard_holds_no_email_address(repository):
    application = new_application()
    repository.add(application, received(application), equality=None, idempotency=None)
    guards = [i for i in Item.scan() if isinstance(i, LiveApplicationItem)]  # test-only scan
    assert len(guards) == 1 and "amira" not in guards[0].pk.lower()


def test_role_holders_written_many_at_once_are_stored_as_one_written_alone(table):
    import boto3

    from chalicelib.adapters.dynamodb.review import DynamoReviewStore

    store = DynamoReviewStore()
    store.put_reviewer("derbyshire", "derbyshire-iag", "iag_chair", "Alone", "alone@example.org")
    many = [("derbyshire", f"group-{n}", "iag_chair", f"Holder {n}", f"holder.{n}@example.org") for n in range(30)]
    assert store.put_reviewers(many + [("derbyshire", "appeal", "appeal_chair", "Appeals", "appeals@example.org")]) == 31

    assert store.panel_members("derbyshire", "group-29") == {"iag_chair": ("Holder 29", "holder.29@example.org")}
    assert store.panel_members("derbyshire", "appeal") == {"appeal_chair": ("Appeals", "appeals@example.org")}
    items = boto3.client("dynamodb", region_name="eu-west-2").scan(TableName="iag-test")["Items"]
    alone = next(i for i in items if i["SK"]["S"] == "GROUP#derbyshire-iag#ROLE#iag_chair")
    batched = next(i for i in items if i["SK"]["S"] == "GROUP#group-7#ROLE#iag_chair")
    assert len(items) == 32 and set(batched) == set(alone)  # the same attributes, the same kind of item
    assert (batched["PK"], batched["type"]) == (alone["PK"], alone["type"])
