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
