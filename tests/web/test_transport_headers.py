"""Every answer, from every route and in every state (page, JSON, refusal, error), carries HSTS."""
from __future__ import annotations

import re

from app import app


def test_every_route_answers_with_strict_transport_security(api):
    missing = []
    for path, methods in app.routes.items():
        concrete = re.sub(r"\{[^}]+\}", "x", path)  # a parameter no route accepts: refusals count too
        for method in methods:
            response = api.http.request(method, concrete, headers={"Content-Type": "application/json"}, body=b"{}")
            if not (response.headers.get("Strict-Transport-Security", "").startswith("max-age=63072000")
                    and response.headers.get("X-Content-Type-Options") == "nosniff"):
                missing.append((method, path, response.status_code))
    assert len(app.routes) > 30 and missing == []
