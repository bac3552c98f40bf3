"""Intake figures: request latency on moto, DynamoDB calls per submission, cold import, package size.

Run from the repo root: .venv/bin/python bench/intake.py (or `make bench`); with --package-only, only the package's
size and cold import (build/package if `make package` built it, else a fresh build).
It prints figures and never fails on a number. AWS is moto in process; Prefect is faked in process (a fake that
records the runs it is asked to start, no HTTP), so the bench never reaches a Prefect that happens to be running.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update({
    "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench",
    "AWS_DEFAULT_REGION": "eu-west-2", "AWS_REGION": "eu-west-2", "IAG_TABLE": "iag-bench", "IAG_STAGE": "local",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
})
for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "IAG_DYNAMODB_ENDPOINT"):
    os.environ.pop(name, None)

import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import zipfile  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

import boto3  # noqa: E402
from bench.aws_calls import calls, waited  # noqa: E402
from chalice.test import Client  # noqa: E402
from moto import mock_aws  # noqa: E402

from app import app  # noqa: E402
from chalicelib import bootstrap  # noqa: E402
from chalicelib.adapters import dynamodb  # noqa: E402
from chalicelib.adapters.dynamodb.applications import ApplicationItem  # noqa: E402
from chalicelib.adapters.dynamodb.base import application_pk  # noqa: E402
from chalicelib.settings import Settings  # noqa: E402
from tests.factories import application_payload, post_json  # noqa: E402

N, WARMUP, IMPORT_RUNS = 300, 30, 5
PATH = "/forces/derbyshire/applications"
READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "DescribeTable"}



class FakePrefect:
    """The workflow port, faked explicitly: records each run it is asked to start and the time spent in it."""

    def __init__(self):
        self.started: list[str] = []
        self.seconds = 0.0

    def start(self, deployment, *, name, parameters, tags, idempotency_key):
        began = time.perf_counter()
        self.started.append(name)
        self.seconds += time.perf_counter() - began
        return f"run-{name}"


def row(label: str, text: str) -> None:
    print(f"{label:<38} {text}")


def p50_p99(seconds: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


def empty_table() -> None:
    """moto 5.2.5 deep-copies the whole table once per item of a TransactWriteItems, so on a growing table
    latency grows with N and measures moto. Emptied between requests, untimed and uncounted."""
    counted = calls.copy()
    with dynamodb.Item.batch_write() as batch:
        for item in dynamodb.Item.scan():
            batch.delete(item)
    calls.clear()
    calls.update(counted)


OWN: list[float] = []  # per timed action: wall time minus time waiting on AWS (moto) and Prefect (the fake)


def timed(action, first: int, n: int, prefect: "FakePrefect | None" = None) -> list[float]:
    times = []
    OWN.clear()
    for i in range(first, first + n):
        aws_before, prefect_before = waited[0], prefect.seconds if prefect else 0.0
        start = time.perf_counter()
        action(i)
        wall = time.perf_counter() - start
        times.append(wall)
        OWN.append(wall - (waited[0] - aws_before) - ((prefect.seconds if prefect else 0.0) - prefect_before))
        empty_table()
    return times


def bare_save(i: int) -> None:
    """ApplicationItem.save() of an item shaped like a submission's application item (one PutItem)."""
    payload, now, reference = application_payload(), datetime.now(timezone.utc), f"DBY-2026-B{i:07d}"
    ApplicationItem(
        pk=application_pk("derbyshire", reference), sk="APPLICATION",
        gsi1pk="FORCE#derbyshire#GROUP#derbyshire-iag#STAGE#awaiting_review", gsi1sk=f"{now.isoformat()}#{reference}",
        reference=reference, force_id="derbyshire", group_id="derbyshire-iag", stage="awaiting_review",
        submitted_at=now, updated_at=now, applicant_key=f"{i:064x}", applicant=payload["applicant"],
        answers={k: payload[k] for k in ("connection_to_area", "statements", "declarations")},
        eligibility={"reasons": [], "screening": "none", "panel_notes": []},
    ).save()


def lambda_handler_own_time(client, first: int, prefect: "FakePrefect") -> list[float]:
    """Own time of the app's handler called as Lambda calls it: with the event API Gateway sends (built beforehand,
    untimed), so the test client's routing, event building and environment patching are not counted."""
    gateway = client.http._local_gateway
    events = []
    for i in range(first, first + N):
        body = json.dumps(application_payload(applicant={"email": f"bench-{i}@example.org"})).encode()
        events.append(gateway._generate_lambda_event("POST", PATH, {"content-type": "application/json"}, body))
    context = gateway._generate_lambda_context()
    answers: Counter = Counter()
    timed(lambda i: answers.update([app(events[i - first], context)["statusCode"]]), first, N, prefect)
    if set(answers) != {201}:
        print(f"warning: the handler called directly answered {dict(answers)}")
    return list(OWN)


