"""What the reports cost: AWS calls by operation and time for each report, Avon and Somerset (9 groups), with N
applications spread over groups and stages, each with an equality record. moto in process; prints figures only.

Run from the repo root: .venv/bin/python bench/reports.py [N]
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
    "IAG_PREFECT_API_URL": "http://127.0.0.1:9/api",
})
for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "IAG_DYNAMODB_ENDPOINT"):
    os.environ.pop(name, None)

from bench.aws_calls import calls  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib import bootstrap  # noqa: E402
from chalicelib.adapters import dynamodb  # noqa: E402
from chalicelib.adapters.admin_pages import render_equality_page, render_recruitment_page  # noqa: E402
from chalicelib.domain.lifecycle import Action as A  # noqa: E402
from chalicelib.settings import Settings  # noqa: E402
from tests.conftest import FixedClock  # noqa: E402
from tests.services.test_reports import FORCE, MEMBER, store  # noqa: E402

PATHS = [(), (A.REQUEST_DISCUSSION,), (A.FAIL_ELIGIBILITY,), MEMBER, (A.REJECT, A.EXPIRE), (A.APPROVE, A.MAKE_OFFER),
         (A.REJECT, A.LODGE_APPEAL, A.DISMISS_APPEAL), (A.WITHDRAW,)]
ANSWERS = [{"ethnicity": e, "sex": s, "religion": r} for e in ("white", "asian", "black") for s in ("female", "male")
           for r in ("none", "christian", "muslim")]


def main(n: int) -> None:
    with mock_aws():
        dynamodb.configure(Settings.from_env())
        dynamodb.create_table_if_missing()
        # The applications' dates are before 22 November 2026; read in January 2027, once their quarter has ended,
        # so that the equality report is published (an open quarter is never shown).
        bootstrap.override(clock=FixedClock(datetime(2027, 1, 10, 10, 30, tzinfo=timezone.utc)))
        force = bootstrap.container().forces.get(FORCE)
        groups = [g.id for g in force.groups if g.accepts_applicants]
        for i in range(n):
            store(i, groups[i % len(groups)], PATHS[i % len(PATHS)], days_ago=50 + i % 40,
                  equality=ANSWERS[i % len(ANSWERS)])
        reports = bootstrap.container().reports
        print(f"{FORCE}, {len(force.groups)} groups, {n} applications")
        for name, make in (("equality", lambda: reports.equality(FORCE)), ("funnel", lambda: reports.funnel(FORCE)),
                           ("queues", lambda: reports.queues(FORCE))):
            calls.clear()
            started = time.perf_counter()
            result = make()
            seconds = time.perf_counter() - started
            by_operation = ", ".join(f"{op} {k}" for (_, op), k in sorted(calls.items()))
            print(f"  {name:9} {seconds * 1000:7.0f} ms  {by_operation}")
            if name == "equality":
                started = time.perf_counter()
                html = render_equality_page(force, result, static_url="/static")
                print(f"  {'page':9} {(time.perf_counter() - started) * 1000:7.0f} ms  {len(html) // 1024} KB")
        started = time.perf_counter()
        html = render_recruitment_page(force, reports.funnel(FORCE), reports.queues(FORCE), static_url="/static")
        print(f"  recruitment page (reports and HTML) {(time.perf_counter() - started) * 1000:.0f} ms, "
              f"{len(html) // 1024} KB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
