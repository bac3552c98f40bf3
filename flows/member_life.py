"""The daily pass over members and meetings after joining (thin: the services decide, the outbox sends once).

Members: terms reminded before they end and ended when not renewed, screening renewed before it expires and
call-outs paused once it has, recent changes told. Meetings: agenda requests to those the profile names, the
agenda and papers when due, minutes still owed, and reminders of open actions."""
from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from chalicelib import bootstrap
from flows.log_context import this_run


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=60)
def members_of_force(force_id: str) -> dict:
    with this_run(force=force_id):
        return bootstrap.container().membership.daily(force_id)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=60)
def meeting_business_of_force(force_id: str) -> dict:
    with this_run(force=force_id):
        return bootstrap.container().meeting_business.daily(force_id)


@flow(name="member-life")
def member_life() -> dict:
    """Every force: its members' terms and screening, then its meetings' agenda, papers, minutes and actions."""
    results = {force_id: {"members": members_of_force(force_id), "meetings": meeting_business_of_force(force_id)}
               for force_id in bootstrap.container().forces.ids()}
    get_run_logger().info("member life: %s", results)
    return results
