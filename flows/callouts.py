"""One flow run per critical incident, named by its id: ask every member who can be called, wait (suspended,
holding no process) until the response window closes, then send the police lead the summary."""
from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.flow_runs import suspend_flow_run

from chalicelib import bootstrap
from flows.log_context import this_run
from flows.review import Signal


@task(retries=3, retry_delay_seconds=[5, 30, 120], cache_policy=NO_CACHE, persist_result=False)
def ask_members(force_id: str, incident_id: str) -> int:
    with this_run(force=force_id):
        return bootstrap.container().callouts.ask_members(force_id, incident_id)


@task(retries=3, retry_delay_seconds=[5, 30, 120], cache_policy=NO_CACHE, persist_result=False)
def send_summary(force_id: str, incident_id: str) -> bool:
    with this_run(force=force_id):
        return bootstrap.container().callouts.send_summary(force_id, incident_id)


@flow(name="critical-incident", persist_result=True, log_prints=True)
def critical_incident(force_id: str, incident_id: str) -> str:
    logger = get_run_logger()
    asked = ask_members(force_id, incident_id)
    logger.info("%s: %s members asked; waiting for the response window to close", incident_id, asked)
    # Woken by reconciliation once the window has closed (or by an operator closing it early).
    suspend_flow_run(wait_for_input=Signal, key="window")
    sent = send_summary(force_id, incident_id)
    logger.info("%s: summary %s", incident_id, "sent to the police lead" if sent else "already sent")
    return "closed"
