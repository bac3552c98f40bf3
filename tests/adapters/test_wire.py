"""A transaction built from values (chalicelib/adapters/dynamodb/wire.py) sends exactly what pynamodb would send for the
same items built as models: the stored form cannot drift from the models'."""
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from pynamodb.exceptions import AttributeNullError
from pynamodb.expressions.operand import Path

from chalicelib.adapters.dynamodb import applications as apps
from chalicelib.adapters.dynamodb.base import OutboxItem, outbox_values
from chalicelib.adapters.dynamodb.links import LinkItem, link_values
from chalicelib.adapters.dynamodb.wire import Transaction
from chalicelib.domain.links import Link, Purpose
from chalicelib.domain.rate_limits import RateSpend
from chalicelib.services.ports import EqualityRecord
from tests.contracts.test_application_repository import new_application, received

T0 = datetime(2026, 11, 22, 9, 0, 30, 123456, tzinfo=timezone.utc)


def items_of_a_submission():
    """(model, values, condition, return values) for every kind of item a submission's transaction puts."""
    application = new_application()
    link = Link("ab" * 32, Purpose.REVIEW, "derbyshire", application.reference, "iag_chair", 1, T0 + timedelta(days=14),
                holder="c0ffee")
    puts = [
        (apps.ApplicationItem, apps.application_values(application, frozenset()), apps.ApplicationItem.pk.does_not_exist(), None),
        (apps.ApplicationItem, apps.application_values(replace(application, version=3)), None, None),
        (apps.LiveApplicationItem, {"pk": "FORCE#derbyshire#APPLICANT#k", "sk": "GROUP#g", "reference": "R"},
         apps.LiveApplicationItem.pk.does_not_exist(), "ALL_OLD"),
        (apps.IdempotencyItem, {"pk": "FORCE#derbyshire#IDEMPOTENCY#h", "sk": "IDEMPOTENCY", "request_hash": "rh",
                                "response": {"reference": "R", "links": {"self": "/x"}, "n": 2, "none": None},
                                "expires_at": T0 + timedelta(days=1)},
         apps.IdempotencyItem.pk.does_not_exist() | (apps.IdempotencyItem.expires_at < T0), "ALL_OLD"),
        (apps.EqualityItem, apps._equality_values(EqualityRecord("derbyshire", "derbyshire-iag", "R", {"age": "25-34"}, T0)),
         None, None),
        (OutboxItem, outbox_values("derbyshire", "FORCE#derbyshire#APP#R", "received", T0), None, None),
        (LinkItem, link_values(link), LinkItem.pk.does_not_exist(), None),
        (apps.ApplicantIndexItem, {"pk": "FORCE#derbyshire#APPLICANT#k", "sk": "APP#R", "reference": "R"}, None, None),
    ]
    puts += [(apps.AuditEventItem, apps.event_values(event, "derbyshire", n), None, None)
             for n, event in enumerate(received(application))]
    return puts


@pytest.mark.parametrize("n", range(len(items_of_a_submission())))
def test_a_put_is_what_pynamodb_sends_for_the_model(table, n):
    model, values, condition, return_values = items_of_a_submission()[n]
    transaction = Transaction()
    version = transaction.put(model, values, condition=condition, return_values=return_values)
    instance = model(**values)
    expected = instance.get_save_kwargs_from_instance(condition=condition,
                                                      return_values_on_condition_failure=return_values)
    assert transaction.puts == [expected]
    if model._version_attribute_name:  # the version the model holds once saved
        instance.update_local_version_attribute()
        assert version == instance.version


def test_an_update_is_what_pynamodb_sends_for_the_model(table):
    spend = RateSpend("RATE#apply#email#abc#1700000000", 5, 1_700_003_600)
    [(pk, sk, actions)] = apps.funnel_updates("derbyshire", {"derbyshire-iag": {"step_received": 1, "now_awaiting": 1}})
    spend_actions, spend_condition = apps._spend_update(spend)
    transaction = Transaction()
    transaction.update(apps.FunnelCountItem, pk, sk, actions)
    transaction.update(apps.RateCounterItem, spend.key, "COUNT", spend_actions, spend_condition)
    assert transaction.updates == [
        apps.FunnelCountItem(pk=pk, sk=sk).get_update_kwargs_from_instance(actions=actions),
        apps.RateCounterItem(pk=spend.key, sk="COUNT").get_update_kwargs_from_instance(
            actions=apps._spend_update(spend)[0], condition=spend_condition)]
    assert any(isinstance(a.values[0], Path) for a in actions)  # the counters are paths, as the model's update has


def test_a_put_missing_a_required_attribute_is_refused_as_the_model_refuses_it(table):
    values = {"pk": "FORCE#derbyshire#APP#R", "sk": "EVENT#1", "reference": "R", "at": T0, "to_stage": "received"}
    with pytest.raises(AttributeNullError):  # no action, no actor
        apps.AuditEventItem(**values).get_save_kwargs_from_instance()
    with pytest.raises(AttributeNullError):
        Transaction().put(apps.AuditEventItem, values)


def test_a_versioned_model_is_not_updated_from_values(table):
    with pytest.raises(ValueError, match="version"):
        Transaction().update(apps.ApplicationItem, "P", "S", [apps.ApplicationItem.stage.set("x")])
