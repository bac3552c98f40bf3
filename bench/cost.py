"""What one application costs in AWS, from the calls it really makes on the whole local stack.

Run from the repo root: .venv/bin/python bench/cost.py [--keep]
It starts its own stack on free ports, pauses the scheduled deployments (so every AWS call it records is this
application's), takes one Derbyshire applicant from the form to member through the links in the emails, then
reads moto's recording of every AWS request the API and the flows made, Prefect's record of the flow run, and its
own count of API requests. It prints the calls, the units they bill, and the cost per 1,000 applications at the
on-demand prices below. Scheduled passes (reconciliation, reminders) are measured once and priced per month,
since they cost the same whatever the number of applications. It never fails on a number.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import base64  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import datetime  # noqa: E402

from tests.factories import application_payload  # noqa: E402
from tests.stack import Mailbox, links_in, post_form, request, stack_environment, start_ready, stop, urls  # noqa: E402

# On-demand list prices for eu-west-2 (London), USD, as published by AWS; read on 2026-11-23 from the figures this
# project was given (no network here to re-check). Change them here: every figure below follows.
PRICES_DATED = "2026-11-23"
PRICES = {
    "dynamodb_write_unit": 0.7063 / 1e6,  # per write request unit (on-demand, after the November 2024 price cut)
    "dynamodb_read_unit": 0.1413 / 1e6,  # per read request unit
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second": 0.0000166667,  # x86
    "api_gateway_request": 3.70 / 1e6,  # REST API, first 333 million a month
    "ses_email": 0.10 / 1000,
    "ses_attachment_gb": 0.12,
    "s3_get": 0.00042 / 1000,
    "s3_put": 0.0053 / 1000,
    "fargate_vcpu_hour": 0.04656,
    "fargate_gb_hour": 0.00511,
}
# The idle platform's standing parts, eu-west-2 list prices as recalled on 2026-11-25 (no network here to re-check:
# confirm before quoting). Monthly = 730 hours.
IDLE_PRICES = {
    "rds_t4g_micro_hour": 0.018,  # PostgreSQL single-AZ db.t4g.micro
    "rds_gp2_gb_month": 0.133,
    "alb_hour": 0.0252,  # plus LCUs: an idle balancer bills the minimum, taken as 1 LCU-hour an hour below
    "alb_lcu_hour": 0.008,
    "ec2_t4g_small_hour": 0.0188,  # 2 vCPU (burstable), 2 GB
    "ebs_gp3_gb_month": 0.0928,
    "public_ipv4_hour": 0.005,
    "secret_month": 0.40,
    "cloudwatch_logs_ingest_gb": 0.5985,
    "cloudwatch_logs_store_gb_month": 0.0315,
    "dynamodb_storage_gb_month": 0.2975,
    "s3_storage_gb_month": 0.024,
    "ecr_gb_month": 0.10,
    # Prefect Cloud's plan has no list price we could check here: set it to the plan you buy.
    "prefect_cloud_plan_month": float("nan"),
}
HOURS_A_MONTH = 730
# Every scheduled run a month (flows/serve.py): reconcile every 5 min plus its daily full pass, strategic hourly,
# the recruitment report hourly, reminders and retention daily.
SCHEDULED_RUNS_A_MONTH = {"reconcile-reviews": 12 * 24 * 30 + 30, "strategic-iag": 24 * 30,
                          "recruitment-report": 24 * 30, "review-reminders": 30, "retention": 30}
# An idle reconcile pass after the at-rest fix: 5 Queries per force that return nothing (test_reconciliation_at_rest),
# billed at the minimum of 1 read unit each (strongly consistent rounding, the dearer case), and no write.
IDLE_RECONCILE_READ_UNITS = 5 * 5
CHALICE_CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
# Lambda bills duration at the function's memory size: the prod stage's, else chalice's default of 128 MB.
LAMBDA_MEMORY_MB = CHALICE_CONFIG["stages"]["prod"].get("lambda_memory_size",
                                                        CHALICE_CONFIG.get("lambda_memory_size", 128))
WORKER = {"vcpu": 0.5, "gb": 1.0}  # one Prefect flow run on ECS Fargate
TASK_START_SECONDS = 40  # a Fargate task's image pull and start, billed before the flow runs (measured elsewhere)
SCHEDULED = ("reconcile-reviews", "review-reminders", "strategic-iag", "recruitment-report", "retention")
PANEL = ["iag_chair.derbyshire-iag@derbyshire.demo.example",
         "police_coordinator.derbyshire-iag@derbyshire.demo.example"]
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class CountingClient:
    """The person's side: every request to the API is one API Gateway request and one Lambda invocation."""

    def __init__(self):
        self.seconds: list[float] = []

    def __call__(self, call, *args, **kwargs):
        began = time.monotonic()
        result = call(*args, **kwargs)
        self.seconds.append(time.monotonic() - began)
        return result


