"""The daily retention pass (see serve.py): for each force, delete unsuccessful applications past the profile's
period (leaving anonymised counts), expired screening outcomes and expired links."""
from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from chalicelib import bootstrap


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=60, persist_result=False)
def sweep_force(force_id: str) -> dict:
    return bootstrap.container().data_protection.sweep(force_id)


@flow(name="retention", persist_result=False)
def retention() -> dict:
    results = {force_id: sweep_force(force_id) for force_id in bootstrap.container().forces.ids()}
    get_run_logger().info("retention: %s", results)  # counts only
    return results
