"""Reports on the moto table: applications moved through real transitions, equality records stored with them,
counts left by the retention sweep; the figures a coordinator would see."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.applications import DynamoApplicationRepository
from chalicelib.adapters.dynamodb.reports import counts_pk
from chalicelib.domain.application import Application, AuditEvent, apply
from chalicelib.domain.equality_report import MIN_ANSWERS_PER_PERIOD
from chalicelib.domain.lifecycle import Action, Stage
from chalicelib.services.intake import UnknownForce
from chalicelib.services.reports import UnknownPeriod
from chalicelib.services.ports import EqualityRecord

A = Action
FORCE = "avon-and-somerset"
NOW = datetime(2026, 11, 22, 10, 30, tzinfo=timezone.utc)


@pytest.fixture
def reports(table, clock):
    bootstrap.reset()
    bootstrap.override(clock=clock)
    yield bootstrap.container().reports
    bootstrap.reset()


def store(n: int, group: str, actions: tuple[Action, ...] = (), *, days_ago: int = 3, equality: dict | None = None,
          new_group: str | None = None) -> None:
    """One application submitted `days_ago`, eligible, then moved by `actions` (each a stored transition)."""
    repository = DynamoApplicationRepository()
    at = NOW - timedelta(days=days_ago)
    reference = f"AS-2026-{group[:4].upper()}{n:04d}"
    submitted = Application(reference=reference, force_id=FORCE, group_id=group, stage=Stage.SUBMITTED,
                            submitted_at=at, updated_at=at,
                            applicant={"given_name": "Sam", "family_name": f"Person{n}",
                                       "email": f"p{n}.{group}@example.org"},
                            answers={}, eligibility={"reasons": []})
    first = AuditEvent(reference, at, "submit", None, Stage.SUBMITTED, "applicant")
    action = A.FAIL_ELIGIBILITY if actions[:1] == (A.FAIL_ELIGIBILITY,) else A.PASS_ELIGIBILITY
    application, assessed = apply(submitted, action, at=at, actor="system")
    record = EqualityRecord(FORCE, group, reference, equality, at) if equality is not None else None
    application = repository.add(application, [first, assessed], equality=record, idempotency=None)
    for step, later in enumerate(a for a in actions if a is not A.FAIL_ELIGIBILITY):
        moved, event = apply(application, later, at=at + timedelta(hours=step + 1), actor="system")
        if later is A.REDIRECT and new_group:
            from dataclasses import replace
            moved = replace(moved, group_id=new_group)
        application = repository.save_transition(moved, event)


def deleted(group: str, actions: tuple[Action, ...], count: int) -> None:
    """`count` applications moved by `actions`, then deleted by the retention sweep's own write."""
    from chalicelib.adapters.dynamodb.data_protection import DynamoDataProtection

    for n in range(900, 900 + count):
        store(n, group, actions)
        stored = DynamoApplicationRepository().get(FORCE, f"AS-2026-{group[:4].upper()}{n:04d}")
        assert DynamoDataProtection().delete_application(FORCE, stored.reference, stored.stage, stored.version)


MEMBER = (A.APPROVE, A.MAKE_OFFER, A.ACCEPT_OFFER, A.COMPLETE_ONBOARDING)
SCREENED_MEMBER = (A.APPROVE, A.START_SCREENING, A.CLEAR_SCREENING, A.ACCEPT_OFFER, A.COMPLETE_ONBOARDING)


