from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.links import Link, LinkProblem, Purpose, new_token, problem_with, token_hash

NOW = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)


def review_link(**changes) -> Link:
    values = dict(token_hash="h", purpose=Purpose.REVIEW, force_id="derbyshire", reference="DBY-2026-AAAAAAAA",
                  role="iag_chair", version=3, expires_at=NOW + timedelta(days=14))
    values.update(changes)
    return Link(**values)


def test_a_token_carries_at_least_128_random_bits_and_is_stored_only_as_its_hash():
    token = new_token(bytes(range(32)))
    assert len(token) >= 43 and token_hash(token) != token and len(token_hash(token)) == 64
    with pytest.raises(ValueError):
        new_token(b"short")


@pytest.mark.parametrize("link, version, problem", [
    (review_link(), 3, None),
    (None, 3, LinkProblem.UNKNOWN),
    (review_link(used_at=NOW), 3, LinkProblem.USED),
    (review_link(expires_at=NOW), 3, LinkProblem.EXPIRED),
    (review_link(), 4, LinkProblem.SUPERSEDED),
    (review_link(version=None), 9, None),  # a withdrawal link outlives versions
])
def test_a_link_acts_only_while_unused_unexpired_and_on_the_version_it_was_sent_for(link, version, problem):
    assert problem_with(link, now=NOW, current_version=version) == problem
