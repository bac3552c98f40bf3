"""The review service in process (moto, a fake Prefect, a movable clock): what the flow does each time it wakes."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.review import DynamoReviewStore
from chalicelib.domain.links import Purpose
from chalicelib.services.review import LinkRefused
from tests.conftest import sent_emails
from tests.factories import application_payload, post_json
from tests.services.review_panel import PANEL, applied, links_to, press

def test_a_decision_made_while_prefect_is_down_is_kept_and_delivered_by_reconciliation(api, review, workflow):
    reference = applied(api)
    assert review.advance("derbyshire", reference).wait_key
    workflow.resume = lambda run_id, run_input: False  # Prefect unreachable, or the run not waiting yet
    assert press(api, links_to(PANEL["iag_chair"])[0], decision="approve").status_code == 200
    assert DynamoReviewStore().undelivered("derbyshire") == [reference]
    del workflow.resume  # Prefect is back
    assert review.reconcile("derbyshire")["woken"] == 1
    assert workflow.resumed == [(f"run-{reference}", {"reason": "reconcile"})]
    assert DynamoReviewStore().undelivered("derbyshire") == []


@pytest.mark.parametrize("queued", ["SCHEDULED", "PENDING"])
def test_a_decision_for_a_run_queued_to_start_its_next_pass_is_delivered_without_waiting(api, review, workflow,
                                                                                         monkeypatch, queued):
    # Resumed by the other panel member's decision, the run waits for a runner; its next pass reads this decision.
    reference = applied(api)
    assert review.advance("derbyshire", reference).wait_key
    workflow.resume = lambda run_id, run_input: False
    workflow.states[f"run-{reference}"] = (queued, 1.0)
    pauses = []
    monkeypatch.setattr("chalicelib.services.review.time.sleep", pauses.append)
    assert press(api, links_to(PANEL["iag_chair"])[0], decision="approve").status_code == 200
    assert pauses == []
    assert DynamoReviewStore().undelivered("derbyshire") == []


def test_a_decision_for_a_run_mid_pass_is_retried_then_left_to_reconciliation(api, review, workflow, monkeypatch):
    reference = applied(api)
    assert review.advance("derbyshire", reference).wait_key
    workflow.resume = lambda run_id, run_input: False
    workflow.states[f"run-{reference}"] = ("RUNNING", 1.0)
    pauses = []
    monkeypatch.setattr("chalicelib.services.review.time.sleep", pauses.append)
    assert press(api, links_to(PANEL["iag_chair"])[0], decision="approve").status_code == 200
    assert len(pauses) == 12
    assert DynamoReviewStore().undelivered("derbyshire") == [reference]


def test_reconciliation_starts_a_run_prefect_never_created(api, review, workflow):
    reference = applied(api)
    workflow.started.clear()  # as if the create call had failed, leaving no trace: the daily full pass finds it
    assert review.reconcile("derbyshire", full=True)["started"] == 1
    assert [run["name"] for run in workflow.started] == [reference]


def test_silent_reviewers_are_reminded_once_then_the_coordinator_is_told_once(api, review, clock):
    reference = applied(api)
    review.advance("derbyshire", reference)
    assert press(api, links_to(PANEL["iag_chair"])[0], decision="approve").status_code == 200
    review.advance("derbyshire", reference)
    assert review.remind("derbyshire") == {"reminded": 0, "escalated": 0}  # not yet due
    clock.moment += timedelta(days=7)
    assert review.remind("derbyshire") == {"reminded": 1, "escalated": 0}
    assert review.remind("derbyshire") == {"reminded": 0, "escalated": 0}
    reminder = [m for m in sent_emails() if m.subject.startswith("Reminder:")]
    assert [m.destinations["ToAddresses"] for m in reminder] == [[PANEL["police_coordinator"]]]
    clock.moment += timedelta(days=14)
    assert review.remind("derbyshire")["escalated"] == 1
    assert review.remind("derbyshire")["escalated"] == 0
    [escalation] = [m for m in sent_emails() if m.subject.startswith("Review overdue")]
    assert escalation.destinations["ToAddresses"] == ["helen.ham@derbyshire.police.uk"]
    assert "police coordinator" in escalation.body.lower()


def test_a_request_for_discussion_invites_the_applicant_and_asks_the_panel_again_with_new_links(api, review):
    reference = applied(api)
    review.advance("derbyshire", reference)
    first_chair_link = links_to(PANEL["iag_chair"])[0]
    assert press(api, first_chair_link, decision="discuss", note="Time+for+evening+meetings").status_code == 200
    step = review.advance("derbyshire", reference)
    assert step.stage == "discussion_requested" and not step.done
    [invitation] = [m for m in sent_emails() if m.subject.startswith("An invitation to an informal discussion")]
    assert "Time for evening meetings" in invitation.body
    assert len(links_to(PANEL["iag_chair"])) == 2  # a fresh link for the new round
    assert press(api, first_chair_link, decision="approve").status_code == 409  # the old one is superseded
    for address in PANEL.values():
        assert press(api, links_to(address)[-1], decision="approve").status_code == 200
    assert review.advance("derbyshire", reference).stage == "offered"  # no screening in Derbyshire


def test_an_expired_or_tampered_link_shows_a_clear_page_and_changes_nothing(api, review, clock):
    reference = applied(api)
    review.advance("derbyshire", reference)
    token = links_to(PANEL["iag_chair"])[0]
    assert api.http.get(f"/review/{token[:-2]}xx").status_code == 404
    assert api.http.get("/review/not-a-token").status_code == 404
    clock.moment += timedelta(days=15)
    page = api.http.get(f"/review/{token}")
    assert page.status_code == 410 and "expired" in page.body.decode()
    assert press(api, token, decision="approve").status_code == 410
    with pytest.raises(LinkRefused):
        review.open_link(token, Purpose.REVIEW)
    assert bootstrap.container().repository.get("derbyshire", reference).stage.value == "awaiting_review"


def test_the_review_page_never_shows_equality_answers(api, review):
    response = post_json(api, "/forces/derbyshire/applications", application_payload(
        equality_monitoring={"religion": "buddhist", "sexual_orientation": "bisexual"}))
    review.advance("derbyshire", response.json_body["reference"])
    page = api.http.get(f"/review/{links_to(PANEL['iag_chair'])[0]}").body.decode()
    assert "Amira" in page and "buddhist" not in page.lower() and "bisexual" not in page.lower()


def test_a_redirected_person_may_apply_again_to_the_first_group_and_a_second_to_the_second_is_a_marked_repeat(api):
    store = DynamoReviewStore()
    for group in ("bristol", "north-somerset"):
        for role in ("iag_chair", "police_coordinator"):
            store.put_reviewer("avon-and-somerset", group, role, role, f"{role}.{group}@avon.example")
    payload = application_payload(group="bristol", applicant={"postcode": "BS1 4DJ", "email": "moved@example.org"})
    reference = post_json(api, "/forces/avon-and-somerset/applications", payload).json_body["reference"]
    review = bootstrap.container().review
    review.advance("avon-and-somerset", reference)
    for role in ("iag_chair", "police_coordinator"):
        [token] = links_to(f"{role}.bristol@avon.example")
        assert press(api, token, decision="redirect", target_group="north-somerset").status_code == 200
    review.advance("avon-and-somerset", reference)
    assert bootstrap.container().repository.get("avon-and-somerset", reference).group_id == "north-somerset"
    twice = post_json(api, "/forces/avon-and-somerset/applications", application_payload(
        group="north-somerset", applicant={"postcode": "BS1 4DJ", "email": "moved@example.org"}))
    # Answered like any application, so the answer never says an address has applied (docs/security.md);
    # the panel sees it is a repeat of the redirected one.
    assert twice.status_code == 201
    repeat = bootstrap.container().repository.get("avon-and-somerset", twice.json_body["reference"])
    assert repeat.eligibility["repeat_of"] == reference
    again = post_json(api, "/forces/avon-and-somerset/applications", payload)
    assert again.status_code == 201, again.json_body
