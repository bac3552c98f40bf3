"""Builders of valid requests; a test states only what it changes."""
from __future__ import annotations

import copy
import json


def application_payload(group="derbyshire-iag", **changes) -> dict:
    payload = {
        "group": group,
        "applicant": {
            "given_name": "Amira", "family_name": "Khan", "email": "amira.khan@example.org",
            "phone": "01632 960 001", "date_of_birth": "1985-03-27", "postcode": "DE5 3RS",
        },
        "connection_to_area": "lives",
        "statements": {
            "motivation": "I want policing in my town to earn the trust of young people.",
            "communities": "I run a youth football club and volunteer at a food bank.",
            "engagement": "Through the club's parents' group and the mosque's community evenings.",
        },
        "declarations": {
            "police_employee": False, "police_connection": False, "judiciary_connection": False,
            "civic_role": False, "convictions_or_police_contact": "",
        },
        "consent": {"privacy_notice": True},
    }
    return merge(payload, changes)


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
