"""One flow run per application, named by its reference and tagged with force and group.

The run follows the application from the panel's review through screening,
the offer, onboarding and any appeal, until it ends or the person becomes a
member. The flow is thin: each time it runs (first start, or after a resume,
when Prefect runs it again from the top) it asks the services to move the
application as far as DynamoDB allows, then suspends until a person's action
wakes it. A suspended run holds no process. Each pass is a task run named by
the stage it starts from, so the Prefect UI shows the application's path.
"""
from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput

from chalicelib import bootstrap
from flows.log_context import this_run

MAX_WAITS_PER_RUN = 50  # a guard against a run that keeps waking with nothing new

PHASES = {
    "submitted": "panel review", "awaiting_review": "panel review", "discussion_requested": "panel review",
    "redirected": "panel review", "approved": "screening or offer", "appeal_upheld": "screening or offer",
    "residency": "residency",
    "screening": "screening", "offered": "offer", "onboarding": "onboarding", "rejected": "appeal window",
    "appeal_lodged": "appeal",
}

WAITING_FOR = {
    "panel review": "the panel", "residency": "evidence of residency", "screening": "the screening outcome", "offer": "the applicant's answer to the offer",
    "onboarding": "the signed confidentiality agreement", "appeal window": "an appeal, until the window closes",
    "appeal": "the appeal panel",
}


class Signal(RunInput):
    """Why the run was woken, e.g. "decision", "accept_offer", "lapsed", "reconcile". What changed is read from
    DynamoDB."""
    reason: str = "reconcile"


# Never cached: after a resume the same inputs must read DynamoDB afresh.
@task(retries=3, retry_delay_seconds=[5, 30, 120], cache_policy=NO_CACHE, persist_result=False)
def advance(force_id: str, reference: str) -> dict:
    with this_run(reference=reference, force=force_id):
        step = bootstrap.container().review.advance(force_id, reference)
    return {"done": step.done, "stage": step.stage, "wait_key": step.wait_key}


@flow(name="review-application", persist_result=True, log_prints=True)
def review_application(force_id: str, reference: str) -> str:
    logger = get_run_logger()
    stage = "submitted"
    for wait in range(MAX_WAITS_PER_RUN):
        step = advance.with_options(task_run_name=f"{PHASES.get(stage, stage)} ({reference})")(force_id, reference)
        stage = step["stage"]
        if step["done"]:
            logger.info("%s finished at stage %s", reference, stage)
            return stage
        logger.info("%s is %s; waiting for %s", reference, stage, WAITING_FOR.get(PHASES.get(stage, stage), "a person"))
        # Keyed by what DynamoDB shows plus this pass, so a rerun from the top skips waits already resumed.
        suspend_flow_run(wait_for_input=Signal, key=f"{step['wait_key']}-{wait}")
    raise RuntimeError(f"{reference}: woken {MAX_WAITS_PER_RUN} times without settling")
