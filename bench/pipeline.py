"""Pipeline figures under a campaign surge, on the whole local stack (moto, Prefect server, API, flows).

Run from the repo root: .venv/bin/python bench/pipeline.py [--n 200] [--concurrency 8] [--keep]
It starts its own stack on free ports in a temporary IAG_LOCAL_DIR, submits N applications at once,
waits (bounded) until each has its two review-request emails and its flow run PAUSED, then prints
submit latency, time to review, Prefect's per-run timings and each service's memory. It never fails
on a number: exit 1 only if the stack could not start. --keep keeps the temporary directory (logs).
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
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
from collections import Counter  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from datetime import datetime  # noqa: E402

from chalicelib.web.dev import sent_page  # noqa: E402
from tests.factories import application_payload  # noqa: E402
from tests.stack import BenchStack, Mailbox, request, venue  # noqa: E402

PATH = "/forces/derbyshire/applications"
PANEL = {"iag_chair.derbyshire-iag@derbyshire.demo.example",
         "police_coordinator.derbyshire-iag@derbyshire.demo.example"}
SERVICES = ("moto", "postgres", "prefect", "api", "flows")
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # local URLs: no proxy


def row(label: str, text: str) -> None:
    print(f"{label:<36} {text}")


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile; NaN when there is nothing to rank (a bench never fails on a number)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] if ordered else float("nan")


def spread(values: list[float], unit: float = 1, suffix: str = "s", digits: int = 2) -> str:
    v = [x * unit for x in values]
    return (f"p50 {pct(v, 50):7.{digits}f} {suffix}   p99 {pct(v, 99):7.{digits}f} {suffix}   "
            f"max {max(v, default=float('nan')):7.{digits}f} {suffix}   (n={len(v)})")


def when(text: str | None) -> float | None:
    """Prefect's ISO timestamp as epoch seconds (same host, same clock as ours)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else None


# --- memory: every process in each service's process group (`up` starts each in a session of its own) ---

def group_rss(pgids: dict[str, int]) -> dict[str, tuple[int, int]]:
    """name -> (RSS in kB summed over the group, process count), from /proc."""
    return {name: (kb, count) for name, (kb, count, _) in group_usage(pgids).items()}


def service_processes(pgids: dict[str, int]) -> dict[int, tuple[str, list[str]]]:
    """pid -> (service name, the fields of /proc/pid/stat after "(comm)"), for every process in a service's group
    or descended from one (PostgreSQL's backends each start a session of their own)."""
    found, parents = {}, {}
    by_pgid = {pgid: name for name, pgid in pgids.items()}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()  # state, ppid, pgrp, ...
        except (OSError, IndexError):  # the process ended while we looked
            continue
        found[int(entry.name)], parents[int(entry.name)] = fields, int(fields[1])

    def service(pid: int, depth: int = 0) -> str | None:
        if pid not in found or depth > 5:
            return None
        return by_pgid.get(int(found[pid][2])) or service(parents[pid], depth + 1)

    return {pid: (name, fields) for pid, fields in found.items() if (name := service(pid))}


def group_usage(pgids: dict[str, int]) -> dict[str, tuple[int, int, float]]:
    """name -> (RSS in kB summed over the service's processes, process count, CPU seconds), from /proc. The CPU
    seconds count each live process's own and its reaped children's (a finished flow run's counts in the process
    that waited for it), so the difference between two readings is what the service spent in between."""
    totals = {name: [0, 0, 0.0] for name in pgids}
    tick = os.sysconf("SC_CLK_TCK")
    for pid, (name, fields) in service_processes(pgids).items():
        try:
            cpu = sum(int(tick_count) for tick_count in fields[11:15]) / tick  # utime, stime, cutime, cstime
            rss = next((int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                        if line.startswith("VmRSS:")), 0)  # kernel threads and zombies have none
        except (OSError, ValueError, IndexError):  # the process ended while we looked
            continue
        totals[name][0] += rss
        totals[name][1] += 1
        totals[name][2] += cpu
    return {name: (kb, count, cpu) for name, (kb, count, cpu) in totals.items()}


