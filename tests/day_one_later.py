"""A scheduled step run on the local stack's data as it would run some days from now, for the day-one test:
`python -m tests.day_one_later FORCE DAYS elections|members` with the stack's environment (as `make admin`).

The stack's own processes keep the real clock, so what only time moves on (an election's nominations and voting
closing, days apart) is run here, through the same container and services the served flows use, with a clock
DAYS ahead. It prints the step's counts as JSON.

`python -m tests.day_one_later --serve` runs the steps asked on stdin, a line each ("ID FORCE DAYS STEP"), each in
a thread of its own with a container of its own, and prints each answer as a line of JSON with its ID: the day-one
test starts it with the stack, so the five forces' steps pay no new interpreter's imports (a fresh Python importing
the app, in the middle of five forces' days on two cores), and still run side by side."""
from __future__ import annotations

import json
import sys
import threading
import traceback
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from chalicelib import bootstrap


class ClockAhead:
    def __init__(self, days: float):
        self.ahead = timedelta(days=days)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.ahead


def run_step(container, force_id: str, step: str) -> dict:
    steps = {"elections": container.elections.advance, "members": container.membership.daily}
    return steps[step](force_id)


def main(force_id: str, days: str, step: str) -> int:
    print(json.dumps(run_step(bootstrap.override(clock=ClockAhead(float(days))), force_id, step)))
    return 0


def serve() -> int:
    """Each step on a container of its own: the settings, profiles and clients built once, the services (which
    hold the clock) built again for each step's clock. Services and stores never reach for the process's container,
    so steps side by side do not share a clock."""
    import importlib
    import pkgutil

    from chalicelib import services
    from chalicelib.adapters import dynamodb

    answers, sys.stdout = sys.stdout, sys.stderr  # the answers' lines are all that stdout carries
    for package in (services, dynamodb):  # what a step imports on first use, while the stack is still starting
        for module in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    printing, building = threading.Lock(), threading.Lock()

    def answer(line: str) -> None:
        ident, *asked = line.split() or [""]
        try:
            force_id, days, step = asked
            with building:
                base = bootstrap.container()  # built by the first step, when the stack is up
            outcome = {"ok": run_step(replace(base, clock=ClockAhead(float(days))), force_id, step)}
        except Exception:  # noqa: BLE001 -- the test reports it, with where it happened
            outcome = {"failed": traceback.format_exc()}
        with printing:
            print(json.dumps({"id": ident, **outcome}), file=answers, flush=True)

    print(json.dumps({"ready": True}), file=answers, flush=True)
    running = []
    for line in sys.stdin:
        running.append(threading.Thread(target=answer, args=(line,), daemon=True))
        running[-1].start()
    for thread in running:
        thread.join()
    return 0


if __name__ == "__main__":
    sys.exit(serve() if sys.argv[1:] == ["--serve"] else main(*sys.argv[1:]))
