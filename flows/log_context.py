"""Log lines written during a flow run carry its id (and the application or force it is about), so an operator
can go from a JSON log line to the run in the Prefect UI. Kept here: chalicelib never imports prefect."""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Optional

from prefect.runtime import flow_run

from chalicelib.adapters.logs import log_context


def this_run(*, reference: Optional[str] = None, force: Optional[str] = None) -> AbstractContextManager:
    return log_context(flow_run_id=flow_run.id, reference=reference, force=force)