def test_the_funnel_counts_each_step_and_exit_a_coordinator_sees_for_bristol(reports):
    for n, days in enumerate((2, 9, 30)):
        store(n, "bristol", days_ago=days)  # awaiting review
    store(3, "bristol", (A.REQUEST_DISCUSSION,), days_ago=12)
    store(4, "bristol", (A.FAIL_ELIGIBILITY,))
    store(5, "bristol", MEMBER)
    store(6, "bristol", (A.APPROVE, A.MAKE_OFFER, A.DECLINE_OFFER))  # withdrawn after the offer
    store(7, "bristol", (A.REJECT, A.EXPIRE))  # the appeal window closed
    store(8, "bristol", (A.REJECT, A.LODGE_APPEAL, A.UPHOLD_APPEAL, A.MAKE_OFFER))
    deleted("bristol", (A.WITHDRAW,), 2)

    bristol = reports.funnel(FORCE).group("bristol")

    assert bristol.steps == {"applied": 11, "eligible": 10, "reviewed": 4, "approved": 3, "screened": None,
                             "offered": 3, "members": 1}
    assert bristol.exits == {"ineligible": 1, "rejected": 1, "withdrawn": 3, "expired": 0, "redirected": 0,
                             "appeals_lodged": 1, "appeals_upheld": 1, "appeals_dismissed": 0}
    assert bristol.now["awaiting_review"] == 3 and bristol.now["withdrawn"] == 3 and bristol.deleted == 2


@pytest.fixture
def dynamodb_reads(monkeypatch):
    from botocore.client import BaseClient

    sent: list[tuple[str, dict]] = []
    original = BaseClient._make_api_call

    def recording(client, operation, params):
        sent.append((operation, params))
        return original(client, operation, params)
    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return sent


def test_the_funnel_reads_one_item_a_group_however_many_applications_there_are(reports, dynamodb_reads):
    """Issue 17 point 3: counters kept by every move, not every application's events (320 Queries for 200)."""
    store(1, "bristol", MEMBER)
    reports.funnel(FORCE)  # the force's role holders are read once, then kept
    dynamodb_reads.clear()
    before = reports.funnel(FORCE)
    few = list(dynamodb_reads)
    for n in range(2, 14):
        store(n, ("bristol", "youth", "counter-terrorism")[n % 3], ((), MEMBER, (A.REJECT,))[n % 3])
    dynamodb_reads.clear()
    after = reports.funnel(FORCE)
    assert [o for o, _ in dynamodb_reads] == [o for o, _ in few] == ["Query"]  # the counts partition, once
    assert after.total.steps["applied"] == before.total.steps["applied"] + 12 == 13


def test_a_coordinators_funnel_and_queue_read_only_their_group(reports, dynamodb_reads):
    store(1, "bristol", MEMBER)
    store(2, "youth", ())
    reports.funnel(FORCE, "bristol")  # the force's role holders are read once, then kept
    dynamodb_reads.clear()
    bristol = reports.funnel(FORCE, "bristol")
    assert [(o, p["Key"]["SK"]["S"]) for o, p in dynamodb_reads] == [("GetItem", "FUNNEL#bristol")]
    assert [g.group_id for g in bristol.groups] == ["bristol"] and bristol.group("bristol").steps["members"] == 1
    dynamodb_reads.clear()
    reports.queues(FORCE, "bristol")
    assert all("#GROUP#bristol#" in p["ExpressionAttributeValues"][":0"]["S"] for _, p in dynamodb_reads)


def test_screening_is_a_step_only_where_the_profile_requires_it(reports):
    store(1, "counter-terrorism", SCREENED_MEMBER)
    store(2, "counter-terrorism", (A.APPROVE, A.START_SCREENING))
    result = reports.funnel(FORCE)
    assert result.group("counter-terrorism").steps["screened"] == 1
    assert result.group("bristol").steps["screened"] is None
    assert result.total.steps["screened"] == 1 and result.total.steps["members"] == 1


def test_a_redirected_application_counts_in_the_group_it_was_sent_to(reports):
    store(1, "bristol", (A.REDIRECT, A.JOIN_NEW_PANEL), new_group="youth")
    result = reports.funnel(FORCE)
    assert result.group("youth").exits["redirected"] == 1 and result.group("youth").now == {"awaiting_review": 1}
    assert result.group("bristol").steps["applied"] == 0 and result.total.steps["applied"] == 1


