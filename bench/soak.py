"""A day of use, compressed: applications and their panel decisions through the whole local stack, in batches.

Run from the repo root: .venv/bin/python bench/soak.py [--n 2000] [--batch 200] [--concurrency 4] [--minutes 180]
It starts its own stack on free ports (loopback only) in a temporary IAG_LOCAL_DIR. Per batch it posts the
applications, waits (bounded) for each one's two review requests in the mailbox, posts both panel members'
decisions through the emailed links, and lets the stack settle (no email for 20 s, bounded), so every batch starts
from a drained stack, as the first does. Then it posts a probe of 20 applications one at a time on the quiet stack.
It prints moto's resident memory, POST p50/p99 during the batch and on the quiet probe, the CPU that moto and the
API spent per request (wall time depends on whatever else the machine runs; CPU per request does not, so it is the
figure that shows wear), and how long the mailbox takes to answer (the moto endpoint and /dev/mailbox). At the end,
moto's busiest actions in the last batch beside the first (calls, CPU and bytes per call): what grows with the data.
Goals: the last batch within 1.2x of the first in memory, latency and CPU per request; the mailbox under 1 s.
Then it counts applications, emails and operators, stops the stack (`up`'s Ctrl-C), starts it again, times how long
until it is ready (goal: 30 s) and counts again.
It stops early at --minutes or --n, whichever comes first, and never fails on a number.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

from bench.pipeline import group_usage, pct, prefect_database  # noqa: E402
from tests.factories import application_payload  # noqa: E402
from tests.stack import BenchStack, links_in, post_form, request, venue  # noqa: E402

PATH = "/forces/derbyshire/applications"
PANEL = {"iag_chair.derbyshire-iag@derbyshire.demo.example",
         "police_coordinator.derbyshire-iag@derbyshire.demo.example"}


def timed_get(url: str, timeout: float = 60) -> tuple[float, int, bytes]:
    began = time.perf_counter()
    try:
        status, _, body = request("GET", url, timeout=timeout)
    except OSError as error:
        return time.perf_counter() - began, 0, str(error).encode()
    return time.perf_counter() - began, status, body


class NewMail:
    """Emails sent since the last read, newest pages first until one already seen (by SES message id)."""

    def __init__(self, moto: str):
        self.moto, self.seen = moto, set()

    def read(self) -> list[dict]:
        new, offset = [], 0
        while True:
            _, status, body = timed_get(f"{self.moto}/moto-api/iag/mailbox?offset={offset}&limit=200")
            if status != 200:
                return new
            page = json.loads(body)["messages"]
            fresh = [m for m in page if m["id"] not in self.seen]
            new += fresh
            if len(fresh) < len(page) or len(page) < 200:
                break
            offset += len(page)
        self.seen.update(m["id"] for m in new)
        return new


def review_links(messages: list[dict], wanted: set[str], found: dict[str, dict[str, str]]) -> None:
    """found[reference][panel address] = the review link, from the review requests among `messages`."""
    for m in messages:
        matched = re.match(r"Application (\S+) to the .*your decision$", m["subject"] or "")
        if matched and matched[1] in wanted and m["to"] and m["to"][0] in PANEL:
            links = links_in(m, "review")
            if links:
                found.setdefault(matched[1], {})[m["to"][0]] = links[0]


def post_applications(api: str, tag: str, start: int, count: int, concurrency: int) -> tuple[list[float], list[str]]:
    latencies, references, lock = [], [], threading.Lock()

    def one(i: int) -> None:
        payload = application_payload(applicant={"email": f"soak-{tag}-{i}@example.org"})
        began = time.perf_counter()
        try:
            status, _, body = request("POST", f"{api}{PATH}", payload, timeout=60, headers=venue(i))
        except OSError:
            status, body = 0, b"{}"
        with lock:
            latencies.append(time.perf_counter() - began)
            if status == 201:
                references.append(json.loads(body)["reference"])

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(start, start + count)))
    return latencies, references


def post_decisions(links: list[str], concurrency: int) -> tuple[list[float], int]:
    latencies, ok, lock = [], [0], threading.Lock()

    def one(link: str) -> None:
        began = time.perf_counter()
        try:
            status, _ = post_form(link, {"decision": "approve"}, timeout=60)
        except OSError:
            status = 0
        with lock:
            latencies.append(time.perf_counter() - began)
            ok[0] += status == 200

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, links))
    return latencies, ok[0]


def counts(api: str, moto: str, local: Path) -> dict:
    """Applications (items with SK APPLICATION), emails sent and operators, read from moto."""
    import boto3

    kw = dict(region_name="eu-west-2", endpoint_url=moto, aws_access_key_id="local", aws_secret_access_key="local")
    dynamodb, applications, start = boto3.client("dynamodb", **kw), 0, {}
    while True:
        page = dynamodb.scan(TableName="iag-backoffice", Select="COUNT", FilterExpression="SK = :s",
                             ExpressionAttributeValues={":s": {"S": "APPLICATION"}}, **start)
        applications += page["Count"]
        if "LastEvaluatedKey" not in page:
            break
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
    _, _, body = timed_get(f"{moto}/moto-api/iag/mailbox?limit=1")
    pool = json.loads((local / "operators.json").read_text())["pool_id"]
    cognito = boto3.client("cognito-idp", **kw)
    users, token = 0, {}
    while True:
        page = cognito.list_users(UserPoolId=pool, Limit=60, **token)
        users += len(page["Users"])
        if not page.get("PaginationToken"):
            break
        token = {"PaginationToken": page["PaginationToken"]}
    return {"applications": applications, "emails": json.loads(body)["total"], "operators": users}


def moto_stats(moto: str) -> dict:
    """moto's items per table and its calls, CPU and bytes per action since start (counted; nothing written)."""
    status, _, body = request("GET", f"{moto}/moto-api/iag/stats", timeout=120)
    return json.loads(body) if status == 200 else {"items": {}, "actions": {}}


