"""The public doors cannot be used to send mail without limit or to load the system."""
from __future__ import annotations

import pytest

from chalicelib.adapters.dynamodb.applications import ApplicationItem, RateCounterItem
from chalicelib.adapters.dynamodb.base import Item, OutboxItem
from chalicelib.domain import rate_limits
from chalicelib.domain.rate_limits import Limit
from tests.conftest import sent_emails
from tests.factories import application_payload, post_json
from tests.web.test_pages import post_form, token_from

INELIGIBLE = {"postcode": "M1 1AE"}  # outside Derbyshire: stored, emailed, and not guarded as a live application


@pytest.fixture
def small_limits(monkeypatch):
    monkeypatch.setitem(rate_limits.LIMITS, "apply", (Limit("email", 2, 24 * 3600), Limit("client", 4, 3600)))
    monkeypatch.setitem(rate_limits.LIMITS, "pack", (Limit("email", 1, 24 * 3600), Limit("client", 2, 3600)))


def submit(api, email: str, headers=None):
    payload = application_payload(applicant={"email": email, **INELIGIBLE})
    return post_json(api, "/forces/derbyshire/applications", payload, headers)


def applications() -> int:
    return sum(1 for _ in ApplicationItem.scan())


def test_ineligible_applications_from_one_address_are_limited_and_the_refusal_stores_and_sends_nothing(
        api, small_limits):
    assert [submit(api, "pat@example.org").status_code for _ in range(2)] == [201, 201]
    refused = submit(api, "PAT@example.org")  # the same address, however it is written
    assert refused.status_code == 429
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json_body["type"] == "/problems/rate-limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600
    assert applications() == 2
    assert sum(1 for i in Item.scan() if isinstance(i, OutboxItem)) == 2  # the refusal announced no email


def test_one_client_address_is_limited_across_email_addresses(api, small_limits):
    answers = [submit(api, f"person{n}@example.org").status_code for n in range(5)]
    assert answers == [201, 201, 201, 201, 429]
    assert applications() == 4


def test_a_retry_with_the_same_idempotency_key_spends_nothing(api, small_limits):
    for _ in range(3):
        assert submit(api, "pat@example.org", headers={"Idempotency-Key": "once"}).status_code == 201
    assert submit(api, "pat@example.org").status_code == 201  # the second real one


def test_counters_hold_no_address_and_expire_with_their_window(api, small_limits):
    submit(api, "pat@example.org")
    counters = list(RateCounterItem.scan())
    assert len(counters) == 2 and all(c.expires_at is not None for c in counters)
    assert not any("pat" in c.pk or "127.0.0.1" in c.pk for c in counters)


def test_the_form_says_kindly_when_to_try_again(api, small_limits):
    from tests.web.test_pages import ANSWERS, Applicant

    email = ANSWERS["contact"]["applicant.email"]
    for _ in range(2):  # two ineligible applications through the API spend the address's allowance
        assert submit(api, email).status_code == 201
    person = Applicant(api)
    person.answer_all()
    page = person.send("check", {})
    assert page.status_code == 429 and "Retry-After" in page.headers
    assert "Please try again in" in page.body.decode()
    assert applications() == 2


def test_pack_requests_are_limited_per_address_and_the_refusal_sends_nothing(api, small_limits):
    def ask(email):
        token = token_from(api, "/forces/derbyshire/application-pack")
        return post_form(api, {"_token": token, "format": "audio", "name": "Pat", "email": email},
                         path="/forces/derbyshire/application-pack")

    assert ask("pat@example.org").status_code == 303
    assert ask("pat@example.org").status_code == 429
    assert len(sent_emails()) == 1
    assert ask("sam@example.org").status_code == 303
    assert ask("kim@example.org").status_code == 429  # the client's limit
    assert sum(1 for i in Item.scan() if i.pk.startswith("FORCE#derbyshire#PACK#") and i.sk == "PACK") == 2


def test_the_default_limits_leave_room_for_a_community_event_and_a_few_groups():
    by_action = {action: {limit.per: limit for limit in limits} for action, limits in rate_limits.LIMITS.items()}
    assert by_action["apply"]["email"].count >= 3 and by_action["apply"]["client"].count >= 50
