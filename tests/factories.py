"""Builders of valid requests; a test states only what it changes."""
from __future__ import annotations

import copy
import json
from pathlib import Path


EVENTS = Path(__file__).resolve().parent / "events"


def application_payload(group="derbyshire-iag", **changes) -> dict:
    """The application in tests/events/application.json (also the README's example), changed as asked."""
    payload = json.loads((EVENTS / "application.json").read_text())
    return merge(payload, {"group": group, **changes})


def merge(base: dict, changes: dict) -> dict:
    """Deep-merge `changes` into a copy of `base`; a value of DELETE removes the key."""
    result = copy.deepcopy(base)
    for key, value in changes.items():
        if value is DELETE:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = value
    return result


DELETE = object()


def post_json(client, path: str, payload, headers=None):
    return client.http.post(path, body=json.dumps(payload),
                            headers={"Content-Type": "application/json", **(headers or {})})
