"""The table AWS gets from infra/ is the table the code (and moto) uses."""
import json
from pathlib import Path

from chalicelib.adapters.dynamodb import Item

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "resources.json"


def table_properties() -> dict:
    return json.loads(TEMPLATE.read_text())["Resources"]["ApplicationsTable"]["Properties"]


def test_the_deployed_table_has_the_keys_and_index_the_models_query():
    schema, table = Item._get_schema(), table_properties()
    assert table["KeySchema"] == [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]}
                                  for k in schema["key_schema"]]
    assert {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]} == \
        {(a["AttributeName"], a["AttributeType"]) for a in schema["attribute_definitions"]}
    [index] = schema["global_secondary_indexes"]
    [deployed] = table["GlobalSecondaryIndexes"]
    assert deployed["IndexName"] == index["index_name"] and deployed["KeySchema"] == index["key_schema"]


def test_the_deployed_table_is_recoverable_encrypted_and_expires_tokens():
    table = table_properties()
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["TimeToLiveSpecification"] == {"AttributeName": Item.expires_at.attr_name, "Enabled": True}
