"""One Prefect test server for every flow test of the run (each used to start its own: 10-30 s apiece)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def prefect_server():
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    # 120 s: a loaded shared 2-core machine has missed the default 30 s. No heartbeats: each costs ~1 s per flow exit.
    with prefect_test_harness(server_startup_timeout=120), \
            temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
