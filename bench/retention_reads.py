"""Reads per daily retention pass and per erasure of a member, with N other items in the table: the same for every N.

One force's table on moto in process (its own; no stack). Fixed: 10 expired links and one expired screening
outcome for the retention pass to delete; one member (application, membership, an expired link, a candidacy,
a Strategic IAG nomination, an availability answer) for subject access and erasure. Then N other items of
other people: applications, unexpired links, other members' candidacies and their refs (written as the stores
write them). Counts the DynamoDB requests each step makes and the read units they cost (4 KB a unit, half for
an eventually consistent read; item sizes as DynamoDB counts them, roughly), and what one Scan of the table
(what the pass and erasure did before) would have read. Prints; never fails on a number.

Run from the repo root: .venv/bin/python bench/retention_reads.py [N ...]   (default: 1000 100000)
"""
from __future__ import annotations

import math
import os
import sys
import time
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update({
    "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench",
    "AWS_DEFAULT_REGION": "eu-west-2", "AWS_REGION": "eu-west-2", "IAG_TABLE": "iag-bench", "IAG_STAGE": "local",
    "IAG_PREFECT_API_URL": "http://127.0.0.1:9/api",
})
for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "IAG_DYNAMODB_ENDPOINT"):
    os.environ.pop(name, None)

import boto3  # noqa: E402
import botocore.client  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib.adapters import dynamodb  # noqa: E402
from chalicelib.adapters.dynamodb.applications import application_item  # noqa: E402
from chalicelib.adapters.dynamodb.base import Item  # noqa: E402
from chalicelib.adapters.dynamodb.data_protection import DynamoDataProtection  # noqa: E402
from chalicelib.adapters.dynamodb.elections import CandidateItem, DynamoElectionStore  # noqa: E402
from chalicelib.adapters.dynamodb.joining import ScreeningItem, member_item  # noqa: E402
from chalicelib.adapters.dynamodb.links import expiring_key, link_item  # noqa: E402
from chalicelib.adapters.dynamodb.member_refs import member_ref  # noqa: E402
from chalicelib.adapters.dynamodb.strategic import DynamoStrategicStore  # noqa: E402
from chalicelib.domain.application import Application  # noqa: E402
from chalicelib.domain.elections import Candidate, Election, Office, Status  # noqa: E402
from chalicelib.domain.lifecycle import Stage  # noqa: E402
from chalicelib.domain.links import Link, Purpose  # noqa: E402
from chalicelib.domain.membership import Member, Role  # noqa: E402
from chalicelib.domain.strategic import Nominee  # noqa: E402
from chalicelib.settings import Settings  # noqa: E402
from tests.factories import application_payload  # noqa: E402

FORCE, GROUP = "derbyshire", "derbyshire-iag"
AT = datetime(2026, 11, 22, 10, 30, tzinfo=timezone.utc)
JOINED = AT - timedelta(days=60)
MEMBER_ID, EMAIL = "DBY-M0001", "member@example.org"
READS = ("GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems")


def an_application(reference: str, email: str, stage: Stage = Stage.AWAITING_REVIEW) -> Application:
    payload = application_payload()
    return Application(reference, FORCE, GROUP, stage, AT, AT, {**payload["applicant"], "email": email},
                       {k: payload[k] for k in ("connection_to_area", "statements", "declarations")},
                       {"reasons": [], "screening": "none", "panel_notes": []})


def a_link(key: str, purpose: Purpose, reference: str, role: str, expires: datetime) -> Link:
    return Link(key.ljust(64, "0"), purpose, FORCE, reference, role, None, expires)