def action_costs(before: dict, after: dict) -> dict[str, tuple[int, float, float]]:
    """Per action between two stats: (calls, CPU ms per call, bytes per call)."""
    costs = {}
    for action, now in after["actions"].items():
        was = before["actions"].get(action, {"calls": 0, "cpu_s": 0.0, "bytes": 0})
        calls = now["calls"] - was["calls"]
        if calls:
            costs[action] = (calls, (now["cpu_s"] - was["cpu_s"]) * 1000 / calls, (now["bytes"] - was["bytes"]) / calls)
    return costs


def print_action_growth(first: dict, last: dict, count: int = 10) -> None:
    """moto's busiest actions in the last batch beside the same in the first: what grows with the data shows."""
    print("moto's busiest actions, first batch -> last (calls; CPU ms per call; bytes per call):")
    busiest = sorted(last, key=lambda a: -last[a][0] * last[a][1])[:count]
    for action in busiest:
        calls, cpu, size = last[action]
        was = first.get(action, (0, 0.0, 0.0))
        print(f"  {action:<58} {was[0]:>6} -> {calls:<6} {was[1]:>6.2f} -> {cpu:<6.2f} "
              f"{was[2]:>8.0f} -> {size:<8.0f}")


def settle(moto: str, quiet: float = 20, bound: float = 180) -> int:
    """Wait until no email has been sent for `quiet` seconds (flows resumed by decisions finish); the total."""
    last, since, deadline = -1, time.monotonic(), time.monotonic() + bound
    while time.monotonic() < deadline:
        total = json.loads(timed_get(f"{moto}/moto-api/iag/mailbox?limit=1")[2])["total"]
        if total != last:
            last, since = total, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
        time.sleep(2)
    return last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="applications in all (default 2000)")
    parser.add_argument("--batch", type=int, default=200, help="applications per batch (default 200)")
    parser.add_argument("--concurrency", type=int, default=4, help="posting threads (default 4)")
    parser.add_argument("--minutes", type=float, default=180, help="no new batch after this (default 180)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary IAG_LOCAL_DIR (logs) afterwards")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)

    with BenchStack("iag-soak-", args.keep) as bench:
        print(f"IAG soak bench: N={args.n} in batches of {args.batch}, concurrency {args.concurrency}, bound "
              f"{args.minutes:.0f} min, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; state in {bench.local}")
        began = time.monotonic()
        try:
            print(f"stack ready in {bench.start():.1f} s; {prefect_database(bench.output())}")
        except RuntimeError as error:
            print(f"error: {str(error)[-3000:]}", file=sys.stderr)
            return 1
        return soak(args, bench, began)


PROBE = 20


def service_cpu(bench: BenchStack, names: tuple[str, ...] = ("moto", "api")) -> float:
    usage = group_usage({name: pgid for name, pgid in bench.pgids().items() if name in names})
    return sum(cpu for _, _, cpu in usage.values())


