"""One flow run per application, named by its reference and tagged with force and group.

The flow is thin: each time it runs (first start, or after a resume, when
Prefect runs it again from the top) it asks the review service to move the
application as far as DynamoDB allows, then suspends until a decision or a
withdrawal wakes it. A suspended run holds no process.
"""
from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput

from chalicelib import bootstrap

MAX_WAITS_PER_RUN = 50  # a guard against a run that keeps waking with nothing new


class Signal(RunInput):
    """Why the run was woken: "decision", "withdrawn" or "reconcile". What changed is read from DynamoDB."""
    reason: str = "reconcile"


# Never cached: after a resume the same inputs must read DynamoDB afresh.
@task(retries=3, retry_delay_seconds=[5, 30, 120], cache_policy=NO_CACHE, persist_result=False)
def advance(force_id: str, reference: str) -> dict:
    step = bootstrap.container().review.advance(force_id, reference)
    return {"done": step.done, "stage": step.stage, "wait_key": step.wait_key}


@flow(name="review-application", persist_result=True, log_prints=True)
def review_application(force_id: str, reference: str) -> str:
    logger = get_run_logger()
    for wait in range(MAX_WAITS_PER_RUN):
        step = advance(force_id, reference)
        if step["done"]:
            logger.info("%s finished review at stage %s", reference, step["stage"])
            return step["stage"]
        logger.info("%s is %s; waiting for the panel", reference, step["stage"])
        # Keyed by what DynamoDB shows plus this pass, so a rerun from the top skips waits already resumed.
        suspend_flow_run(wait_for_input=Signal, key=f"{step['wait_key']}-{wait}")
    raise RuntimeError(f"{reference}: woken {MAX_WAITS_PER_RUN} times without settling")
