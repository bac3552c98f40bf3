"""Prefect's own automation on the run's one Prefect test server (`prefect_server` in tests/conftest.py; moto as
AWS): a run that fails or crashes twice makes the automation run `tell-run-failing` once, which emails the platform
operator and the force's coordinator once; one failure alone tells nobody. And runs carry their deployment's kind
tag, which the operators' saved filter uses."""
from __future__ import annotations

import time
from uuid import UUID

from tests.conftest import sent_emails

OPERATOR = "platform-operator@derbyshire.iag-backoffice.example"
COORDINATOR = "helen.ham@derbyshire.police.uk"


def deploy(name: str) -> UUID:
    """The deployment as `make up` registers it (flows/serve.py: its tags, schedules and automations)."""
    from flows.serve import served

    [(flow, options)] = [(f, o) for f, o in served() if o["name"] == name]
    return flow.to_deployment(_sync=True, **options).apply(_sync=True)


def runs_of(client, deployment_id: UUID) -> list:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    # limit and sort given: this client's defaults (None) are refused by the server (422)
    return client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
                                 limit=50, sort=FlowRunSort.EXPECTED_START_TIME_DESC)


def fails(client, run_id: UUID, state) -> None:
    """The run starts and ends in `state` (as a worker reports it), the way reconciliation's retry starts it again."""
    from prefect.states import Running, Scheduled

    client.set_flow_run_state(run_id, Scheduled(name="AwaitingRetry"), force=True)
    client.set_flow_run_state(run_id, Running(), force=True)
    client.set_flow_run_state(run_id, state, force=True)


def wait_for_runs(client, deployment_id: UUID, count: int, timeout: float = 60.0) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = runs_of(client, deployment_id)
        if len(runs) >= count:
            return runs
        time.sleep(0.5)
    return runs_of(client, deployment_id)


def test_a_run_failing_twice_is_told_once_to_its_forces_operator_and_coordinator(prefect_server, api):
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.states import Crashed, Failed

    from flows.alerts import tell_run_failing

    tell = deploy("tell-run-failing")

    @flow(name="review-application")
    def doomed() -> None:  # never executed: its states are set as a worker would report them
        pass

    with get_client(sync_client=True) as client:
        run = client.create_flow_run(doomed, name="DER-2026-000077",
                                     tags=["iag", "application", "force:derbyshire", "group:derbyshire-iag"])
        fails(client, run.id, Failed(message="boom"))
        time.sleep(5)  # time enough for the automation to act, were it to
        assert runs_of(client, tell) == []  # one failure: reconciliation retries it, nobody is woken

        fails(client, run.id, Crashed(message="process killed"))
        [told] = wait_for_runs(client, tell, 1)
        assert told.parameters == {"flow_run_id": f"prefect.flow-run.{run.id}"}
        time.sleep(3)
        assert len(runs_of(client, tell)) == 1  # the automation acts once for the two failures

    # What the served deployment runs with those parameters (here in process, against moto's SES).
    assert tell_run_failing(**told.parameters) == 2
    assert tell_run_failing(**told.parameters) == 0  # a third and fourth failure fire it again: told once all the same
    for address in (OPERATOR, COORDINATOR):
        [email] = [m for m in sent_emails() if address in m.destinations["ToAddresses"]]
        assert "DER-2026-000077" in email.subject and str(run.id) in email.body


def test_an_applications_run_carries_the_application_tag_and_a_housekeeping_run_does_not(prefect_server):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    from chalicelib.adapters.prefect_gateway import PrefectGateway
    from chalicelib.services.review import REVIEW_DEPLOYMENT

    deploy("review-application")
    reconcile = deploy("reconcile-reviews")
    gateway = PrefectGateway(PREFECT_API_URL.value())
    run_id = gateway.start(REVIEW_DEPLOYMENT, name="DER-2026-000078", parameters={
        "force_id": "derbyshire", "reference": "DER-2026-000078"}, tags=["force:derbyshire", "group:derbyshire-iag"],
        idempotency_key="review:DER-2026-000078")
    with get_client(sync_client=True) as client:
        assert {"application", "force:derbyshire"} <= set(client.read_flow_run(UUID(run_id)).tags)
        housekeeping = client.create_flow_run_from_deployment(reconcile)
        assert "housekeeping" in housekeeping.tags and "application" not in housekeeping.tags


def test_make_up_saves_the_runs_pages_views_by_tag_once_however_often_it_starts(prefect_server):
    import json
    import urllib.request

    from prefect.settings import PREFECT_API_URL

    from flows.saved_views import save_views

    save_views(PREFECT_API_URL.value())
    save_views(PREFECT_API_URL.value())  # a second `make up`
    request = urllib.request.Request(f"{PREFECT_API_URL.value()}/saved_searches/filter", method="POST", data=b"{}",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request) as response:
        views = json.loads(response.read())
    [applications] = [v for v in views if v["name"] == "Applications' runs"]
    assert {"object": "flowRun", "property": "tag", "value": ["application"], "type": "", "operation": ""} in \
        applications["filters"]
    assert len([v for v in views if v["name"] == "Housekeeping runs"]) == 1
