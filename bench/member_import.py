"""What a member import costs: time and AWS calls by operation for a dry run, the real run and the same file again,
Avon and Somerset (its local groups do not screen), N members; and what the operators' contacts add to reading a
force's profile. moto in process (its own, nothing else); prints figures only.

Run from the repo root: .venv/bin/python bench/member_import.py [N]
"""
from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update({
    "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench",
    "AWS_DEFAULT_REGION": "eu-west-2", "AWS_REGION": "eu-west-2", "IAG_TABLE": "iag-bench", "IAG_STAGE": "local",
    "IAG_PREFECT_API_URL": "http://127.0.0.1:9/api", "IAG_MAIL_FROM": "iag@bench.example",
})
for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "IAG_DYNAMODB_ENDPOINT"):
    os.environ.pop(name, None)

from bench.aws_calls import calls  # noqa: E402
from moto import mock_aws  # noqa: E402

FORCE = "avon-and-somerset"
GROUPS = ("bristol", "bath-north-east-somerset", "north-somerset", "south-gloucestershire", "somerset")


def csv_text(n: int) -> str:
    lines = ["name,email,phone,group,role,joined_on,term_ends_on,agreement_signed_on"]
    for i in range(n):
        signed = "2024-01-08" if i % 2 else ""
        lines.append(f"Member {i},member{i}@bench.example,,{GROUPS[i % len(GROUPS)]},member,2024-01-08,2027-01-07,"
                     f"{signed}")
    return "\n".join(lines) + "\n"


def main(n: int) -> None:
    import boto3

    from chalicelib import bootstrap
    from chalicelib.adapters import dynamodb
    from chalicelib.domain.operators import Operator, Role
    from chalicelib.settings import Settings
    from tests.conftest import FixedClock

    with mock_aws():
        settings = Settings.from_env()
        dynamodb.configure(settings)
        dynamodb.create_table_if_missing()
        boto3.client("ses", region_name="eu-west-2").verify_email_identity(EmailAddress="iag@bench.example")
        container = bootstrap.override(clock=FixedClock(datetime(2026, 11, 22, 10, 30, tzinfo=timezone.utc)))
        admin = Operator("bench", Role.FORCE_ADMIN, FORCE)
        text = csv_text(n)
        print(f"{FORCE}, {n} members in {len(GROUPS)} groups, {len(text) // 1024} KB")
        for name, dry_run in (("dry run", True), ("real run", False), ("same file again", False)):
            calls.clear()
            started = time.perf_counter()
            report = container.member_import.run(admin, FORCE, text, dry_run=dry_run)
            seconds = time.perf_counter() - started
            by_operation = ", ".join(f"{op} {k}" for (_, op), k in sorted(calls.items()))
            print(f"  {name:16} {seconds:6.2f} s  created {len(report['created'])}, updated {len(report['updated'])}, "
                  f"welcomed {report['welcomed']}  | {by_operation}")
        calls.clear()
        for _ in range(1000):
            container.forces.get(FORCE)
        print(f"  1000 profile reads with the operators' contacts: {sum(calls.values())} AWS calls "
              f"(one Query a force a minute per process)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
