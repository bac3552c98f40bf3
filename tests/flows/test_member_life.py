"""The `member-life` flow on a Prefect test server with moto as AWS: a term that ended without renewal ends the
membership and says so; a check about to expire is sent to the vetting unit; nothing goes twice."""
from __future__ import annotations

from datetime import date

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.joining import member_item
from chalicelib.domain.membership import Member, Role, Status
from tests.conftest import sent_emails


def test_the_daily_pass_ends_an_unrenewed_term_and_asks_for_a_screening_renewal_once(prefect_server, api):
    from flows.member_life import member_life

    # The clock (tests/conftest.py) stands at 22 November 2026.
    ended = Member("NOR-1", "northamptonshire", "northampton", Role.MEMBER, "Ann Ended", "ann@example.org", "",
                   date(2023, 11, 1), date(2026, 11, 1), {"email": True}, None, "confidentiality-agreement@2026-11")
    expiring = Member("NOR-2", "northamptonshire", "northampton", Role.MEMBER, "Bea Screened", "bea@example.org", "",
                      date(2025, 1, 1), date(2028, 1, 1), {"email": True},
                      {"level": "basic", "outcome": "clear", "completed_on": "2024-01-10", "expires_on": "2027-01-10"},
                      "confidentiality-agreement@2026-11")
    member_item(ended).save()
    member_item(expiring).save()

    results = member_life()
    assert results["northamptonshire"]["members"]["ended"] == 1
    assert results["northamptonshire"]["members"]["rescreening_asked"] == 1
    store = bootstrap.container().member_store
    assert store.member("northamptonshire", "NOR-1", "northampton").standing is Status.TERM_ENDED
    sent = len(sent_emails())
    again = member_life()
    assert again["northamptonshire"]["members"]["ended"] == 0 and len(sent_emails()) == sent
    to = [address for m in sent_emails() for address in m.destinations["ToAddresses"]]
    vetting = bootstrap.container().forces.get("northamptonshire").contacts["vetting_unit"].email
    assert "ann@example.org" in to and "bea@example.org" in to and vetting in to
