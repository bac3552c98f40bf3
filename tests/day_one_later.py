"""A scheduled step run on the local stack's data as it would run some days from now, for the day-one test:
`python -m tests.day_one_later FORCE DAYS elections|members` with the stack's environment (as `make admin`).

The stack's own processes keep the real clock, so what only time moves on (an election's nominations and voting
closing, days apart) is run here, through the same container and services the served flows use, with a clock
DAYS ahead. It prints the step's counts as JSON."""
from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone

from chalicelib import bootstrap


class ClockAhead:
    def __init__(self, days: float):
        self.ahead = timedelta(days=days)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.ahead


def main(force_id: str, days: str, step: str) -> int:
    container = bootstrap.override(clock=ClockAhead(float(days)))
    steps = {"elections": container.elections.advance, "members": container.membership.daily}
    print(json.dumps(steps[step](force_id)))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