def test_review_queues_show_how_many_wait_and_for_how_long(reports):
    for n, days in enumerate((2, 9, 30)):
        store(n, "bristol", days_ago=days)
    store(3, "bristol", (A.REQUEST_DISCUSSION,), days_ago=12)
    store(4, "somerset", days_ago=5)
    store(5, "somerset", (A.APPROVE,), days_ago=40)  # decided: not in the queue

    queues = reports.queues(FORCE)

    bristol = queues.group("bristol")
    assert (bristol.awaiting_review, bristol.in_discussion) == (3, 1)
    assert (bristol.oldest_days, bristol.median_days) == (30, 10.5)
    assert queues.group("somerset").waiting == 1 and queues.group("youth").oldest_days is None
    assert queues.total.waiting == 5 and queues.total.oldest_days == 30


LAST_QUARTER = 60  # days before NOW (22 November 2026): in July to September 2026, a period that has ended


def test_the_equality_report_counts_answers_per_group_and_hides_small_ones(reports):
    for n in range(12):
        store(n, "bristol", equality={"ethnicity": "white" if n < 7 else "black", "sex": "female"},
              days_ago=LAST_QUARTER)
    for n in range(3):
        store(20 + n, "youth", equality={"ethnicity": "asian", "sex": "male"}, days_ago=LAST_QUARTER)

    report = reports.equality(FORCE)
    assert report.period.id == "2026-Q3" and report.published

    ethnicity = report.question("ethnicity")
    youth = ethnicity.row("youth")
    assert youth.total == 3 and all(c.count is None for c in youth.cells)
    assert ethnicity.has_population and report.population.area.startswith("England and Wales")
    everyone = ethnicity.row("all")
    assert everyone.total == 15
    white = next(c for c in everyone.cells if c.category == "white")
    assert (white.count, white.percent, white.population_percent) == (7, 46.7, 81.7)
    # Bristol's 7 and 5 would give youth's 0s away down each column (force-wide 7 and 5): hidden too.
    assert [c.count for c in ethnicity.row("bristol").cells] == [None] * 7


def test_reports_hold_counts_only_and_serialise_to_json(reports):
    import json

    store(1, "bristol", equality={"ethnicity": "white"})
    text = json.dumps([reports.equality(FORCE).to_dict(), reports.funnel(FORCE).to_dict(),
                       reports.queues(FORCE).to_dict()])
    assert "Person1" not in text and "example.org" not in text and "AS-2026" not in text


def test_an_unknown_force_has_no_report(reports):
    with pytest.raises(UnknownForce):
        reports.funnel("atlantis")


def test_reports_only_query_and_never_ask_for_applicants_details(reports, monkeypatch):
    from botocore.client import BaseClient

    for n in range(MIN_ANSWERS_PER_PERIOD):
        store(n, "bristol", MEMBER, equality={"ethnicity": "white"}, days_ago=LAST_QUARTER)
    store(20, "bristol", (A.FAIL_ELIGIBILITY,))
    sent = []
    original = BaseClient._make_api_call

    def recording(client, operation, params):
        sent.append((operation, params))
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    reports.funnel(FORCE), reports.queues(FORCE), reports.equality(FORCE)

    # Besides queries, the published equality report is read and (once) kept, in the counts partition.
    assert {operation for operation, _ in sent} == {"Query", "GetItem", "PutItem"}
    assert all(p["Key" if o == "GetItem" else "Item"]["PK"]["S"] == counts_pk(FORCE) for o, p in sent if o != "Query")
    for _, params in (s for s in sent if s[0] == "Query"):
        key = params["ExpressionAttributeValues"][":0"]["S"]
        projected = set(params.get("ExpressionAttributeNames", {}).values()) if "ProjectionExpression" in params \
            else None
        if key == counts_pk(FORCE):
            continue  # the retention sweep's counts: nothing personal in them
        if key == f"FORCE#{FORCE}#PEOPLE":
            continue  # the role holders the force set (staff contacts laid over the profile's), not applicants
        assert params.get("Select") == "COUNT" or projected, params
        if projected:
            assert "applicant" not in projected and "reference" not in projected
            assert "answers" not in projected or key.startswith(f"FORCE#{FORCE}#EQUALITY#GROUP#")


