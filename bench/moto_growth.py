"""moto alone, as the local stack runs it: transaction latency, resident memory and the mailbox as the table grows.

Run from the repo root: .venv/bin/python bench/moto_growth.py [--batches 8] [--per-batch 250] [--root DIR]
It starts scripts/serial_moto.py from --root (default: this checkout; point it at an older checkout to get the
"before" figures) on a free loopback port, and per batch writes --per-batch applications the way the API
stores one (a TransactWriteItems of 6 items), each with an email through SES, then prints p50/p99 of the
transactions, p50 of a Query of one application's partition (as every page and flow step reads one), moto's RSS, and how long the mailbox takes (our /moto-api/iag/mailbox when the wrapper has it,
else moto's /moto-api/data.json). Bounded: stops after --minutes. Never fails on a number.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402

import boto3  # noqa: E402

from bench.pipeline import pct  # noqa: E402
from tests.stack import free_ports  # noqa: E402

_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(url: str, timeout: float) -> str:
    began = time.perf_counter()
    try:
        with _http.open(url, timeout=timeout) as response:
            response.read()
        return f"{time.perf_counter() - began:.3f} s"
    except OSError as error:
        return f"failed after {time.perf_counter() - began:.0f} s ({type(error).__name__})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--per-batch", type=int, default=250)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose scripts/serial_moto.py runs")
    parser.add_argument("--minutes", type=float, default=20)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)

    port = free_ports(1)[0]
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_", "IAG_"))}
    moto = subprocess.Popen([sys.executable, "-m", "scripts.serial_moto", "127.0.0.1", str(port)], cwd=args.root,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _http.open(f"{url}/moto-api/", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or moto.poll() is not None:
                    print("error: moto did not start", file=sys.stderr)
                    return 1
                time.sleep(0.1)
        has_mailbox = timed(f"{url}/moto-api/iag/mailbox?limit=1", 5).endswith(" s")
        mailbox = f"{url}/moto-api/iag/mailbox?limit=50" if has_mailbox else f"{url}/moto-api/data.json"
        kw = dict(region_name="eu-west-2", endpoint_url=url, aws_access_key_id="local", aws_secret_access_key="local")
        db, ses = boto3.client("dynamodb", **kw), boto3.client("ses", **kw)
        db.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK")])
        ses.verify_email_identity(EmailAddress="noreply@local.example")
        print(f"moto from {args.root}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; mailbox read from "
              f"{'/moto-api/iag/mailbox' if has_mailbox else '/moto-api/data.json'}")
        print(f"{'batch':>5} {'items':>7} {'tx p50 ms':>10} {'tx p99 ms':>10} {'query p50 ms':>12} {'moto RSS':>9} {'mailbox':>28} {'load':>5}")
        stop_at, number = time.monotonic() + args.minutes * 60, 0
        answers = "x" * 1500  # about an application's size
        for batch in range(1, args.batches + 1):
            if time.monotonic() > stop_at:
                print(f"stopped at the {args.minutes:.0f} min bound")
                break
            latencies = []
            for _ in range(args.per_batch):
                number += 1
                pk = {"S": f"FORCE#f#APP#{number:08d}"}
                items = [{"PK": pk, "SK": {"S": "APPLICATION"}, "answers": {"S": answers}},
                         {"PK": pk, "SK": {"S": "EVENT#1"}}, {"PK": pk, "SK": {"S": "EVENT#2"}},
                         {"PK": {"S": f"FORCE#f#APPLICANT#{number}"}, "SK": {"S": "GROUP#g"}},
                         {"PK": pk, "SK": {"S": "EMAIL#received"}}, {"PK": {"S": f"LINK#{number}"}, "SK": {"S": "LINK"}}]
                began = time.perf_counter()
                db.transact_write_items(TransactItems=[
                    {"Put": {"TableName": "t", "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}
                    for item in items])
                latencies.append(time.perf_counter() - began)
                ses.send_email(Source="noreply@local.example", Destination={"ToAddresses": [f"a{number}@x.example"]},
                               Message={"Subject": {"Data": f"Application {number}"},
                                        "Body": {"Html": {"Data": f"<p>{answers}</p>"}}})
            queries = []
            for asked in range(1, 21):  # 20 partitions spread over what is stored so far
                began = time.perf_counter()
                db.query(TableName="t", KeyConditionExpression="PK = :p",
                         ExpressionAttributeValues={":p": {"S": f"FORCE#f#APP#{asked * number // 20:08d}"}})
                queries.append(time.perf_counter() - began)
            print(f"{batch:>5} {number * 6:>7} {pct(latencies, 50) * 1000:>10.1f} {pct(latencies, 99) * 1000:>10.1f} "
                  f"{pct(queries, 50) * 1000:>12.1f} "
                  f"{rss_mb(moto.pid):>6.0f} MB {timed(mailbox, 120):>28} {os.getloadavg()[0]:>5.1f}")
        return 0
    finally:
        moto.kill()
        moto.wait()


if __name__ == "__main__":
    sys.exit(main())