def total_pss(pgids: dict[str, int]) -> int:
    """Proportional set size in kB over every service's processes: memory shared by forks (the flow runs fork
    from one warm process) counted once, where summed RSS counts it in every process."""
    total = 0
    for pid in service_processes(pgids):
        try:
            total += next((int(line.split()[1]) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
                           if line.startswith("Pss:")), 0)
        except (OSError, ValueError):  # the process ended while we looked
            continue
    return total


class MemorySampler(threading.Thread):
    """Samples once a second and keeps each group's maximum (RSS and process count), and the total's (RSS, PSS)."""

    def __init__(self, pgids: dict[str, int]):
        super().__init__(daemon=True)
        self.pgids, self.peak, self.peak_total, self.peak_pss, self.done = pgids, {}, 0, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(1):
            sample = group_rss(self.pgids)
            for name, (kb, count) in sample.items():
                old_kb, old_count = self.peak.get(name, (0, 0))
                self.peak[name] = (max(old_kb, kb), max(old_count, count))
            self.peak_total = max(self.peak_total, sum(kb for kb, _ in sample.values()))
            self.peak_pss = max(self.peak_pss, total_pss(self.pgids))


# --- the surge ---

def submit_all(api: str, n: int, concurrency: int) -> tuple[float, list[float], Counter, dict[str, tuple]]:
    """POST n applications from a small pool: (first POST's wall-clock time, latencies, status counts,
    {reference: (its POST sent, answered)})."""
    latencies, statuses, references, lock = [], Counter(), {}, threading.Lock()
    tag = f"{int(time.time())}"  # distinct emails across runs too

    def one(i: int) -> None:
        payload = application_payload(applicant={"email": f"surge-{tag}-{i}@example.org"})
        began, sent = time.perf_counter(), time.time()
        try:
            # A surge makes answers slow; applicants come from many venues (tests.stack.venue).
            status, _, body = request("POST", f"{api}{PATH}", payload, timeout=60, headers=venue(i))
        except OSError as error:  # refused, reset or timed out: counted, never fatal
            status, body = type(error).__name__, b"{}"
        with lock:
            latencies.append(time.perf_counter() - began)
            statuses[status] += 1
            if status == 201:
                references[json.loads(body)["reference"]] = (sent, time.time())

    first_post = time.time()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(n)))
    return first_post, latencies, statuses, references


def runs_named(prefect: str, names: list[str]) -> dict[str, dict]:
    """The flow runs with these names, by name, in pages of 200 names."""
    runs = {}
    for i in range(0, len(names), 200):
        status, _, body = request("POST", f"{prefect}/api/flow_runs/filter",
                                  {"flow_runs": {"name": {"any_": names[i:i + 200]}}, "limit": 200})
        if status == 200:
            runs.update({run["name"]: run for run in json.loads(body)})
    return runs


def panel_asked(sent: list[tuple[str, list[str]]], references: set[str]) -> set[str]:
    """References whose review request ("... your decision") went to both panel members; sent: (subject, to)."""
    to: dict[str, set] = {}
    for subject, addresses in sent:
        found = re.match(r"Application (\S+) to the .*your decision$", subject)
        if found and found[1] in references:
            to.setdefault(found[1], set()).update(addresses)
    return {reference for reference, addresses in to.items() if PANEL <= addresses}


class SentMail:
    """The emails moto has sent, from our moto wrapper's paged mailbox (moto 5.2.5's /moto-api/data.json dumped
    every object moto ever made and took 48 s at 100 applications)."""

    def __init__(self, moto_url: str):
        self.mailbox = Mailbox(moto_url)

    def read(self) -> list[tuple[str, list[str]]]:
        return [(m["subject"], m["to"]) for m in self.mailbox.messages()]


