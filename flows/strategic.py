"""The twice-yearly Strategic IAG: open a cycle for every force whose profile has a strategic group made of
local nominees, and move every open cycle on. Runs on two schedules (see serve.py): twice a year with
start=True to open cycles, and hourly to move them on; a person's answer also starts a run at once."""
from __future__ import annotations

from typing import Optional

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from chalicelib import bootstrap
from flows.log_context import this_run


@task(retries=2, retry_delay_seconds=30, cache_policy=NO_CACHE, persist_result=False)
def open_cycle(force_id: str) -> Optional[str]:
    with this_run(force=force_id):
        cycle = bootstrap.container().strategic.start_cycle(force_id)
    return cycle.id if cycle else None


@task(retries=2, retry_delay_seconds=30, cache_policy=NO_CACHE, persist_result=False)
def advance_cycle(force_id: str, cycle_id: str) -> str:
    with this_run(force=force_id):
        return bootstrap.container().strategic.advance(force_id, cycle_id)


@flow(name="strategic-iag", persist_result=False)
def strategic_iag(start: bool = False, force_id: Optional[str] = None, cycle_id: Optional[str] = None) -> dict:
    logger = get_run_logger()
    container = bootstrap.container()
    results = {}
    for force in ([force_id] if force_id else container.forces.ids()):
        if start:
            opened = open_cycle(force)
            if opened:
                logger.info("%s: cycle %s open", force, opened)
        for cycle in ([cycle_id] if cycle_id else container.strategic.open_cycles(force)):
            results[cycle] = advance_cycle(force, cycle)
            logger.info("%s: %s", cycle, results[cycle])
    return results