def per_call(n: int) -> dict:
    return {call: count / n for call, count in sorted(calls.items())}


def request_figures() -> None:
    statuses: Counter = Counter()
    with mock_aws():
        settings = Settings.from_env()
        dynamodb.configure(settings)
        dynamodb.create_table_if_missing()
        boto3.client("ses", region_name=settings.region).verify_email_identity(EmailAddress=settings.mail_from)
        bootstrap.reset()
        prefect = FakePrefect()
        bootstrap.override(workflow=prefect)
        with Client(app) as client:
            def post(i: int) -> None:
                response = post_json(client, PATH, application_payload(applicant={"email": f"bench-{i}@example.org"}))
                statuses[response.status_code] += 1

            first = timed(post, 0, 1)[0]
            timed(post, 1, WARMUP)
            statuses.clear()
            calls.clear()
            prefect.started.clear()
            app_times = timed(post, WARMUP + 1, N, prefect)
            app_own = list(OWN)
            app_calls = per_call(N)
            runs_started = len(prefect.started)
            lambda_own = lambda_handler_own_time(client, WARMUP + 1 + N, prefect)
            prefect.started.clear()
            ineligible = application_payload(applicant={"date_of_birth": "2012-01-01"})
            for i in range(12):
                post_json(client, PATH, {**ineligible, "applicant": {**ineligible["applicant"],
                                                                     "email": f"young-{i}@example.org"}})
                empty_table()
            ineligible_runs = len(prefect.started)
        timed(bare_save, 0, WARMUP)
        calls.clear()
        bare_times = timed(bare_save, WARMUP, N)
        bare_own = list(OWN)
        bare_calls = per_call(N)
        bootstrap.reset()
    (app50, app99), (bare50, bare99) = p50_p99(app_times), p50_p99(bare_times)
    answered = ", ".join(f"{status} x{count}" for status, count in sorted(statuses.items()))
    row("first POST in the process (cold path)", f"{first * 1000:.0f} ms")
    row(f"POST {PATH}", f"p50 {app50:6.2f} ms   p99 {app99:6.2f} ms   ({answered})")
    row("bare ApplicationItem.save()", f"p50 {bare50:6.2f} ms   p99 {bare99:6.2f} ms")
    (own50, own99), (bown50, bown99) = p50_p99(app_own), p50_p99(bare_own)
    row("own time (wall - AWS - Prefect) POST", f"p50 {own50:6.2f} ms   p99 {own99:6.2f} ms   (goal p50 within 3 ms)")
    (lam50, lam99) = p50_p99(lambda_own)
    row("  ... as Lambda runs it", f"p50 {lam50:6.2f} ms   p99 {lam99:6.2f} ms   (the handler called with API "
        "Gateway's event; above, chalice's test client also routes the path and builds the event)")
    row("own time, bare save (wall - AWS)", f"p50 {bown50:6.2f} ms   p99 {bown99:6.2f} ms")
    row("app / bare (the app's overhead)", f"p50 {app50 / bare50:6.1f} x    p99 {app99 / bare99:6.1f} x")
    dynamo = {op: v for (service, op), v in app_calls.items() if service == "dynamodb"}
    reads = sum(v for op, v in dynamo.items() if op in READS)
    row("DynamoDB calls per submission", ", ".join(f"{op} {v:.2f}" for op, v in dynamo.items())
        + f"  (writes {sum(dynamo.values()) - reads:.2f}, reads {reads:.2f})")
    row("other AWS calls per submission", ", ".join(f"{service} {op} {v:.2f}" for (service, op), v in app_calls.items()
                                                    if service != "dynamodb") or "none")
    emails = sum(v for (service, op), v in app_calls.items() if service in ("ses", "sesv2")
                 and op in ("SendEmail", "SendRawEmail"))
    row("in the request: writes/reads/emails", f"{sum(dynamo.values()) - reads:.2f} / {reads:.2f} / {emails:.2f}"
        "  (goal 1 / 0 / 0; the run's first pass sends the confirmation)")
    row("flow runs started (fake Prefect)", f"{runs_started / N:.2f} per eligible POST; "
        f"{ineligible_runs} for 12 ineligible POSTs")
    row("AWS calls per bare save", ", ".join(f"{service} {op} {v:.2f}" for (service, op), v in bare_calls.items()))


