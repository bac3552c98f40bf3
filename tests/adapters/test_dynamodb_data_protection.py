"""The data protection adapter's one-off backfills and its retention pass, on moto (reads per pass and per erasure:
bench/retention_reads.py)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from chalicelib.adapters.dynamodb.applications import ApplicantIndexItem, DynamoApplicationRepository, application_item
from chalicelib.adapters.dynamodb.base import Item, applicant_partition
from chalicelib.adapters.dynamodb.links import link_item
from chalicelib.adapters.dynamodb.data_protection import (
    DynamoDataProtection, backfill_member_refs, backfill_person_index,
)
from chalicelib.adapters.dynamodb.elections import CandidateItem
from chalicelib.adapters.dynamodb.member_refs import member_refs
from chalicelib.adapters.dynamodb.strategic import AvailabilityItem, NominationsItem
from chalicelib.domain.application import Application, AuditEvent
from chalicelib.domain.lifecycle import Stage
from chalicelib.domain.links import Link, Purpose
from tests.factories import application_payload

AT = datetime(2026, 11, 22, 10, 30, tzinfo=timezone.utc)


def an_application(n: int, email: str) -> Application:
    payload = application_payload()
    return Application(f"DBY-{n:05d}", "derbyshire", "derbyshire-iag", Stage.AWAITING_REVIEW, AT, AT,
                       {**payload["applicant"], "email": email},
                       {k: payload[k] for k in ("connection_to_area", "statements", "declarations")},
                       {"reasons": [], "screening": "none", "panel_notes": []})


def test_the_backfill_indexes_what_was_stored_before_the_person_index(table):
    repository = DynamoApplicationRepository()
    application = repository.add(an_application(1, "early@example.org"),
                                 [AuditEvent("DBY-00001", AT, "submit", None, Stage.SUBMITTED, "applicant")],
                                 equality=None, idempotency=None)
    repository.add_pack_request("derbyshire", "PACK-1", {"name": "Early", "email": "Early@example.org"}, AT)
    for item in ApplicantIndexItem.query(applicant_partition("derbyshire", application.applicant_key)):
        item.delete()  # as it was before the index
    store = DynamoDataProtection()
    assert store.references_for("derbyshire", application.applicant_key) == []

    assert backfill_person_index() == 2
    assert store.references_for("derbyshire", application.applicant_key) == ["DBY-00001"]
    assert store.pack_requests_for("derbyshire", application.applicant_key) == ["PACK-1"]
    assert backfill_person_index() == 2  # again: the same items, nothing new


def test_the_retention_pass_deletes_expired_links_and_keeps_live_ones(table):
    """Found by the due-date index written with each link (reads per pass: bench/retention_reads.py)."""
    with Item.batch_write() as batch:
        for n in range(10):
            batch.save(application_item(an_application(n, f"person{n}@example.org")))
            for k, days in enumerate((-1, 1)):
                batch.save(link_item(Link(f"{n:05d}{k}".ljust(64, "0"), Purpose.REVIEW, "derbyshire",
                                          f"DBY-{n:05d}", "iag_chair", 1, AT + timedelta(days=days))))

    counts = DynamoDataProtection().delete_expired("derbyshire", AT, date(2026, 11, 22))

    assert counts == {"links": 10, "screening": 0}
    left = [i for i in Item.scan() if i.pk.startswith("LINK#")]  # test-only scan
    assert len(left) == 10 and all(i.link_expires_at > AT for i in left)


def test_the_member_refs_backfill_lets_erasure_find_what_was_stored_before_refs(table):
    """Items stored before member refs existed: subject access finds them only once the backfill has run."""
    cycle = "FORCE#derbyshire#STRATEGIC#CY-1"
    with Item.batch_write() as batch:  # as the stores wrote them before, without refs
        batch.save(CandidateItem(pk="FORCE#derbyshire#ELECTION#EL-1", sk="CANDIDATE#DBY-00001", member_id="DBY-00001",
                                 name="Amira Khan", statement="For chair", nominated_at=AT))
        batch.save(NominationsItem(pk=cycle, sk="NOMINEES#derbyshire-iag", group_id="derbyshire-iag", nominated_at=AT,
                                   nominees=[{"member_id": "DBY-00001", "name": "Amira Khan", "email": "a@example.org"},
                                             {"member_id": "DBY-00002", "name": "Ben Okoro", "email": "b@example.org"}]))
        batch.save(AvailabilityItem(pk=cycle, sk="AVAILABILITY#DBY-00001", person_id="DBY-00001",
                                    available=["2026-12-01T18:00:00+00:00"], answered_at=AT))
    store = DynamoDataProtection()
    assert store.records("derbyshire", ["DBY-00001"], [], {"a@example.org"}) == []

    assert backfill_member_refs() == 4
    kinds = {r.kind for r in store.records("derbyshire", ["DBY-00001"], [], {"a@example.org"})}
    assert kinds == {"candidate", "strategic_nominations", "strategic_availability"}
    assert [r.ref_sk for r in member_refs("derbyshire", "DBY-00002")] == ["NOMINEES#derbyshire-iag"]
    assert backfill_member_refs() == 4  # again: the same items, nothing new