def soak(args, bench: BenchStack, began: float) -> int:
    api, moto, local = bench.api, bench.moto, bench.local
    deadline = began + args.minutes * 60
    mail, tag, done = NewMail(moto), f"{int(time.time())}", 0
    waiting, found = set(), {}  # references still without both review requests; links found so far
    print(f"{'batch':>5} {'apps':>5} {'moto RSS':>9} {'apply p50/p99 ms':>17} {'decide p50/p99 ms':>18} "
          f"{'quiet p50/p99 ms':>17} {'cpu ms/req':>10} {'decided':>8} {'waiting':>7} {'emails':>7} "
          f"{'mailbox s':>9} {'/dev/mailbox s':>14} {'load':>5} {'batch s':>7} {'items':>7} {'kB/item':>7}")
    # moto holds the data in memory: what it adds per stored item (above its size at start) shows wear apart
    # from data; the total grows with the data by design.
    started_rss = group_usage({"moto": bench.pgids()["moto"]})["moto"][0] / 1024
    stats = moto_stats(moto)
    print(f"moto at start: {started_rss:.0f} MB, {sum(stats['items'].values())} items")
    rows, batch, actions = [], 0, []
    while done < args.n and time.monotonic() < deadline:
        batch += 1
        batch_began, cpu_began, stats_began = time.monotonic(), service_cpu(bench), moto_stats(moto)
        size = min(args.batch - PROBE, args.n - done)
        applied, references = post_applications(api, tag, done, size, args.concurrency)
        done += size
        # Review requests come as fast as the flows run: a batch decides whichever applications (its own or an
        # earlier batch's) have both requests by now, waiting (bounded) for at least its own to start arriving.
        waiting.update(references)
        wait_until = min(deadline, time.monotonic() + max(60, 2 * size))
        while True:
            review_links(mail.read(), waiting, found)
            complete = {r for r in waiting if len(found.get(r, {})) == len(PANEL)}
            if complete >= set(references) or time.monotonic() > wait_until:
                break
            time.sleep(2)
        waiting -= complete
        links = [link for reference in complete for link in found.pop(reference).values()]
        decided, ok = post_decisions(links, args.concurrency)
        cpu_per_request = (service_cpu(bench) - cpu_began) / max(1, len(applied) + len(decided)) * 1000
        settle(moto, quiet=20, bound=300)
        # The probe: one at a time on the drained stack. Its applications are decided with the next batch.
        quiet, probed = post_applications(api, tag, done, min(PROBE, args.n - done), 1)
        done += len(quiet)
        waiting.update(probed)
        rss = group_usage({"moto": bench.pgids()["moto"]})["moto"][0] / 1024
        stats = moto_stats(moto)
        items = sum(stats["items"].values())
        actions.append(action_costs(stats_began, stats))
        mailbox_s, status, body = timed_get(f"{moto}/moto-api/iag/mailbox?limit=50")
        total = json.loads(body)["total"] if status == 200 else -1
        page_s, page_status, _ = timed_get(f"{api}/dev/mailbox")
        row = {"rss": rss, "apply": pct(applied, 50), "quiet": pct(quiet, 50) if quiet else 0,
               "cpu": cpu_per_request, "mailbox": max(mailbox_s, page_s), "items": items,
               "kb_per_item": (rss - started_rss) * 1024 / max(1, items)}
        rows.append(row)
        print(f"{batch:>5} {len(references) + len(probed):>5} {rss:>6.0f} MB {pct(applied, 50) * 1000:>8.0f}/"
              f"{pct(applied, 99) * 1000:<8.0f} {pct(decided, 50) * 1000:>9.0f}/{pct(decided, 99) * 1000:<8.0f} "
              f"{row['quiet'] * 1000:>8.0f}/{(pct(quiet, 99) if quiet else 0) * 1000:<8.0f} {cpu_per_request:>10.1f} "
              f"{ok // 2:>8} {len(waiting):>7} {total:>7} {mailbox_s:>9.3f} "
              f"{page_s:>9.3f}{'' if page_status == 200 else '!':<5} "
              f"{os.getloadavg()[0]:>5.1f} {time.monotonic() - batch_began:>7.0f} {items:>7} "
              f"{row['kb_per_item']:>6.1f}")
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        print("last batch / first (goal at most 1.2x): " + "; ".join(
            f"{label} {last[key] / first[key]:.2f}x" for key, label in (
                ("rss", "moto memory"), ("apply", "POST p50 in the batch"), ("quiet", "POST p50 on a quiet stack"),
                ("cpu", "moto and API CPU per request"), ("kb_per_item", "moto memory per stored item"))
                if first[key])
              + f"; mailbox at most {max(r['mailbox'] for r in rows):.3f} s (goal under 1 s)")
        print_action_growth(actions[0], actions[-1])

    settled = settle(moto)
    before = counts(api, moto, local)
    print(f"settled at {settled} emails; before the restart: {before}")
    snapshot = local / "moto-state.json"
    stopped = time.monotonic()
    bench.stop()
    print(f"stopped in {time.monotonic() - stopped:.1f} s; snapshot "
          f"{snapshot.stat().st_size / 1e6:.1f} MB" if snapshot.exists() else "no snapshot written")
    ready = bench.start()
    restored = [line for line in bench.output().splitlines() if line.startswith("moto: restored")]
    print(f"ready again in {ready:.1f} s (goal 30 s); {restored[-1] if restored else 'moto restored nothing'}")
    print("  per service: " + "; ".join(line.split(" (log")[0] for line in bench.output().splitlines()
                                        if ": up in " in line) + f"; load {os.getloadavg()[0]:.1f}")
    after = counts(api, moto, local)
    print(f"after the restart: {after}; "
          + ("all still there" if all(after[k] >= v for k, v in before.items()) else "SOMETHING IS MISSING"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