def prefect_call(prefect: str, method: str, path: str, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{prefect}/api{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    for attempt in range(5):
        try:
            with _http.open(req, timeout=15) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:  # a busy server (SQLite locked) answers 503: try again shortly
            if error.code not in (429, 503) or attempt == 4:
                raise
            time.sleep(0.5 * (attempt + 1))


def deployment_named(prefect: str, name: str, timeout: float = 60) -> dict:
    """The deployment, once the flows process has registered it (it registers them one by one)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return prefect_call(prefect, "GET", f"/deployments/name/{name}/{name}")
        except urllib.error.HTTPError as error:
            if error.code != 404 or time.monotonic() > deadline:
                raise
            time.sleep(1)


def pause_schedules(prefect: str) -> None:
    for name in SCHEDULED:  # each flow is named as its deployment
        deployment = deployment_named(prefect, name)
        prefect_call(prefect, "PATCH", f"/deployments/{deployment['id']}", {"paused": True})


def recorded(recording: Path, since: int) -> list[dict]:
    lines = recording.read_text().splitlines()[since:]
    entries = [json.loads(line) for line in lines if line.strip()]
    return [e for e in entries if "/moto-api/" not in e["url"]]  # the bench reading moto's mailbox is not AWS


def _body(entry: dict) -> bytes:
    body = entry.get("body") or ""
    return base64.b64decode(body) if entry.get("body_encoded") else body.encode()


def _size(value) -> int:
    """DynamoDB's item size, near enough: attribute names plus their values' bytes."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in ("S", "N", "B", "BOOL", "NULL"):
            return len(str(next(iter(value.values()))).encode())
        return sum(len(k.encode()) + _size(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(_size(v) for v in value)
    return len(str(value).encode())


def units(entries: list[dict]) -> dict:
    """Billed units by service, from the requests (sizes from the request; reads assumed within 4 KB each)."""
    out = Counter()
    for entry in entries:
        target = entry["headers"].get("X-Amz-Target", "")
        path = entry["url"].split("?", 1)[0]
        if target.startswith("DynamoDB_"):
            op, body = target.split(".", 1)[1], json.loads(_body(entry) or b"{}")
            out[f"dynamodb {op}"] += 1
            if op == "PutItem":
                out["write_units"] += max(1, math.ceil(_size(body["Item"]) / 1024))
            elif op in ("UpdateItem", "DeleteItem"):
                out["write_units"] += max(1, math.ceil(_size(body) / 1024))
            elif op == "TransactWriteItems":
                for item in body["TransactItems"]:
                    part = next(iter(item.values()))
                    out["write_units"] += 2 * max(1, math.ceil(_size(part.get("Item") or part) / 1024))
            elif op == "GetItem":
                out["read_units"] += 1 if body.get("ConsistentRead") else 0.5
            elif op in ("Query", "Scan"):
                out["read_units"] += 1 if body.get("ConsistentRead") else 0.5
            elif op == "BatchWriteItem":
                out["write_units"] += sum(len(v) for v in body["RequestItems"].values())
        elif "/v2/email/outbound-emails" in path or target.endswith("SendEmail"):
            out["ses emails"] += 1
            out["ses_attachment_bytes"] += len(_body(entry)) if b'"Raw"' in _body(entry) else 0
        elif entry["headers"].get("Authorization", "").find("/s3/") > 0:
            out["s3 " + ("put" if entry["method"] in ("PUT", "POST") else "get")] += 1
        elif "cognito-idp" in entry["headers"].get("Authorization", "") or target.startswith("AWSCognito"):
            out["cognito"] += 1
        else:
            out["other " + (target or path)] += 1
    return out


def flow_seconds(prefect: str, reference: str) -> tuple[int, float]:
    """(executions, seconds running) of the application's run: each resume is a new worker task on ECS."""
    [run] = prefect_call(prefect, "POST", "/flow_runs/filter", {"flow_runs": {"name": {"any_": [reference]}}})
    states = prefect_call(prefect, "GET", f"/flow_run_states/?flow_run_id={run['id']}")
    states.sort(key=lambda s: s["timestamp"])
    executions, seconds, began = 0, 0.0, None
    for state in states:
        at = datetime.fromisoformat(state["timestamp"].replace("Z", "+00:00")).timestamp()
        if state["type"] == "RUNNING":
            executions, began = executions + 1, at
        elif began is not None:
            seconds, began = seconds + at - began, None
    return executions, seconds


def journey(stack: dict, count: CountingClient) -> str:
    api, mailbox = stack["api"], stack["mailbox"]
    status, _, body = count(request, "POST", f"{api}/forces/derbyshire/applications",
                            application_payload(applicant={"email": "cost.bench@example.org"}))
    reference = json.loads(body)["reference"]

    def review_requests(messages):
        found = {m["to"][0]: links_in(m, "review")[0] for m in messages
                 if reference in m["subject"] and "your decision" in m["subject"] and m["to"][0] in PANEL}
        return found if len(found) == 2 else None

    for link in mailbox.wait(review_requests, what="review requests", timeout=120).values():
        count(request, "GET", link)  # the reviewer opens the page, then presses the button
        count(post_form, link, {"decision": "approve"})

    def applicant(subject):
        return lambda _: [m for m in mailbox.about(reference) if m["subject"].startswith(subject)]

    [offer] = mailbox.wait(applicant("Your offer"), what="the offer", timeout=120)
    count(request, "GET", links_in(offer, "offer")[0])
    count(post_form, links_in(offer, "offer")[0], {"answer": "accept"})
    [documents] = mailbox.wait(applicant("Welcome: your documents"), what="the agreement", timeout=120)
    [sign] = links_in(documents, "agreement")
    count(request, "GET", sign)
    count(post_form, sign, {"confirm": "yes", "signed_name": "Cost Bench"})
    mailbox.wait(applicant("You are now a member"), what="the welcome", timeout=120)
    count(request, "GET", f"{api}/forces/derbyshire/applications/{reference}")  # the applicant checks once
    return reference


def wait_finished(prefect: str, reference: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = prefect_call(prefect, "POST", "/flow_runs/filter", {"flow_runs": {"name": {"any_": [reference]}}})
        if runs and runs[0]["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED"):
            return
        time.sleep(1)


def scheduled_pass(prefect: str, name: str, recording: Path) -> tuple[Counter, float]:
    """One run of a scheduled deployment: its calls and seconds."""
    since = len(recording.read_text().splitlines())
    deployment = deployment_named(prefect, name)
    run = prefect_call(prefect, "POST", f"/deployments/{deployment['id']}/create_flow_run", {})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = prefect_call(prefect, "GET", f"/flow_runs/{run['id']}")
        if state["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED"):
            break
        time.sleep(1)
    return units(recorded(recording, since)), state.get("total_run_time") or 0.0


def price(u: Counter, lambda_seconds: list[float], executions: int, run_seconds: float) -> dict:
    worker_hours = (executions * TASK_START_SECONDS + run_seconds) / 3600
    return {
        "DynamoDB writes": u["write_units"] * PRICES["dynamodb_write_unit"],
        "DynamoDB reads": u["read_units"] * PRICES["dynamodb_read_unit"],
        "API Gateway": len(lambda_seconds) * PRICES["api_gateway_request"],
        "Lambda requests": len(lambda_seconds) * PRICES["lambda_request"],
        "Lambda duration": sum(lambda_seconds) * LAMBDA_MEMORY_MB / 1024 * PRICES["lambda_gb_second"],
        "SES": u["ses emails"] * PRICES["ses_email"] + u["ses_attachment_bytes"] / 1e9 * PRICES["ses_attachment_gb"],
        "S3": u["s3 get"] * PRICES["s3_get"] + u["s3 put"] * PRICES["s3_put"],
        "Prefect workers (Fargate)": worker_hours * (WORKER["vcpu"] * PRICES["fargate_vcpu_hour"]
                                                     + WORKER["gb"] * PRICES["fargate_gb_hour"]),
    }


def fargate_hour(vcpu: float, gb: float) -> float:
    return vcpu * PRICES["fargate_vcpu_hour"] + gb * PRICES["fargate_gb_hour"]


def idle_month(pass_seconds: float = 5.0) -> dict[str, dict[str, float]]:
    """The monthly cost of a platform with no application, by part, for each way of hosting Prefect.

    Parts common to all: Lambda and API Gateway bill per request (0 at rest); DynamoDB bills the idle passes' reads and
    storage; S3, SES, Cognito (operators far under the 10,000 free monthly active users), KMS (AWS-managed keys: no
    monthly fee; requests from DynamoDB's cached data keys round to 0) and CloudWatch logs (about 2 KB a scheduled run)."""
    runs = sum(SCHEDULED_RUNS_A_MONTH.values())
    logs_gb = runs * 2e3 / 1e9
    reconcile_reads = SCHEDULED_RUNS_A_MONTH["reconcile-reviews"] * IDLE_RECONCILE_READ_UNITS
    common = {
        "Lambda + API Gateway (no request at rest)": 0.0,
        "DynamoDB: idle passes' reads": reconcile_reads * PRICES["dynamodb_read_unit"],
        "DynamoDB: storage (0.1 GB: forces, operators, audit)": 0.1 * IDLE_PRICES["dynamodb_storage_gb_month"],
        "S3: documents (0.05 GB)": 0.05 * IDLE_PRICES["s3_storage_gb_month"],
        "SES (no email at rest)": 0.0,
        "Secrets Manager (2 secrets)": 2 * IDLE_PRICES["secret_month"],
        "KMS (AWS-managed keys)": 0.0,
        "Cognito (under the free tier)": 0.0,
        "CloudWatch logs (scheduled runs)": logs_gb * (IDLE_PRICES["cloudwatch_logs_ingest_gb"]
                                                       + IDLE_PRICES["cloudwatch_logs_store_gb_month"]),
        "ECR: the flows image (0.5 GB)": 0.5 * IDLE_PRICES["ecr_gb_month"],
    }
    scheduled_tasks = runs * (TASK_START_SECONDS + pass_seconds) / 3600 * fargate_hour(**WORKER)
    return {
        "Prefect server on ECS Fargate + RDS PostgreSQL + ALB; every run an ECS task": {
            **common,
            "Prefect server: Fargate 0.5 vCPU/1 GB, always on": HOURS_A_MONTH * fargate_hour(0.5, 1.0),
            "Prefect database: RDS db.t4g.micro + 20 GB": HOURS_A_MONTH * IDLE_PRICES["rds_t4g_micro_hour"]
            + 20 * IDLE_PRICES["rds_gp2_gb_month"],
            "Load balancer for the Prefect API (HTTPS)": HOURS_A_MONTH * (IDLE_PRICES["alb_hour"]
                                                                         + IDLE_PRICES["alb_lcu_hour"]),
            "ECS worker: Fargate 0.25 vCPU/0.5 GB, always on": HOURS_A_MONTH * fargate_hour(0.25, 0.5),
            f"ECS workers: {runs} scheduled runs as tasks": scheduled_tasks,
        },
        "Prefect server, PostgreSQL, TLS proxy and both workers on one EC2 t4g.small; scheduled runs as processes": {
            **common,
            "EC2 t4g.small, always on": HOURS_A_MONTH * IDLE_PRICES["ec2_t4g_small_hour"],
            "EBS gp3 20 GB (the Prefect database)": 20 * IDLE_PRICES["ebs_gp3_gb_month"],
            "Public IPv4 address": HOURS_A_MONTH * IDLE_PRICES["public_ipv4_hour"],
            f"ECS workers: {runs} scheduled runs as processes on the instance": 0.0,
        },
        "Prefect Cloud; ECS worker on Fargate; every run an ECS task": {
            **common,
            "Prefect Cloud plan (set IDLE_PRICES)": IDLE_PRICES["prefect_cloud_plan_month"],
            "ECS worker: Fargate 0.25 vCPU/0.5 GB, always on": HOURS_A_MONTH * fargate_hour(0.25, 0.5),
            f"ECS workers: {runs} scheduled runs as tasks": scheduled_tasks,
        },
    }


def print_idle() -> None:
    print(f"Monthly cost of an idle platform (USD; list prices dated {PRICES_DATED}/2026-11-25, see IDLE_PRICES)")
    for hosting, parts in idle_month().items():
        print(f"  {hosting}")
        for part, usd in parts.items():
            print(f"    {part:<78} {usd:8.2f}")
        print(f"    {'total':<78} {sum(parts.values()):8.2f}")
    print("  Goal: at most 40 USD a month. Before the at-rest fix each reconcile pass also read every live application"
          " (375 DynamoDB calls a pass, test_reconciliation_at_rest's setting: 3 waiting applications).\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, recording)")
    parser.add_argument("--idle-only", action="store_true", help="only the idle platform's monthly cost (no stack)")
    args = parser.parse_args()
    print_idle()
    if args.idle_only:
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="iag-cost-"))
    env = {**stack_environment(workdir / "local", checked=False), "MOTO_ENABLE_RECORDING": "1"}  # every AWS request, to price
    try:
        running = start_ready(env, workdir / "up.out")
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    api, prefect, moto = urls(env)
    recording = workdir / "local" / "moto-recording.jsonl"
    try:
        pause_schedules(prefect)
        since = len(recording.read_text().splitlines())
        count = CountingClient()
        reference = journey({"api": api, "mailbox": Mailbox(moto)}, count)
        wait_finished(prefect, reference)
        per_application = units(recorded(recording, since))
        executions, run_seconds = flow_seconds(prefect, reference)
        costs = price(per_application, count.seconds, executions, run_seconds)
        passes = {name: scheduled_pass(prefect, name, recording) for name in ("reconcile-reviews", "review-reminders")}
    finally:
        stop(running, env)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print(f"One Derbyshire application, form to member ({reference}), on the local stack\n")
    print("Calls and billed units")
    for key, value in sorted(per_application.items()):
        if key != "ses_attachment_bytes":
            print(f"  {key:<34} {value:g}")
    print(f"  {'SES attachment bytes':<34} {per_application['ses_attachment_bytes']}")
    print(f"  {'API requests (= Lambda invocations)':<34} {len(count.seconds)}")
    print(f"  {'API time, summed (local machine)':<34} {sum(count.seconds):.2f} s")
    print(f"  {'flow run executions (worker tasks)':<34} {executions}")
    print(f"  {'flow run time, summed':<34} {run_seconds:.1f} s\n")
    print(f"Cost per 1,000 applications (USD, eu-west-2 on-demand prices dated {PRICES_DATED})")
    for key, value in costs.items():
        print(f"  {key:<34} {value * 1000:10.4f}")
    print(f"  {'total':<34} {sum(costs.values()) * 1000:10.4f}")
    # The floor: what no design avoids, the emails this application had to receive (SES per message).
    floor = per_application["ses emails"] * PRICES["ses_email"]
    print(f"  {'floor: the emails it must receive':<34} {floor * 1000:10.4f}  ({per_application['ses emails']:g} emails)")
    print(f"  {'total / floor (goal at most 1.2)':<34} {sum(costs.values()) / floor if floor else float('nan'):10.1f}")
    # Hosted on the always-on instance (the idle table's second option), flow runs are processes there: no task
    # start-up billed per run, their CPU within the instance's fixed price.
    on_instance = sum(v for k, v in costs.items() if not k.startswith("Prefect workers"))
    print(f"  {'total, runs as processes on the instance':<34} {on_instance * 1000:10.4f}  "
          f"({on_instance / floor if floor else float('nan'):.2f} x the floor)\n")
    print("Fixed monthly cost of the scheduled passes (all five forces, whatever the number of applications)")
    cadence = {"reconcile-reviews": 12 * 24 * 30, "review-reminders": 30}  # every 5 minutes; daily
    for name, (u, seconds) in passes.items():
        month = cadence[name] * (u["write_units"] * PRICES["dynamodb_write_unit"]
                                 + u["read_units"] * PRICES["dynamodb_read_unit"]
                                 + (TASK_START_SECONDS + seconds) / 3600 * (
                                     WORKER["vcpu"] * PRICES["fargate_vcpu_hour"]
                                     + WORKER["gb"] * PRICES["fargate_gb_hour"]))
        calls = sum(v for k, v in u.items() if k.startswith("dynamodb "))
        print(f"  {name:<20} {calls:4d} DynamoDB calls, {u['read_units']:g} read units, {seconds:.1f} s a pass; "
              f"{cadence[name]} passes a month: {month:.2f} USD")
    print("\nAssumptions: reads within 4 KB each (strongly consistent 1 unit, else 0.5); write sizes from the request;"
          f" Lambda at {LAMBDA_MEMORY_MB} MB for the measured local time; each flow execution a Fargate task of "
          f"{WORKER['vcpu']} vCPU/{WORKER['gb']} GB billed {TASK_START_SECONDS} s of start-up plus its run time.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
