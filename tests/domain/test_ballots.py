"""Anonymous ballot papers: only a paper we signed counts, and it names an election, never a voter."""
from __future__ import annotations

from datetime import datetime, timezone

from chalicelib.domain.ballots import issue, read

SECRET = b"a-secret-for-tests"
CLOSES = datetime(2026, 12, 1, 17, 0, tzinfo=timezone.utc)


def test_a_paper_reads_back_as_its_election_and_nothing_else():
    token = issue(SECRET, "avon-and-somerset", "e1", bytes(range(32)), CLOSES)
    paper = read(SECRET, token)
    assert (paper.force_id, paper.election_id, paper.expires_at) == ("avon-and-somerset", "e1", CLOSES)
    assert paper.spent_key != paper.nonce and len(paper.spent_key) == 64


def test_two_papers_of_one_election_differ_and_spend_apart():
    one = read(SECRET, issue(SECRET, "f", "e1", b"\x01" * 32, CLOSES))
    two = read(SECRET, issue(SECRET, "f", "e1", b"\x02" * 32, CLOSES))
    assert one.spent_key != two.spent_key


def test_a_forged_altered_or_malformed_paper_reads_as_none():
    token = issue(SECRET, "f", "e1", b"\x01" * 32, CLOSES)
    body, signature = token.split(".")
    other_election = issue(SECRET, "f", "e2", b"\x01" * 32, CLOSES).split(".")[0]
    assert read(b"another secret", token) is None
    assert read(SECRET, f"{other_election}.{signature}") is None
    for bad in ("", ".", "abc", f"{body}.{signature}.x", f"{body}!.{signature}", "x" * 500, f"{body}."):
        assert read(SECRET, bad) is None, bad