def import_seconds(module: str, pyc: bool, cache_dir: str) -> float:
    """Median time of `import module` in fresh interpreters (interpreter start-up excluded)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not pyc:
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # with an empty prefix: no .pyc read or written, as on Lambda
    command = [sys.executable, "-X", f"pycache_prefix={cache_dir}", "-c",
               f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"]
    runs = [float(subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout)
            for _ in range(IMPORT_RUNS + int(pyc))]
    return statistics.median(runs[int(pyc):])  # with .pyc, the first run only writes them


def import_figures() -> None:
    row(f"cold import (median of {IMPORT_RUNS})", f"{'with .pyc':>10}   {'no .pyc':>10}")
    for module in ("app", "boto3"):
        with tempfile.TemporaryDirectory() as warm, tempfile.TemporaryDirectory() as empty:
            row(f"  import {module}", f"{import_seconds(module, True, warm):8.3f} s   "
                f"{import_seconds(module, False, empty):8.3f} s")


PACKAGED_IMPORT_RUNS = 31


def packaged_import_seconds(tree: Path, module: str) -> tuple[float, float]:
    """`import module` from the unzipped package alone (no site-packages), writing no bytecode: as a cold Lambda,
    which reads only the .pyc files the package carries (the stdlib's own are warm here, and on Lambda).
    (wall, CPU) seconds: CPU time holds better than wall time on a loaded machine."""
    env = {"PATH": os.environ["PATH"], "PYTHONDONTWRITEBYTECODE": "1", "AWS_DEFAULT_REGION": "eu-west-2"}
    command = [sys.executable, "-S", "-c", "import sys, time; sys.path.insert(0, '.'); t = time.perf_counter(); "
               f"c = time.process_time(); import {module}; print(time.perf_counter() - t, time.process_time() - c)"]
    wall, cpu = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=True).stdout.split()
    return float(wall), float(cpu)


def packaged_import_figures(path: Path) -> None:
    with tempfile.TemporaryDirectory() as tree:
        with zipfile.ZipFile(path) as archive:
            archive.extractall(tree)
            compiled = sum(name.endswith(".pyc") for name in archive.namelist())
        runs: dict[str, list[tuple[float, float]]] = {"app": [], "boto3": []}
        for round_ in range(PACKAGED_IMPORT_RUNS):  # interleaved, so both see the same load on a shared machine,
            for module in ("app", "boto3") if round_ % 2 == 0 else ("boto3", "app"):  # each first in half the rounds
                runs[module].append(packaged_import_seconds(Path(tree), module))
    for kind, at in (("wall", 0), ("CPU", 1)):
        app_s, boto3_s = (statistics.median(run[at] for run in runs[m]) for m in ("app", "boto3"))
        ratios = sorted(a[at] / b[at] for a, b in zip(runs["app"], runs["boto3"], strict=True))
        row(f"packaged import, cold, {kind} ({PACKAGED_IMPORT_RUNS} rounds)" if kind == "wall" else "  ... CPU time",
            f"app {app_s:.3f} s, boto3 {boto3_s:.3f} s: {app_s / boto3_s:.2f}x the medians, "
            f"{statistics.median(ratios):.2f}x the median round (rounds {ratios[0]:.2f}-{ratios[-1]:.2f}x; "
            f"goal at most 1.5x, aim 1.3x)" + (f"; {compiled} .pyc in the package" if kind == "wall" else ""))


def package_figures() -> None:
    built = ROOT / "build" / "package" / "deployment.zip"
    with tempfile.TemporaryDirectory() as out:
        if built.exists():
            path, how = built, "build/package (make package)"
        else:
            start = time.perf_counter()
            result = subprocess.run([str(Path(sys.executable).parent / "chalice"), "package", "--stage", "prod", out],
                                    cwd=ROOT, capture_output=True, text=True)
            if result.returncode == 0:
                result = subprocess.run([sys.executable, "-m", "scripts.slim_package", out], cwd=ROOT,
                                        capture_output=True, text=True)
            path, how = Path(out) / "deployment.zip", f"built to a temp dir in {time.perf_counter() - start:.1f} s"
            if result.returncode != 0:
                row("package", f"chalice package or slim_package failed: {result.stderr.strip()[-300:]}")
                return
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
        by_top = Counter()
        for entry in entries:
            by_top[entry.filename.split("/")[0]] += entry.compress_size
        row("package deployment.zip", f"{path.stat().st_size / 1e6:.1f} MB zipped (direct upload limit 50 MB), "
            f"{sum(e.file_size for e in entries) / 1e6:.1f} MB unzipped, {len(entries)} files; {how}")
        row("  largest parts (zipped)", ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in by_top.most_common(3)))
        packaged_import_figures(path)


if __name__ == "__main__":
    print(f"IAG intake bench: N={N} after {WARMUP} warm-up, moto in process, Python {sys.version.split()[0]}")
    if "--package-only" not in sys.argv[1:]:  # --package-only: the package's size and cold import alone
        request_figures()
        import_figures()
    package_figures()
