"""Log lines written while a flow run works carry the run's id, so a JSON line leads to the run in the Prefect UI."""
from __future__ import annotations

import io
import json
import logging

from chalicelib.adapters.logs import configure_logging


def test_this_run_names_the_flow_run_prefect_says_it_is_in(monkeypatch):
    from flows.log_context import this_run

    monkeypatch.setenv("PREFECT__FLOW_RUN_ID", "5f0c2a4e-run")  # what prefect.runtime reads outside a run context
    stream = io.StringIO()
    handler = configure_logging(stream=stream)
    try:
        with this_run(force="northamptonshire"):
            logging.getLogger("chalicelib.services.meetings").info("planned")
    finally:
        logging.getLogger().removeHandler(handler)

    line = json.loads(stream.getvalue())
    assert (line["flow_run_id"], line["force"]) == ("5f0c2a4e-run", "northamptonshire")
    assert "reference" not in line


def test_a_service_line_inside_a_flow_task_carries_the_flow_run_id_and_the_reference(prefect_server):
    from prefect import flow, task
    from prefect.runtime import flow_run

    from flows.log_context import this_run

    @task
    def step(reference: str) -> None:
        with this_run(reference=reference, force="derbyshire"):
            logging.getLogger("chalicelib.services.review").info("decision recorded")

    @flow
    def review(reference: str) -> str:
        step(reference)
        return flow_run.id

    stream = io.StringIO()
    handler = configure_logging(stream=stream)
    try:
        run_id = review("DBY-2026-7K3F9QX2")
    finally:
        logging.getLogger().removeHandler(handler)

    [line] = [json.loads(text) for text in stream.getvalue().splitlines()
              if json.loads(text)["logger"] == "chalicelib.services.review"]
    assert (line["flow_run_id"], line["reference"], line["force"]) == (run_id, "DBY-2026-7K3F9QX2", "derbyshire")