def item_size(value) -> int:
    """DynamoDB's item size: attribute names plus values (strings and numbers roughly as stored)."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("S", "N", "BOOL", "NULL", "M", "L", "SS"):
        (kind, inner), = value.items()
        if kind == "S":
            return len(inner.encode())
        if kind == "N":
            return len(inner) // 2 + 1
        if kind in ("BOOL", "NULL"):
            return 1
        if kind == "M":
            return 3 + sum(len(k.encode()) + item_size(v) + 1 for k, v in inner.items())
        return 3 + sum((item_size(v) if isinstance(v, dict) else len(str(v))) + 1 for v in inner)
    return sum(len(k.encode()) + item_size(v) for k, v in value.items())


def read_units(operation: str, params: dict, result: dict) -> float:
    scale = 1.0 if params.get("ConsistentRead") else 0.5
    if operation == "GetItem":  # a miss costs a unit too
        return scale * max(1, math.ceil(item_size(result.get("Item", {})) / 4096))
    if operation in ("Query", "Scan"):
        return scale * max(1, math.ceil(sum(item_size(i) for i in result.get("Items", [])) / 4096))
    return 0.0


@contextmanager
def recorded():
    """Every DynamoDB request inside the block, its read units and the items it returned."""
    calls: list[tuple[str, float, int]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(client, operation, params):
        result = original(client, operation, params)
        if client.meta.service_model.service_name == "dynamodb":
            returned = len(result.get("Items", [])) + (1 if "Item" in result else 0)
            calls.append((operation, read_units(operation, params, result), returned))
        return result
    botocore.client.BaseClient._make_api_call = recording
    try:
        yield calls
    finally:
        botocore.client.BaseClient._make_api_call = original


def summary(calls: list[tuple[str, float, int]]) -> str:
    requests = Counter(operation for operation, _, _ in calls)
    reads = [c for c in calls if c[0] in READS]
    return (f"{len(reads)} read requests, {sum(r for _, r, _ in reads):.1f} read units, "
            f"{sum(n for _, _, n in reads)} items read; requests: "
            + ", ".join(f"{operation} {count}" for operation, count in sorted(requests.items())))


def the_subject() -> None:
    """One member with everything erasure must find, and what the retention pass must delete."""
    elections = DynamoElectionStore()
    application_item(an_application(MEMBER_ID, EMAIL, Stage.MEMBER)).save()
    member_item(Member(MEMBER_ID, FORCE, GROUP, Role.MEMBER, "Morgan Member", EMAIL, "01632 960 123",
                       JOINED.date(), JOINED.date() + timedelta(days=3 * 365), agreement_version="2026-11")).save()
    elections.add(Election("EL-1", FORCE, GROUP, Office.CHAIR, AT + timedelta(days=7), AT + timedelta(days=14),
                       Status.NOMINATING, JOINED))
    for key, purpose, reference in (("n1", Purpose.NOMINATION, "EL-1"), ("n2", Purpose.NOMINATION, "CY-1"),
                                    ("a1", Purpose.AVAILABILITY, "CY-1")):
        elections.add_link(a_link(key, purpose, reference, MEMBER_ID, AT + timedelta(days=1)))
    elections.nominate(a_link("n1", Purpose.NOMINATION, "EL-1", MEMBER_ID, AT + timedelta(days=1)),
                   Candidate(MEMBER_ID, "Morgan Member", "Morgan for chair"), AT - timedelta(hours=1))
    strategic = DynamoStrategicStore()
    strategic.nominate(a_link("n2", Purpose.NOMINATION, "CY-1", MEMBER_ID, AT + timedelta(days=1)), GROUP,
                       [Nominee(MEMBER_ID, "Morgan Member", EMAIL, GROUP)], AT - timedelta(hours=1))
    strategic.answer(a_link("a1", Purpose.AVAILABILITY, "CY-1", MEMBER_ID, AT + timedelta(days=1)), MEMBER_ID, [AT + timedelta(days=30)], AT - timedelta(hours=1))
    with Item.batch_write() as batch:
        for k in range(10):  # what the pass deletes
            batch.save(link_item(a_link(f"x{k:09d}", Purpose.CALLOUT, MEMBER_ID, MEMBER_ID, AT - timedelta(days=1))))
        pk = f"FORCE#{FORCE}#APP#DBY-S0001"
        batch.save(ScreeningItem(pk=pk, sk="SCREENING#v000003", outcome="clear", level="basic",
                                 completed_on="2023-11-01", expires_on="2026-11-01",
                                 gsi1pk=expiring_key(FORCE, "SCREENING"), gsi1sk=f"2026-11-01#{pk}"))


def others(n: int) -> None:
    """n items of other people: applications, unexpired links, other members' candidacies (with their refs)."""
    with Item.batch_write() as batch:
        written = 0
        i = 0
        while written < n:
            kind = i % 3
            if kind == 0:
                batch.save(application_item(an_application(f"DBY-{i:06d}", f"person{i}@example.org")))
                written += 1
            elif kind == 1:
                batch.save(link_item(a_link(f"o{i:09d}", Purpose.REVIEW, f"DBY-{i:06d}", "iag_chair",
                                            AT + timedelta(days=7))))
                written += 1
            else:
                candidate = CandidateItem(pk=f"FORCE#{FORCE}#ELECTION#EL-OTHER-{i // 300}", sk=f"CANDIDATE#DBY-{i:06d}",
                                          member_id=f"DBY-{i:06d}", name=f"Person {i}", statement="Vote for me",
                                          nominated_at=AT)
                batch.save(candidate)
                batch.save(member_ref(FORCE, f"DBY-{i:06d}", candidate))
                written += 2
            i += 1


def run(n: int) -> None:
    with mock_aws():
        dynamodb.configure(Settings.from_env())
        dynamodb.create_table_if_missing()
        started = time.perf_counter()
        the_subject()
        others(n)
        built = time.perf_counter() - started
        client = boto3.client("dynamodb", region_name="eu-west-2")
        pages = [page["Items"] for page in client.get_paginator("scan").paginate(TableName="iag-bench")]
        scan_units = sum(max(1, math.ceil(sum(item_size(i) for i in page) / 4096)) * 0.5 for page in pages)
        total = sum(len(p) for p in pages)
        store = DynamoDataProtection()
        with recorded() as access:
            records = store.records(FORCE, [MEMBER_ID], [], {EMAIL})
        with recorded() as erasure:
            counts = store.erase(FORCE, [MEMBER_ID], [], {EMAIL}, {})
        with recorded() as retention:
            deleted = store.delete_expired(FORCE, AT, AT.date())
    print(f"N={n:,} other items ({total:,} in the table, built in {built:.0f} s on moto; one Scan of it: "
          f"{scan_units:,.0f} read units)")
    print(f"  subject access of the member ({len(records)} records): {summary(access)}")
    print(f"  erasure of the member ({counts['deleted']} deleted, {counts['anonymised']} anonymised): "
          f"{summary(erasure)}")
    print(f"  retention pass ({deleted['links']} links, {deleted['screening']} screening outcome deleted): "
          f"{summary(retention)}")
    scans = sum(1 for calls in (access, erasure, retention) for operation, _, _ in calls if operation == "Scan")
    print(f"  Scans: {scans}")


if __name__ == "__main__":
    for size in [int(a) for a in sys.argv[1:]] or [1000, 100_000]:
        run(size)
