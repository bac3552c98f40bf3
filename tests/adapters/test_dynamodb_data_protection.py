"""The data protection adapter's one-off backfill and the cost of the retention pass's Scan, on moto."""
from __future__ import annotations

import math
import time
from datetime import date, datetime, timedelta, timezone

import boto3

from chalicelib.adapters.dynamodb import (
    ApplicantIndexItem, DynamoApplicationRepository, Item, _to_item, applicant_partition, link_item,
)
from chalicelib.adapters.dynamodb_data_protection import DynamoDataProtection, backfill_person_index
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


def test_the_retention_scan_of_a_few_thousand_items_costs_a_few_hundred_read_units(table):
    """Figures for the README: 1,000 applications and 2,000 links (half expired)."""
    with Item.batch_write() as batch:
        for n in range(1000):
            batch.save(_to_item(an_application(n, f"person{n}@example.org")))
            for k, days in enumerate((-1, 1)):
                batch.save(link_item(Link(f"{n:05d}{k}".ljust(64, "0"), Purpose.REVIEW, "derbyshire",
                                          f"DBY-{n:05d}", "iag_chair", 1, AT + timedelta(days=days))))
    client = boto3.client("dynamodb", region_name="eu-west-2")
    pages = [page["Items"] for page in client.get_paginator("scan").paginate(TableName="iag-test")]
    scanned = [sum(_size(item) for item in page) for page in pages]
    read_units = sum(math.ceil(b / 4096) * 0.5 for b in scanned)  # eventually consistent

    started = time.perf_counter()
    counts = DynamoDataProtection().delete_expired("derbyshire", AT, date(2026, 11, 22))
    elapsed = time.perf_counter() - started

    assert counts == {"links": 1000, "screening": 0}
    print(f"\nretention scan: {sum(len(p) for p in pages)} items, {sum(scanned) / 1024:.0f} KB, "
          f"{read_units:.0f} read units, {elapsed:.1f} s on moto (deleting 1,000)")
    assert read_units < 1000


def _size(value) -> int:
    """DynamoDB's item size: attribute names plus values (strings and numbers roughly as stored)."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("S", "N", "BOOL", "NULL", "M", "L"):
        (kind, inner), = value.items()
        if kind == "S":
            return len(inner.encode())
        if kind == "N":
            return len(inner) // 2 + 1
        if kind in ("BOOL", "NULL"):
            return 1
        if kind == "M":
            return 3 + sum(len(k.encode()) + _size(v) + 1 for k, v in inner.items())
        return 3 + sum(_size(v) + 1 for v in inner)
    return sum(len(k.encode()) + _size(v) for k, v in value.items())