def wait_at_review(prefect: str, mail: SentMail, references: list[str], deadline: float) -> tuple[dict, set, set]:
    """Poll until every reference is emailed to its panel and PAUSED, or the deadline passes; never hangs."""
    runs, paused, emailed = {}, set(), set()
    while time.monotonic() < deadline:
        try:
            runs = runs_named(prefect, references) or runs
            paused = {name for name, run in runs.items() if run["state"] and run["state"]["type"] == "PAUSED"}
            emailed = panel_asked(mail.read(), set(references))
        except Exception:  # noqa: BLE001 -- a busy server answering late or oddly: ask again next time
            pass
        if len(paused & emailed) == len(references):
            break
        time.sleep(2)
    return runs, paused, emailed


def log_problems(logs: Path) -> str:
    """Per service log: Tracebacks and ERROR lines, and the commonest exception."""
    found = []
    for path in sorted(logs.glob("*.log")):
        lines = path.read_text(errors="replace").splitlines()
        count = sum(1 for line in lines if "Traceback" in line or "| ERROR" in line)
        kinds = Counter(line[:70] for line in lines if re.match(r"[\w.]*(Error|Exception): ", line))
        commonest = f" ({kinds.most_common(1)[0][0]} x{kinds.most_common(1)[0][1]})" if kinds else ""
        found.append(f"{path.stem} {count}{commonest}")
    return "; ".join(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="applications to submit (default 200)")
    parser.add_argument("--concurrency", type=int, default=8, help="submitting threads (default 8)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary IAG_LOCAL_DIR (logs) afterwards")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)

    with BenchStack("iag-pipeline-", args.keep) as bench:
        print(f"IAG pipeline bench: N={args.n}, concurrency {args.concurrency}, {os.cpu_count()} CPUs, "
              f"load {os.getloadavg()[0]:.1f}; state in {bench.local}")
        try:
            row("stack ready", f"{bench.start():.1f} s; " + prefect_database(bench.output()))
        except RuntimeError as error:
            print(f"error: {str(error)[-3000:]}", file=sys.stderr)
            return 1
        return surge(args, bench)


def prefect_database(output: str) -> str:
    """What the stack's Prefect server keeps its data in, from `up`'s ready message."""
    found = re.search(r"its data: (PostgreSQL|SQLite)", output)
    return f"Prefect on {found[1] if found else 'an unknown database'}"


