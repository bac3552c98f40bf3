"""What the daily retention pass's Scan costs: N applications, each with two links (one expired), on moto in
process. Prints items, size, read units (eventually consistent) and the time moto takes; never fails on a number.

Run from the repo root: .venv/bin/python bench/retention_scan.py [N]   (N=1000 by default: 3,000 items)
"""
from __future__ import annotations

import math
import os
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update({
    "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench",
    "AWS_DEFAULT_REGION": "eu-west-2", "AWS_REGION": "eu-west-2", "IAG_TABLE": "iag-bench",
    "IAG_PREFECT_API_URL": "http://127.0.0.1:9/api",
})
for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "IAG_DYNAMODB_ENDPOINT"):
    os.environ.pop(name, None)

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib.adapters import dynamodb  # noqa: E402
from chalicelib.adapters.dynamodb.applications import application_item  # noqa: E402
from chalicelib.adapters.dynamodb.base import Item  # noqa: E402
from chalicelib.adapters.dynamodb.links import link_item  # noqa: E402
from chalicelib.adapters.dynamodb.data_protection import DynamoDataProtection  # noqa: E402
from chalicelib.domain.application import Application  # noqa: E402
from chalicelib.domain.lifecycle import Stage  # noqa: E402
from chalicelib.domain.links import Link, Purpose  # noqa: E402
from chalicelib.settings import Settings  # noqa: E402
from tests.factories import application_payload  # noqa: E402

AT = datetime(2026, 11, 22, 10, 30, tzinfo=timezone.utc)


def an_application(n: int) -> Application:
    payload = application_payload()
    return Application(f"DBY-{n:05d}", "derbyshire", "derbyshire-iag", Stage.AWAITING_REVIEW, AT, AT,
                       {**payload["applicant"], "email": f"person{n}@example.org"},
                       {k: payload[k] for k in ("connection_to_area", "statements", "declarations")},
                       {"reasons": [], "screening": "none", "panel_notes": []})


def item_size(value) -> int:
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
            return 3 + sum(len(k.encode()) + item_size(v) + 1 for k, v in inner.items())
        return 3 + sum(item_size(v) + 1 for v in inner)
    return sum(len(k.encode()) + item_size(v) for k, v in value.items())


def main(n: int) -> None:
    with mock_aws():
        dynamodb.configure(Settings.from_env())
        dynamodb.create_table_if_missing()
        with Item.batch_write() as batch:
            for i in range(n):
                batch.save(application_item(an_application(i)))
                for k, days in enumerate((-1, 1)):
                    batch.save(link_item(Link(f"{i:05d}{k}".ljust(64, "0"), Purpose.REVIEW, "derbyshire",
                                              f"DBY-{i:05d}", "iag_chair", 1, AT + timedelta(days=days))))
        client = boto3.client("dynamodb", region_name="eu-west-2")
        pages = [page["Items"] for page in client.get_paginator("scan").paginate(TableName="iag-bench")]
        scanned = [sum(item_size(item) for item in page) for page in pages]
        read_units = sum(math.ceil(b / 4096) * 0.5 for b in scanned)

        started = time.perf_counter()
        counts = DynamoDataProtection().delete_expired("derbyshire", AT, date(2026, 11, 22))
        elapsed = time.perf_counter() - started
    print(f"retention scan: {sum(len(p) for p in pages)} items, {sum(scanned) / 1024:.0f} KB, "
          f"{read_units:.0f} read units, {elapsed:.1f} s on moto (deleting {counts['links']:,} expired links)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
