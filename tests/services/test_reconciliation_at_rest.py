"""Reconciliation at rest: a pass with nothing to do writes nothing and reads (almost) nothing, and each kind of
due work is still found (moto in process, a fake Prefect, every DynamoDB call counted at the botocore client)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from botocore.client import BaseClient

from chalicelib import bootstrap
from chalicelib.domain.application import apply
from chalicelib.domain.lifecycle import Action
from chalicelib.services.ports import WorkflowUnavailable
from tests.conftest import sent_emails
from tests.services.review_panel import PANEL, applied, links_to, press

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


@pytest.fixture
def aws_calls(monkeypatch):
    """(service, operation, response) of every AWS call from now on."""
    calls = []
    real = BaseClient._make_api_call

    def counted(self, operation, params):
        response = real(self, operation, params)
        calls.append((self.meta.service_model.service_name, operation, response))
        return response

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    return calls


def items_read(calls) -> int:
    return sum(len(r.get("Items", ())) + int("Item" in r) for service, _, r in calls if service == "dynamodb")


def every_force_reconciled() -> dict:
    """What the scheduled reconcile-reviews flow does, per force."""
    container = bootstrap.container()
    return {f: {"review": container.review.reconcile(f), "callouts": container.callouts.reconcile(f)}
            for f in container.forces.ids()}


def nothing_done(results: dict) -> bool:
    return all(not any(counts.values()) for force in results.values() for counts in force.values())


def test_a_pass_with_nothing_to_do_writes_nothing_and_reads_no_item(api, review, clock, aws_calls):
    waiting = [applied(api, f"person{n}@example.org") for n in range(3)]
    for reference in waiting:
        review.advance("derbyshire", reference)  # review requests sent; each run now waits for the panel
    assert press(api, links_to(PANEL["iag_chair"])[0], decision="approve").status_code == 200  # delivered at once
    clock.moment += timedelta(hours=1)
    emails_before = len(sent_emails())
    aws_calls.clear()

    assert nothing_done(every_force_reconciled())

    dynamodb = [(operation, r) for service, operation, r in aws_calls if service == "dynamodb"]
    assert [operation for operation, _ in dynamodb if operation in WRITES] == []
    assert items_read(aws_calls) == 0
    assert {operation for operation, _ in dynamodb} == {"Query"}  # one per kind of trace: no walk over applications
    assert len(dynamodb) <= 5 * len(bootstrap.container().forces.ids())
    assert len(sent_emails()) == emails_before


def test_a_run_prefect_could_not_create_is_started_by_the_next_pass_and_only_once(api, review, workflow, aws_calls):
    real_start = workflow.start

    def unreachable(*args, **kwargs):
        raise WorkflowUnavailable("Prefect unreachable")

    workflow.start = unreachable
    reference = applied(api)
    assert workflow.started == []
    assert every_force_reconciled()["derbyshire"]["review"]["unreachable"] == 1  # still down: the trace stays
    workflow.start = real_start
    assert every_force_reconciled()["derbyshire"]["review"]["started"] == 1
    assert [run["name"] for run in workflow.started] == [reference]
    aws_calls.clear()
    assert nothing_done(every_force_reconciled())
    assert items_read(aws_calls) == 0


@pytest.mark.parametrize("state", [("FAILED", 5.0), ("CRASHED", 5.0), ("RUNNING", 3600.0)])
def test_a_run_that_failed_crashed_or_stuck_is_retried_by_a_frequent_pass(api, review, workflow, state):
    reference = applied(api)
    review.advance("derbyshire", reference)
    workflow.states[f"run-{reference}"] = state
    assert every_force_reconciled()["derbyshire"]["review"]["retried"] == 1
    assert workflow.retried == [f"run-{reference}"]


def test_a_run_still_running_for_a_short_while_is_left_alone(api, review, workflow):
    reference = applied(api)
    workflow.states[f"run-{reference}"] = ("RUNNING", 30.0)
    assert nothing_done(every_force_reconciled())


def test_a_failed_run_of_an_application_that_no_longer_waits_is_left_alone(api, review, workflow, clock):
    reference = applied(api)
    repository = bootstrap.container().repository
    withdrawn, event = apply(repository.get("derbyshire", reference), Action.WITHDRAW, at=clock.now(), actor="applicant")
    repository.save_transition(withdrawn, event)
    workflow.states[f"run-{reference}"] = ("FAILED", 5.0)
    assert every_force_reconciled()["derbyshire"]["review"]["retried"] == 0
    assert workflow.retried == []


def test_a_run_never_created_without_a_trace_is_found_by_the_daily_full_pass(api, review, workflow):
    reference = applied(api)
    workflow.started.clear()  # as if the request died between its write and creating the run
    assert review.reconcile("derbyshire")["started"] == 0
    assert review.reconcile("derbyshire", full=True)["started"] == 1
    assert [run["name"] for run in workflow.started] == [reference]
