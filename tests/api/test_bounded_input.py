"""Validation has bounded cost: nothing a visitor sends makes a 500 or a slow regular expression."""
from __future__ import annotations

import json
import re

import jsonschema._keywords
import pytest

from chalicelib.adapters.dynamodb.base import Item
from chalicelib.adapters.schema_validation import load_schema, validate
from tests.factories import application_payload


@pytest.mark.parametrize("body", ["[" * 20_000 + "]" * 20_000, '{"a":' * 10_000 + "1" + "}" * 10_000])
def test_a_body_nested_too_deeply_to_parse_is_400_problem_json_and_stores_nothing(api, body):
    response = api.http.post("/forces/derbyshire/applications", body=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json_body["type"] == "/problems/malformed-json"
    assert "nested too deeply" in response.json_body["detail"]
    assert list(Item.scan()) == []


def test_a_body_that_is_not_utf8_is_400_problem_json(api):
    response = api.http.post("/forces/derbyshire/applications", body=b'{"a": "\xff\xfe"}',
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json_body["type"] == "/problems/malformed-json"


def patterns_without_a_length_limit(schema, at=""):
    found = []
    if isinstance(schema, dict):
        if "pattern" in schema and "maxLength" not in schema:
            found.append(at or "/")
        for key, sub in schema.items():
            found += patterns_without_a_length_limit(sub, f"{at}/{key}")
    elif isinstance(schema, list):
        for index, sub in enumerate(schema):
            found += patterns_without_a_length_limit(sub, f"{at}/{index}")
    return found


@pytest.mark.parametrize("name", ["application", "pack_request"])
def test_every_pattern_a_visitor_can_reach_has_a_length_limit_beside_it(name):
    assert patterns_without_a_length_limit(load_schema(name)) == []


def test_an_over_long_answer_is_refused_for_its_length_before_any_pattern_runs_on_it(monkeypatch):
    searched = []
    real_search = re.search

    def spying_search(pattern, text, *args):
        searched.append(len(text))
        return real_search(pattern, text, *args)

    monkeypatch.setattr(jsonschema._keywords.re, "search", spying_search)
    lure = "a@" + "." * 50_000 + "@"  # the email pattern backtracks quadratically on this
    payload = json.loads(json.dumps(application_payload()))
    payload["applicant"]["email"] = lure
    errors = validate(payload, "application")
    assert "/applicant/email" in {e.pointer for e in errors}
    assert searched and max(searched) <= 254
