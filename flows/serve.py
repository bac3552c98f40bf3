"""Serve every flow as a deployment (suspend works only for deployment runs): `python -m flows.serve`.

Schedules are settings so the local stack can reconcile every minute while
production does it less often: IAG_RECONCILE_SECONDS, IAG_REMINDER_CRON, IAG_REPORT_SECONDS (hourly).
Each run is a process of its own: IAG_FLOW_RUN_LIMIT (6) caps how many run at once
(unbounded, a campaign surge of 200 started 71 processes and 7.7 GB on 2 cores).
"""
from __future__ import annotations

import os

from prefect import serve
from prefect.schedules import Cron, Interval

from chalicelib.adapters.logs import configure_logging
from flows.callouts import critical_incident
from flows.strategic import strategic_iag
from flows.housekeeping import reconcile_reviews, review_reminders
from flows.member_life import member_life
from flows.reports import recruitment_report
from flows.retention import retention
from flows.review import review_application


def _deployment(flow, **options):
    # Always the synchronous builder: Prefect picks the async one (a coroutine) whenever it believes it is inside
    # an async context, e.g. when a run context is still set in the same process.
    return flow.to_deployment(_sync=True, **options)


def deployments():
    return [
        _deployment(review_application, name="review-application", tags=["iag"]),
        _deployment(critical_incident, name="critical-incident", tags=["iag"]),
        # Cycles open on 1 January and 1 July for the spring and autumn meetings; open ones move on hourly.
        _deployment(strategic_iag, name="strategic-iag", tags=["iag"], schedules=[
            Cron(os.environ.get("IAG_STRATEGIC_CRON", "0 9 1 1,7 *"), timezone="Europe/London",
                 parameters={"start": True}),
            Cron("15 * * * *", timezone="Europe/London")]),
        # One at a time: under a surge a pass can outlast its interval, and overlapping passes took run slots.
        # Frequent passes follow the traces due work leaves; the daily full one also checks every live application.
        _deployment(reconcile_reviews, name="reconcile-reviews", tags=["iag"], concurrency_limit=1, schedules=[
            Interval(int(os.environ.get("IAG_RECONCILE_SECONDS", "300"))),
            Cron("40 3 * * *", timezone="Europe/London", parameters={"full": True})]),
        _deployment(review_reminders, name="review-reminders", tags=["iag"], concurrency_limit=1, schedule=Cron(
            os.environ.get("IAG_REMINDER_CRON", "0 8 * * *"), timezone="Europe/London")),
        # After review-reminders (08:00), which plans the meetings this pass sends papers for.
        _deployment(member_life, name="member-life", tags=["iag"], concurrency_limit=1, schedule=Cron(
            os.environ.get("IAG_MEMBER_LIFE_CRON", "30 8 * * *"), timezone="Europe/London")),
        _deployment(recruitment_report, name="recruitment-report", tags=["iag"], concurrency_limit=1,
                                         interval=int(os.environ.get("IAG_REPORT_SECONDS", "3600"))),
        _deployment(retention, name="retention", tags=["iag"], concurrency_limit=1,
                                schedule=Cron("30 2 * * *", timezone="Europe/London")),
    ]


if __name__ == "__main__":
    configure_logging()  # JSON lines from our code and libraries; Prefect's own loggers keep their handlers
    serve(*deployments(), limit=int(os.environ.get("IAG_FLOW_RUN_LIMIT", "6")))