def test_the_equality_report_shows_only_a_period_that_has_ended_and_does_not_move_when_someone_applies(reports):
    """Issue 14: a report rebuilt on every request moves by one when one person applies, and beside the
    application list that tells what they answered. Only ended periods are published."""
    for n in range(12):
        store(n, "bristol", equality={"ethnicity": "white", "sex": "female"}, days_ago=LAST_QUARTER)
    before = reports.equality(FORCE).to_dict()

    store(30, "bristol", equality={"ethnicity": "black", "sex": "male"}, days_ago=1)  # this quarter: still open
    after = reports.equality(FORCE).to_dict()

    assert after == before and after["period"]["id"] == "2026-Q3" and "at least" in after["rule"]
    with pytest.raises(UnknownPeriod):
        reports.equality(FORCE, "2026-Q4")  # the open quarter is never shown
    assert all(p["id"] != "2026-Q4" for p in after["periods"])


def test_a_period_with_too_few_answers_is_withheld_whole(reports):
    for n in range(MIN_ANSWERS_PER_PERIOD - 1):
        store(n, "bristol", equality={"ethnicity": "white"}, days_ago=LAST_QUARTER)

    report = reports.equality(FORCE, "2026-Q3")

    assert not report.published and report.questions == ()
    assert report.to_dict()["questions"] == [] and report.to_dict()["published"] is False


def test_a_published_period_keeps_its_figures_when_answers_are_later_deleted(reports):
    """An erasure (or the retention sweep) deletes one person's answers: a changed figure would tell them."""
    from chalicelib.adapters.dynamodb.applications import EqualityItem

    for n in range(12):
        store(n, "bristol", equality={"ethnicity": "white" if n else "black"}, days_ago=LAST_QUARTER)
    published = reports.equality(FORCE).to_dict()

    for item in EqualityItem.scan():
        item.delete()
    assert reports.equality(FORCE).to_dict() == published


def test_the_backfill_gives_data_stored_before_the_counters_the_same_funnel(reports):
    """The one-off for existing data: applications without `stages_seen` and no counters, as stored before."""
    import boto3

    from chalicelib.adapters.dynamodb.reports import backfill_funnel_counters

    store(1, "bristol", MEMBER)
    store(2, "bristol", (A.REJECT, A.LODGE_APPEAL, A.UPHOLD_APPEAL, A.MAKE_OFFER))
    store(3, "counter-terrorism", SCREENED_MEMBER)
    store(4, "bristol", (A.REDIRECT, A.JOIN_NEW_PANEL), new_group="youth")
    deleted("bristol", (A.WITHDRAW,), 2)
    expected = reports.funnel(FORCE).to_dict()
    client = boto3.client("dynamodb", region_name="eu-west-2")
    for page in client.get_paginator("scan").paginate(TableName="iag-test"):
        for item in page["Items"]:
            key = {"PK": item["PK"], "SK": item["SK"]}
            if item["SK"]["S"].startswith("FUNNEL#"):
                client.delete_item(TableName="iag-test", Key=key)
            elif item["type"]["S"] == "application":
                client.update_item(TableName="iag-test", Key=key, UpdateExpression="REMOVE stages_seen")
    assert reports.funnel(FORCE).total.steps["applied"] == 0

    assert backfill_funnel_counters({FORCE: frozenset({"counter-terrorism"})}) == 3  # bristol, youth, c-t
    assert reports.funnel(FORCE).to_dict() == expected
    assert backfill_funnel_counters({FORCE: frozenset({"counter-terrorism"})}) == 3  # again: the same
    assert reports.funnel(FORCE).to_dict() == expected
