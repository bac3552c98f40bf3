"""Serve every flow as a deployment (suspend works only for deployment runs): `python -m flows.serve`.

Schedules are settings so the local stack can reconcile every minute while
production does it less often: IAG_RECONCILE_SECONDS, IAG_REMINDER_CRON, IAG_REPORT_SECONDS (hourly).
Each run is a process of its own: IAG_FLOW_RUN_LIMIT (6) caps how many run at once
(unbounded, a campaign surge of 200 started 71 processes and 7.7 GB on 2 cores). Runs fork from a warm
process (flows/warm_start.py) rather than each importing everything again; IAG_FLOW_RUN_START=spawn restores
Prefect's own way, for comparison.
"""
from __future__ import annotations

import asyncio
import logging
import os

from prefect.exceptions import TerminationSignal
from prefect.runner import Runner
from prefect.schedules import Cron, Interval

from chalicelib.adapters.logs import configure_logging
from flows.alerts import alert_digest, run_failing_twice, tell_run_failing
from flows.callouts import critical_incident
from flows.strategic import strategic_iag
from flows.housekeeping import reconcile_reviews, review_reminders
from flows.member_life import member_life
from flows.reports import recruitment_report
from flows.retention import retention
from flows.review import review_application


# Run tags, so a saved filter in the Prefect UI shows one kind (docs/operators.md): each application's own run,
# the scheduled passes and alerts that keep things moving, and a group's business (call-outs, Strategic IAG).
# Runs take their deployment's tags (and an application's run adds force:<id> and group:<id>).
APPLICATION = ["iag", "application"]
HOUSEKEEPING = ["iag", "housekeeping"]
GROUP_BUSINESS = ["iag", "group-business"]


def served() -> list[tuple]:
    """(flow, its deployment's options) for every flow served."""
    return [
        (review_application, dict(name="review-application", tags=APPLICATION)),
        (critical_incident, dict(name="critical-incident", tags=GROUP_BUSINESS)),
        # Cycles open on 1 January and 1 July for the spring and autumn meetings; open ones move on hourly.
        (strategic_iag, dict(name="strategic-iag", tags=GROUP_BUSINESS, schedules=[
            Cron(os.environ.get("IAG_STRATEGIC_CRON", "0 9 1 1,7 *"), timezone="Europe/London",
                 parameters={"start": True}),
            Cron("15 * * * *", timezone="Europe/London")])),
        # One at a time: under a surge a pass can outlast its interval, and overlapping passes took run slots.
        # Frequent passes follow the traces due work leaves; the daily full one also checks every live application.
        (reconcile_reviews, dict(name="reconcile-reviews", tags=HOUSEKEEPING, concurrency_limit=1, schedules=[
            Interval(int(os.environ.get("IAG_RECONCILE_SECONDS", "300"))),
            Cron("40 3 * * *", timezone="Europe/London", parameters={"full": True})])),
        (review_reminders, dict(name="review-reminders", tags=HOUSEKEEPING, concurrency_limit=1, schedule=Cron(
            os.environ.get("IAG_REMINDER_CRON", "0 8 * * *"), timezone="Europe/London"))),
        # After review-reminders (08:00), which plans the meetings this pass sends papers for.
        (member_life, dict(name="member-life", tags=HOUSEKEEPING, concurrency_limit=1, schedule=Cron(
            os.environ.get("IAG_MEMBER_LIFE_CRON", "30 8 * * *"), timezone="Europe/London"))),
        (recruitment_report, dict(name="recruitment-report", tags=HOUSEKEEPING, concurrency_limit=1,
                                  interval=int(os.environ.get("IAG_REPORT_SECONDS", "3600")))),
        (retention, dict(name="retention", tags=HOUSEKEEPING, concurrency_limit=1,
                         schedule=Cron("30 2 * * *", timezone="Europe/London"))),
        # Before the coordinators' working day; urgent trouble is not kept for it (services/alerts.py).
        (alert_digest, dict(name="alert-digest", tags=HOUSEKEEPING, concurrency_limit=1, schedule=Cron(
            os.environ.get("IAG_DIGEST_CRON", "0 7 * * *"), timezone="Europe/London"))),
        # No schedule: Prefect's automation (a deployment trigger, created and re-created with the deployment)
        # runs it when any flow run fails or crashes twice.
        (tell_run_failing, dict(name="tell-run-failing", tags=HOUSEKEEPING, triggers=[run_failing_twice()])),
    ]


def deployments():
    # Always the synchronous builder: Prefect picks the async one (a coroutine) whenever it believes it is inside
    # an async context, e.g. when a run context is still set in the same process.
    return [flow.to_deployment(_sync=True, **options) for flow, options in served()]


def wait_for_prefect(timeout: float = 120) -> None:
    """The local stack starts this process beside the Prefect server, so the imports overlap its start-up."""
    import time
    import urllib.request

    from prefect.settings import PREFECT_API_URL

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # a local URL: no proxy
    deadline = time.monotonic() + timeout
    while True:
        try:
            with opener.open(f"{PREFECT_API_URL.value()}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:  # not listening yet (URLError is an OSError)
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the Prefect server at {PREFECT_API_URL.value()} did not answer within {timeout:.0f} s")
        time.sleep(0.3)


def serve_all(limit: int) -> None:
    """As prefect.serve(*deployments()), but each deployment added with its flow object (Runner.add_flow): the
    runner then starts a run by handing that flow to a child process (run_flow_in_subprocess) instead of a
    `python -m prefect.engine` that finds and imports the flow again."""
    wait_for_prefect()
    try:  # the Runs page's views by tag (docs/operators.md); serving runs matters more than a view
        from prefect.settings import PREFECT_API_URL

        from flows.saved_views import save_views

        save_views(PREFECT_API_URL.value())
    except Exception as error:  # noqa: BLE001
        logging.getLogger(__name__).warning("saved views of the Prefect UI not saved: %s", error)
    runner = Runner(limit=limit)
    for flow, options in served():
        runner.add_flow(flow, **options)
    try:
        asyncio.run(runner.start())
    except (KeyboardInterrupt, TerminationSignal):  # Ctrl-C or `make down`: the runner has stopped its runs
        pass


if __name__ == "__main__":
    configure_logging()  # JSON lines from our code and libraries; Prefect's own loggers keep their handlers
    if os.environ.get("IAG_FLOW_RUN_START", "fork") == "fork":  # "spawn": Prefect's own, a new interpreter per run
        from flows.warm_start import install

        install()
    serve_all(limit=int(os.environ.get("IAG_FLOW_RUN_LIMIT", "6")))
