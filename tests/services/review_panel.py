"""Derbyshire's review panel and an application to it: what the review, reconciliation and alert tests share
(the `review` fixture that seats the panel is in tests/services/conftest.py)."""
from __future__ import annotations

import re

from chalicelib.adapters.dynamodb.review import DynamoReviewStore
from tests.conftest import sent_emails
from tests.factories import application_payload, post_json

PANEL = {"iag_chair": "chair@derbyshire.example", "police_coordinator": "coordinator@derbyshire.example"}


def seat_panel(panel: dict[str, str] = PANEL) -> None:
    store = DynamoReviewStore()
    for role, email in panel.items():
        store.put_reviewer("derbyshire", "derbyshire-iag", role, role.replace("_", " ").title(), email)


def applied(api, email="amira.khan@example.org") -> str:
    return post_json(api, "/forces/derbyshire/applications",
                     application_payload(applicant={"email": email})).json_body["reference"]


def links_to(address: str) -> list[str]:
    return [token for m in sent_emails() if address in m.destinations["ToAddresses"]
            for token in re.findall(r'/review/([A-Za-z0-9_-]+)"', m.body)]


def press(api, token: str, **fields):
    body = "&".join(f"{k}={v}" for k, v in fields.items())
    return api.http.post(f"/review/{token}", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
