"""Scheduled flows that keep reviews moving: reconciliation with Prefect, and reminders."""
from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from chalicelib import bootstrap
from flows.log_context import this_run


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def reconcile_force(force_id: str, full: bool = False) -> dict:
    container = bootstrap.container()
    with this_run(force=force_id):
        return {"review": container.review.reconcile(force_id, full=full),
                "callouts": container.callouts.reconcile(force_id),
                # after delivering what it could: what still waits over an hour is told (once per decision)
                "alerts": container.alerts.watch(force_id)}


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=60)
def remind_force(force_id: str) -> dict:
    container = bootstrap.container()
    with this_run(force=force_id):
        return {"review": container.review.remind(force_id), "after_review": container.joining.remind_all(force_id),
                "elections": container.elections.advance(force_id),
                "meetings": container.meetings.plan_and_tell(force_id)}


@flow(name="reconcile-reviews")
def reconcile_reviews(full: bool = False) -> dict:
    """Start runs Prefect never got, retry runs that died, and deliver decisions recorded while it was away.

    A frequent pass follows the traces such work leaves (reading nothing when idle); the daily `full` pass also
    asks Prefect about every live application."""
    results = {force_id: reconcile_force(force_id, full) for force_id in bootstrap.container().forces.ids()}
    get_run_logger().info("reconciled: %s", results)
    return results


@flow(name="review-reminders")
def review_reminders() -> dict:
    """Remind panel members who have not answered (escalating to the IAG coordinator after a further period),
    chase unanswered offers and unsigned agreements, let them lapse, close appeal windows, and move elections
    from nominations to voting to the result, and plan each group's meetings and send members their invitations."""
    results = {force_id: remind_force(force_id) for force_id in bootstrap.container().forces.ids()}
    get_run_logger().info("reminders: %s", results)
    return results
