"""The `retention` flow on a Prefect test server, moto as AWS: one task per force, each the service's sweep."""
from __future__ import annotations

from chalicelib.adapters.dynamodb.applications import DynamoApplicationRepository
from chalicelib.domain.lifecycle import Stage
from tests.conftest import TODAY
from tests.services.test_data_protection import BEN, DUE, NOT_YET, Builder


def test_the_daily_retention_run_deletes_what_is_due_in_every_force(prefect_server, api, clock):
    from flows.retention import retention

    build = Builder(clock)
    build.application("DBY-DUE", {**BEN, "email": "due@example.net"}, Stage.WITHDRAWN, DUE)
    build.application("DBY-KEPT", {**BEN, "email": "kept@example.net"}, Stage.WITHDRAWN, NOT_YET)
    clock.moment = TODAY

    results = retention()

    assert set(results) == {"avon-and-somerset", "derbyshire", "greater-manchester", "northamptonshire",
                            "thames-valley"}
    assert results["derbyshire"]["applications"] == 1
    assert DynamoApplicationRepository().get("derbyshire", "DBY-DUE") is None
    assert DynamoApplicationRepository().get("derbyshire", "DBY-KEPT") is not None