def surge(args, bench: BenchStack) -> int:
    api, prefect, moto, local = bench.api, bench.prefect, bench.moto, bench.local
    pgids = {name: pid for name, pid in bench.pgids().items() if name in SERVICES}
    before = group_usage(pgids)
    idle = {name: (kb, count) for name, (kb, count, _) in before.items()}
    sampler = MemorySampler(pgids)
    sampler.start()

    bound = max(300.0, 3.0 * args.n)  # from the first POST
    deadline = time.monotonic() + bound
    first_post, latencies, statuses, answered_at = submit_all(api, args.n, args.concurrency)
    submitted, references = time.time() - first_post, list(answered_at)
    runs, paused, emailed = wait_at_review(prefect, SentMail(moto), references, deadline)
    seen = time.time() - first_post
    sampler.done.set()
    sampler.join()
    time.sleep(5)  # the last suspended runs' processes take a moment to exit
    after = group_usage(pgids)
    end = {name: (kb, count) for name, (kb, count, _) in after.items()}

    # --- submit ---
    answered = ", ".join(f"{status} x{count}" for status, count in sorted(statuses.items(), key=str))
    row("submit: POST " + PATH, spread(latencies, 1000, "ms", 0))
    row("submit: answers", f"{answered}; all sent in {submitted:.1f} s ({len(latencies) / submitted:.1f}/s)")

    # --- at review: emails and PAUSED; the moment is the run's PAUSED timestamp (emails go out before) ---
    ready = paused & emailed
    paused_at = {name: when(runs[name]["state"]["timestamp"]) for name in ready}
    at = {name: t - first_post for name, t in paused_at.items()}
    states = Counter(run["state"]["type"] if run["state"] else "none" for run in runs.values())
    states["no run yet"] = len(references) - len(runs)
    row("at review (emails + PAUSED)", f"{len(ready)} of {len(references)}"
        + ("" if len(ready) == len(references) else f"  (bound {bound:.0f} s hit)")
        + f"; emailed {len(emailed)}, PAUSED {len(paused)}; run states: "
        + ", ".join(f"{s} {c}" for s, c in states.most_common() if c))
    if at:
        last = max(at.values())
        row("first POST -> all at review", f"{last:.1f} s (first at {min(at.values()):.1f} s; seen by polling "
            f"at {seen:.1f} s)")
        row("throughput to review", f"{len(at) / last * 60:.1f} applications/min")
        row("per application: its POST -> review", spread([t - answered_at[n][0] for n, t in paused_at.items()]))

    # --- Prefect's own timings per run. start_time is set when the run's own process reports RUNNING, so the
    # queue wait includes the runner spawning that process and its imports, not only waiting for a slot. ---
    running, total, queued = [], [], []
    for name in ready:
        run = runs[name]
        start = when(run["start_time"])
        if start is None:
            continue
        running.append(paused_at[name] - start)
        total.append(run["total_run_time"])
        queued.append(start - (when(run["expected_start_time"]) or when(run["created"])))
    row("run: start -> PAUSED", spread(running))
    row("run: total_run_time", spread(total))
    row("run: queue wait (expected -> start)", spread(queued))
    # A run created after its POST was answered was not started by the API but by reconciliation.
    late = sum(1 for name, run in runs.items() if when(run["created"]) > answered_at[name][1])
    row("runs created by the POST / later", f"{len(runs) - late} / {late} (later: reconciliation started them)")

    # --- memory ---
    row("memory (RSS, process group)", f"{'idle':>10} {'peak':>10} {'end':>10}   processes idle/peak/end")
    for name in SERVICES:
        if name in pgids:
            peak = sampler.peak.get(name, (0, 0))
            row(f"  {name}", f"{idle[name][0] / 1024:7.0f} MB {peak[0] / 1024:7.0f} MB "
                f"{end[name][0] / 1024:7.0f} MB   {idle[name][1]}/{peak[1]}/{end[name][1]}")
    row("  all", f"{sum(kb for kb, _ in idle.values()) / 1024:7.0f} MB {sampler.peak_total / 1024:7.0f} MB "
        f"{sum(kb for kb, _ in end.values()) / 1024:7.0f} MB   (peak: largest simultaneous sum)")
    row("  all, PSS (shared pages once)", f"{'':>10} {sampler.peak_pss / 1024:7.0f} MB")
    row("log errors (Traceback/ERROR)", log_problems(local / "logs"))

    # --- CPU: what bounds the rate. Seconds each service spent from the first POST to the end (bench included). ---
    spent = {name: after[name][2] - before[name][2] for name in pgids}
    row("CPU s, first POST -> end", "; ".join(f"{name} {spent[name]:.0f}" for name in SERVICES if name in spent)
        + f"; all {sum(spent.values()):.0f} (load {os.getloadavg()[0]:.1f})")
    if references:
        per_application = sum(spent.values()) / len(references)
        cores = os.cpu_count() or 1
        row("physical bound", f"{per_application:.2f} CPU s per application x {args.n} / {cores} cores = "
            f"{per_application * args.n / cores:.0f} s at best (flows alone: "
            f"{spent.get('flows', 0) / len(references):.2f} CPU s per application)")

    began = time.monotonic()
    try:
        total = sent_page(moto, 0, 50)["total"]
        row("moto mailbox (first page of 50)", f"{total} emails; answered in {time.monotonic() - began:.3f} s")
    except Exception as error:  # noqa: BLE001 -- a figure, never a failure
        row("moto mailbox (first page of 50)", f"unread after {time.monotonic() - began:.0f} s: "
            f"{type(error).__name__} {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
