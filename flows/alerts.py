"""Telling people about trouble (services/alerts.py) from the Prefect side.

`tell-run-failing` is run by a Prefect automation, not on a schedule: RUN_FAILING_TWICE (below) is a deployment
trigger, so `make up` (flows/serve.py) and `prefect deploy` (prefect.yaml) create it with the deployment, and
re-create it on every deploy (Prefect deletes and recreates the automations a deployment owns: idempotent).
Prefect's automation fits here because Prefect alone sees a run's states; a decision undelivered while Prefect is
down cannot be seen by Prefect, so that watch runs in reconciliation and in a Lambda schedule (chalicelib/api/watch.py).
`alert-digest` sends each force's daily digest of what was not urgent.
"""
from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from prefect import flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.events.schemas.automations import Posture
from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger

from chalicelib import bootstrap
from chalicelib.domain.alerts import RUN_FAILURES_BEFORE_ALERT
from flows.log_context import this_run

FLOW_RUN_PREFIX = "prefect.flow-run."


def run_failing_twice() -> DeploymentEventTrigger:
    """Any flow run that enters Failed or Crashed twice within a day (the same run: reconciliation retries a failed
    application run once it sees it, so a second failure means retrying did not help)."""
    return DeploymentEventTrigger(
        name="tell-operators-when-a-run-fails-twice",
        description="A flow run failed or crashed twice: email the platform operator and the force's coordinator.",
        expect={"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
        match={"prefect.resource.id": f"{FLOW_RUN_PREFIX}*"},
        for_each={"prefect.resource.id"},
        posture=Posture.Reactive, threshold=RUN_FAILURES_BEFORE_ALERT, within=timedelta(hours=26),
        parameters={"flow_run_id": "{{ event.resource.id }}"},
    )


@flow(name="tell-run-failing")
def tell_run_failing(flow_run_id: str) -> int:
    """Run by the automation with the failing run's resource id; the emails go once per run however often the
    automation fires for it (a third and fourth failure fire it again)."""
    run_id = UUID(flow_run_id.removeprefix(FLOW_RUN_PREFIX))
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
    state = run.state.type.value if run.state else "FAILED"
    with this_run():
        sent = bootstrap.container().alerts.run_failing(str(run_id), run.name, run.tags, state)
    get_run_logger().info("run %s failing: %d emails", run_id, sent)
    return sent


@flow(name="alert-digest")
def alert_digest() -> dict:
    """Each force's digest of yesterday's (and any missed day's) trouble that was not urgent; none when nothing."""
    container = bootstrap.container()
    results = {}
    for force_id in container.forces.ids():
        with this_run(force=force_id):
            results[force_id] = container.alerts.send_digests(force_id)
    get_run_logger().info("digests sent: %s", results)
    return results
