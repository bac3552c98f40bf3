"""The `reconcile-reviews` flow on a Prefect test server, moto as AWS and a fake Prefect for the runs it manages:
the frequent pass follows traces only, the daily full pass (its `full` parameter) also checks every live application."""
from __future__ import annotations

from tests.services.review_panel import applied


def test_the_frequent_pass_leaves_a_traceless_missing_run_to_the_daily_full_pass(prefect_server, api, workflow):
    from flows.housekeeping import reconcile_reviews

    reference = applied(api)
    workflow.started.clear()  # the request died between its write and creating the run: no trace

    frequent = reconcile_reviews()
    assert set(frequent) == {"avon-and-somerset", "derbyshire", "greater-manchester", "northamptonshire",
                             "thames-valley"}
    assert frequent["derbyshire"]["review"]["started"] == 0

    assert reconcile_reviews(full=True)["derbyshire"]["review"]["started"] == 1
    assert [run["name"] for run in workflow.started] == [reference]
