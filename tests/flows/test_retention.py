"""The `retention` flow on a Prefect test server, moto as AWS: one task per force, each the service's sweep."""
from __future__ import annotations

import pytest

from chalicelib.adapters.dynamodb.applications import DynamoApplicationRepository
from chalicelib.domain.lifecycle import Stage
from tests.conftest import TODAY
from tests.services.test_data_protection import BEN, DUE, NOT_YET, Builder


@pytest.fixture(scope="module")
def prefect_server():
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    # A shared 2-core machine can take longer than the default 30 s to start the test server.
    with prefect_test_harness(server_startup_timeout=120), \
            temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


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
