"""The one link action: refusals become pages by their type, in one table, never by their words."""
from __future__ import annotations

import pytest
from chalice import Response

from chalicelib.services.elections import ElectionNotNow, ElectionRefused
from chalicelib.web.link_action import act_on_link

TOKEN = "a" * 43


class Posted:
    """What act_on_link reads of a request: its body and headers."""

    def __init__(self, body: bytes = b"candidate=bola"):
        self.raw_body = body
        self.headers: dict = {}


def form_again(status: int, error: str, values: dict) -> Response:
    return Response(body=f"form again: {error} {values}", status_code=status)


def failing(error: Exception):
    def act(fields):
        raise error
    return act


def test_a_refusal_becomes_its_page_by_type_whatever_its_words_say():
    not_now = act_on_link(Posted(), TOKEN, failing(ElectionNotNow("Choose one of the candidates")), form_again)
    again = act_on_link(Posted(), TOKEN, failing(ElectionRefused("Voting in this election has closed")), form_again)

    assert not_now.status_code == 409 and "This cannot be done now" in not_now.body
    assert again.status_code == 422 and again.body == "form again: Voting in this election has closed " \
                                                      "{'candidate': 'bola'}"


def test_an_error_no_refusal_names_is_not_turned_into_a_page():
    with pytest.raises(RuntimeError):
        act_on_link(Posted(), TOKEN, failing(RuntimeError("DynamoDB unreachable")), form_again)


def test_a_malformed_token_is_refused_before_the_form_is_read_or_anything_acts():
    acted = []
    refused = act_on_link(Posted(), "not a token", lambda fields: acted.append(fields), form_again)

    assert refused.status_code == 404 and acted == []
