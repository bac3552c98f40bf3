"""The local stack's `chalice local` takes a request's client address from X-Forwarded-For, so a bench's surge of
applicants from many venues is not one address to the per-client limits; without the header nothing changes."""
from __future__ import annotations

from chalice.local import LambdaEventConverter, RouteMatcher

import scripts.chalice_local  # noqa: F401 -- installs the converter's change


def event(headers: dict) -> dict:
    converter = LambdaEventConverter(RouteMatcher(["/forces/{force_id}/applications"]))
    return converter.create_lambda_event("POST", "/forces/derbyshire/applications", headers, b"{}")


def test_the_forwarded_address_is_the_client_address():
    assert event({"X-Forwarded-For": "198.51.100.7, 10.0.0.1"})["requestContext"]["identity"]["sourceIp"] == \
        "198.51.100.7"


def test_without_the_header_the_client_is_loopback_as_before():
    assert event({"Content-Type": "application/json"})["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
