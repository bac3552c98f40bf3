"""tests/moto_speed.py: moto copies only the items a transaction names, never a whole table; a refused transaction
still changes nothing."""
from __future__ import annotations

import copy

import boto3
import pytest
from botocore.exceptions import ClientError


def test_a_refused_transaction_changes_nothing_and_no_table_is_copied(table, monkeypatch):
    client = boto3.client("dynamodb", region_name="eu-west-2")
    for key in ("A", "B", "C"):
        client.put_item(TableName="iag-test", Item={"PK": {"S": key}, "SK": {"S": "X"}, "v": {"N": "1"}})
    copies = []
    deepcopy = copy.deepcopy
    monkeypatch.setattr(copy, "deepcopy", lambda value, memo=None: copies.append(type(value).__name__)
                        or deepcopy(value, memo))

    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(TransactItems=[
            {"Update": {"TableName": "iag-test", "Key": {"PK": {"S": key}, "SK": {"S": "X"}},
                        "UpdateExpression": "SET v = :two", "ExpressionAttributeValues": {":two": {"N": "2"}}}}
            for key in ("A", "B")] + [
            {"Put": {"TableName": "iag-test", "Item": {"PK": {"S": "C"}, "SK": {"S": "X"}, "v": {"N": "2"}},
                     "ConditionExpression": "attribute_not_exists(PK)"}}])

    assert copies.count("Table") == 0  # moto 5.2.5 alone copies the whole table once per item: 3
    stored = {key: client.get_item(TableName="iag-test", Key={"PK": {"S": key}, "SK": {"S": "X"}})["Item"]["v"]
              for key in ("A", "B", "C")}
    assert stored == {key: {"N": "1"} for key in ("A", "B", "C")}
