"""What the reports cost: AWS calls by operation and time for each report, Avon and Somerset (9 groups), with N
applications spread over groups and stages, each with an equality record. moto in process; prints figures only.

Run from the repo root: .venv/bin/python bench/reports.py [N]
       .venv/bin/python bench/reports.py --funnel 200 20000   (the funnel's reads at each size, side by side)

`--funnel` stores each application through the repository's real writes (submission, then each move, every one
keeping the funnel's counters in its transaction) and prints the reads of the force's funnel and of one
coordinator's (their group only): the same at every size.
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


REAL = 200  # applications stored through the real writes; beyond these, copies (see copy_applications)


def copy_applications(extra: int, start: int = 0) -> None:
    """Fill the table faster than 20,000 real submissions could (hours in moto): copies of the applications already
    stored, under new references, each with its counters added by the same rule every move uses (`counted`)."""
    from chalicelib.adapters.dynamodb.applications import ApplicationItem, count_in_funnel
    from chalicelib.adapters.dynamodb.base import Item, connection
    from chalicelib.domain.lifecycle import Stage
    from chalicelib.domain.recruitment import counted
    from pynamodb.transactions import TransactWrite

    if extra <= 0:
        return
    originals = [i for i in Item.scan() if isinstance(i, ApplicationItem) and "-C" not in i.reference]
    totals: dict[str, dict[str, int]] = {}
    with Item.batch_write() as batch:
        for k in range(start, start + extra):
            item = originals[k % len(originals)]
            reference = f"{item.reference}-C{k:06d}"
            copy = ApplicationItem(**{**item.attribute_values, "reference": reference,
                                      "pk": item.pk.rsplit("#", 1)[0] + f"#{reference}",
                                      "gsi1sk": item.gsi1sk + f"-C{k:06d}"})
            batch.save(copy)
            seen = frozenset(Stage(s) for s in item.stages_seen or ())
            for name, v in counted(Stage(item.stage), seen).items():
                totals.setdefault(item.group_id, {})[name] = totals.get(item.group_id, {}).get(name, 0) + v
    with TransactWrite(connection=connection()) as transaction:
        count_in_funnel(transaction, FORCE, totals)


def funnel_reads(sizes: list[int]) -> None:
    """One table that grows: the first REAL applications through the real writes, then copies up to each size."""
    print(f"{FORCE}: reads of the recruitment funnel (counters kept by every move)")
    print(f"{'applications':>12}  {'force-wide':<22} {'one group (coordinator)':<26} {'build s':>8}")
    with mock_aws():
        dynamodb.configure(Settings.from_env())
        dynamodb.create_table_if_missing()
        bootstrap.override(clock=FixedClock(datetime(2027, 1, 10, 10, 30, tzinfo=timezone.utc)))
        force = bootstrap.container().forces.get(FORCE)
        groups = [g.id for g in force.groups if g.accepts_applicants]
        reports = bootstrap.container().reports
        stored = 0
        for n in sorted(sizes):
            started = time.perf_counter()
            for i in range(stored, min(n, REAL)):
                store(i, groups[i % len(groups)], PATHS[i % len(PATHS)], days_ago=50 + i % 40)
            copy_applications(n - max(stored, REAL), start=max(stored - REAL, 0))
            stored = n
            built = time.perf_counter() - started
            reports.funnel(FORCE)  # the force's role holders are read once, then kept
            figures = []
            for group in (None, groups[0]):
                calls.clear()
                reports.funnel(FORCE, group)
                figures.append(", ".join(f"{op} {k}" for (_, op), k in sorted(calls.items())))
            assert reports.funnel(FORCE).total.steps["applied"] == n  # every application counted
            print(f"{n:>12}  {figures[0]:<22} {figures[1]:<26} {built:8.0f}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--funnel"]:
        funnel_reads([int(a) for a in sys.argv[2:]] or [200, 20000])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
