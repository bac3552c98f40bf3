"""The `recruitment-report` flow on a Prefect test server, moto as AWS: the artifacts an operator would open."""
from __future__ import annotations

import json

import pytest

from chalicelib import bootstrap
from chalicelib.domain.lifecycle import Action as A
from tests.services.test_reports import FORCE, MEMBER, store


@pytest.fixture
def stack(table, clock):
    bootstrap.reset()
    bootstrap.override(clock=clock)
    yield
    bootstrap.reset()


def artifact(key: str):
    """The latest artifact under the key, read through the Prefect client.

    Artifact.get sends null filters that this server (with fastapi 0.154) refuses with a 422, so the filter is
    posted without them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import Artifact

    with get_client(sync_client=True) as client:
        response = client.request("POST", "/artifacts/filter", json={
            "artifacts": {"key": {"any_": [key]}}, "sort": "UPDATED_DESC", "limit": 1, "offset": 0,
            "flow_runs": {}, "task_runs": {}})
    found = Artifact.model_validate_list(response.json())
    assert found, key
    return found[0]


def rows(key: str) -> dict[str, dict]:
    data = artifact(key).data
    table = json.loads(data) if isinstance(data, str) else data
    return {row["group"]: row for row in table}


def test_the_flow_publishes_each_forces_review_queue_and_funnel_as_tables(prefect_server, stack):
    from flows.reports import recruitment_report

    for n, days in enumerate((4, 11, 25)):
        store(n, "bristol", days_ago=days)
    store(3, "youth", (A.REQUEST_DISCUSSION,), days_ago=8)
    store(4, "bristol", MEMBER, days_ago=60)
    store(5, "bristol", (A.REJECT,), days_ago=20)

    results = recruitment_report()

    assert set(results) == set(bootstrap.container().forces.ids())
    queue = rows(f"review-queue-{FORCE}")
    assert queue["Bristol IAG"] == {"group": "Bristol IAG", "awaiting review": 3, "in discussion": 0,
                                    "oldest (days)": 25, "median (days)": 11.0}
    assert queue["Youth IAG"]["in discussion"] == 1 and queue["All groups"]["oldest (days)"] == 25
    funnel = rows(f"recruitment-{FORCE}")
    assert {k: funnel["Bristol IAG"][k] for k in ("applied", "reviewed", "approved", "members", "rejected")} == {
        "applied": 5, "reviewed": 2, "approved": 1, "members": 1, "rejected": 1}
    assert funnel["All groups"]["applied"] == 6
    assert funnel["Counter Terrorism IAG"]["screened"] == 0 and funnel["Bristol IAG"]["screened"] is None
    summary = artifact(f"recruitment-summary-{FORCE}")
    assert "4 waiting for the panel, the oldest for 25 days" in summary.data
    assert rows("recruitment-derbyshire")["All groups"]["applied"] == 0
    text = json.dumps([artifact(f"{k}-{FORCE}").data for k in ("review-queue", "recruitment")])
    assert "example.org" not in text and "Person" not in text


def test_the_report_is_deployed_hourly_one_run_at_a_time():
    from flows.serve import deployments

    [deployment] = [d for d in deployments() if d.name == "recruitment-report"]
    assert deployment.tags == ["iag", "housekeeping"] and deployment.concurrency_limit == 1
    assert deployment.schedules[0].schedule.interval.total_seconds() == 3600
