import json
import re

import pytest

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.applications import ApplicationItem, EqualityItem
from chalicelib.adapters.dynamodb.base import Item, OutboxItem
from tests.conftest import send_announced, sent_emails
from tests.factories import DELETE, application_payload, post_json

EQUALITY = {"ethnicity": "mixed", "religion": "buddhist", "sexual_orientation": "bisexual", "disability": "yes"}


def submit(api, payload=None, force="derbyshire", headers=None):
    return post_json(api, f"/forces/{force}/applications", payload or application_payload(), headers)


def submit_and_confirm(api, payload=None, force="derbyshire", headers=None):
    """Submit, then what the run's first pass does: send the confirmation the request announced."""
    response = submit(api, payload, force, headers)
    send_announced(force, response.json_body["reference"])
    return response


def test_an_eligible_application_is_accepted_for_review_with_a_reference_and_location(api):
    response = submit(api)
    assert response.status_code == 201
    body = response.json_body
    assert body["status"] == "awaiting_review" and body["reasons"] == []
    assert response.headers["Location"] == f"/forces/derbyshire/applications/{body['reference']}"
    status = api.http.get(response.headers["Location"])
    assert status.status_code == 200 and status.json_body["status"] == "awaiting_review"


def test_an_ineligible_application_is_stored_and_answered_with_every_reason(api):
    payload = application_payload(applicant={"date_of_birth": "2010-01-01", "postcode": "M1 1AE"})
    response = submit(api, payload)
    assert response.status_code == 201
    body = response.json_body
    assert body["status"] == "ineligible"
    assert [r["code"] for r in body["reasons"]] == ["under_minimum_age", "outside_force_area"]
    assert all(r["message"] for r in body["reasons"])
    assert api.http.get(response.headers["Location"]).json_body["status"] == "ineligible"


def test_an_ineligible_application_starts_no_flow_run_and_an_eligible_one_starts_one(api, workflow):
    submit(api, application_payload(applicant={"date_of_birth": "2010-01-01", "email": "young@example.org"}))
    assert workflow.started == []  # it has ended: a run would be a process (an ECS task in AWS) with nothing to do
    eligible = submit(api, application_payload()).json_body["reference"]
    assert [run["name"] for run in workflow.started] == [eligible]


def test_every_schema_violation_is_listed_with_its_json_pointer(api):
    payload = application_payload(applicant={"email": "not-an-email", "postcode": "nowhere", "given_name": DELETE},
                                  statements={"motivation": "   "}, consent={"privacy_notice": False},
                                  favourite_colour="blue")
    response = submit(api, payload)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    errors = {e["pointer"]: e["detail"] for e in response.json_body["errors"]}
    assert set(errors) == {"/applicant/email", "/applicant/postcode", "/applicant/given_name",
                           "/statements/motivation", "/consent/privacy_notice", "/favourite_colour"}
    assert errors["/applicant/given_name"] == "Enter your first name"
    assert errors["/applicant/postcode"] == "Enter a full UK postcode, like DE5 3RS"


def test_someone_who_only_works_in_the_area_must_give_the_workplace_postcode(api):
    response = submit(api, application_payload(connection_to_area="works"))
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json_body["errors"]] == ["/work_postcode"]


def test_a_date_of_birth_in_the_future_is_an_error_not_an_age(api):
    response = submit(api, application_payload(applicant={"date_of_birth": "2030-01-01"}))
    assert response.status_code == 422
    assert response.json_body["errors"] == [{"pointer": "/applicant/date_of_birth",
                                             "detail": "Date of birth must be in the past"}]


def test_an_invalid_application_changes_nothing(api):
    submit(api, application_payload(applicant={"email": "bad"}))
    assert list(Item.scan()) == []  # test-only scan of the whole table


@pytest.mark.parametrize("force, group, problem_type", [
    ("atlantis", "derbyshire-iag", "unknown-force"),
    ("derbyshire", "no-such-group", "unknown-group"),
])
def test_an_unknown_force_or_group_is_404(api, force, group, problem_type):
    response = submit(api, application_payload(group=group), force=force)
    assert response.status_code == 404
    assert response.json_body["type"] == f"/problems/{problem_type}"


def test_a_body_that_is_not_json_is_415(api):
    response = api.http.post("/forces/derbyshire/applications", body="group=derbyshire-iag",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415
    assert response.json_body["type"] == "/problems/unsupported-media-type"


def test_json_that_does_not_parse_is_400(api):
    response = api.http.post("/forces/derbyshire/applications", body="{not json",
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json_body["type"] == "/problems/malformed-json"


def test_a_body_over_64_kb_is_413_and_stores_nothing(api):
    payload = application_payload(accessibility={"needs": "x" * 70_000})
    response = submit(api, payload)
    assert response.status_code == 413
    assert list(Item.scan()) == []


def test_a_body_just_under_64_kb_is_judged_on_its_content(api):
    payload = application_payload()
    filler = 64 * 1024 - len(json.dumps(payload)) - 40
    payload["statements"]["motivation"] = "y" * filler
    response = submit(api, payload)
    assert response.status_code == 422  # statements are capped at 5000 characters, not refused as too large
    assert [e["pointer"] for e in response.json_body["errors"]] == ["/statements/motivation"]


def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer_and_stores_one_application(api):
    first = submit(api, headers={"Idempotency-Key": "retry-123"})
    second = submit(api, headers={"Idempotency-Key": "retry-123"})
    assert first.status_code == second.status_code == 201
    assert second.json_body == first.json_body
    assert second.headers["Location"] == first.headers["Location"]
    assert sum(1 for i in Item.scan() if isinstance(i, ApplicationItem)) == 1


def test_the_same_idempotency_key_with_a_different_application_is_refused(api):
    submit(api, headers={"Idempotency-Key": "k1"})
    other = application_payload(applicant={"email": "someone@example.org"})
    response = submit(api, other, headers={"Idempotency-Key": "k1"})
    assert response.status_code == 422
    assert response.json_body["type"] == "/problems/idempotency-key-reused"


def test_a_repeated_address_gets_the_same_answer_as_a_new_one_and_its_owner_is_told_by_email(api):
    """Issue 14: the answer to a repeat must not confirm that an address has applied to the group."""
    first = submit(api)
    fresh = submit(api, application_payload(applicant={"email": "someone.new@example.org"}))
    again = submit(api, application_payload(applicant={"email": "AMIRA.KHAN@example.org"}))

    def shape(response):
        body = dict(response.json_body)
        return (response.status_code, sorted(response.headers), sorted(body),
                {k: v for k, v in body.items() if k not in ("reference", "submitted_at", "links")})
    assert shape(again) == shape(fresh) == shape(first)
    assert again.json_body["reference"] != first.json_body["reference"]
    assert not [m for m in sent_emails() if again.json_body["reference"] in m.subject]  # the request sends none
    send_announced("derbyshire", again.json_body["reference"])  # the application's run sends the confirmation
    told = [m for m in sent_emails() if again.json_body["reference"] in m.subject]
    assert told and told[-1].destinations["ToAddresses"] == ["AMIRA.KHAN@example.org"]
    assert first.json_body["reference"] in told[-1].body  # only the address's owner learns of the earlier one
    repeat = bootstrap.container().repository.get("derbyshire", again.json_body["reference"])
    assert any(first.json_body["reference"] in note for note in repeat.eligibility["panel_notes"])


def test_the_same_person_may_apply_to_two_different_groups(api):
    first = submit(api, application_payload(group="bristol", applicant={"postcode": "BS1 4DJ"}),
                   force="avon-and-somerset")
    second = submit(api, application_payload(group="lgbtq-plus", applicant={"postcode": "BS1 4DJ"},
                                             group_requirements_met=["lgbtq-lived-experience"]),
                    force="avon-and-somerset")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json_body["status"] == "awaiting_review"


def test_equality_answers_are_never_returned_and_are_stored_apart(api):
    response = submit(api, application_payload(equality_monitoring=EQUALITY))
    assert response.status_code == 201
    for body in (response.body, api.http.get(response.headers["Location"]).body):
        text = body.decode()
        assert "equality" not in text and not any(v in text for v in ("buddhist", "bisexual", "mixed"))
    stored = [i for i in Item.scan() if isinstance(i, EqualityItem)]
    assert len(stored) == 1 and stored[0].answers.as_dict() == EQUALITY


def test_an_application_status_for_an_unknown_or_malformed_reference_is_404(api):
    assert api.http.get("/forces/derbyshire/applications/DBY-2026-ZZZZZZZZ").status_code == 404
    assert api.http.get("/forces/derbyshire/applications/..%2F..%2Fx").status_code == 404


def test_the_request_sends_no_email_it_announces_the_confirmation_for_the_run_to_send(api):
    body = submit(api).json_body
    assert sent_emails() == []
    [outbox] = [i for i in Item.scan() if isinstance(i, OutboxItem)]
    assert (outbox.kind, outbox.status) == ("received", "pending")
    send_announced("derbyshire", body["reference"])
    send_announced("derbyshire", body["reference"])  # a resumed run or reconciliation sends nothing more
    assert len(sent_emails()) == 1


def test_the_confirmations_withdraw_link_works(api):
    body = submit_and_confirm(api).json_body
    [email] = sent_emails()
    token = re.search(r'/withdraw/([A-Za-z0-9_-]+)"', email.body).group(1)
    page = api.http.get(f"/withdraw/{token}")
    assert page.status_code == 200 and body["reference"] in page.body.decode()


def test_the_applicant_is_emailed_a_confirmation_with_the_reference_and_what_happens_next(api):
    body = submit_and_confirm(api).json_body
    [email] = sent_emails()
    assert email.destinations["ToAddresses"] == ["amira.khan@example.org"]
    assert body["reference"] in email.subject and body["reference"] in email.body
    assert "the IAG Chair and the IAG Police Coordinator" in email.body
    pending = [i for i in Item.scan() if isinstance(i, OutboxItem)]
    assert [(i.kind, i.status) for i in pending] == [("received", "sent")]


def test_an_ineligible_applicant_is_told_every_reason_kindly_by_email(api):
    submit_and_confirm(api, application_payload(applicant={"date_of_birth": "2010-01-01"}))
    [email] = sent_emails()
    assert "You must be 18 or over" in email.body and "welcome to apply again" in email.body


def test_a_retried_submission_sends_no_second_email(api):
    submit_and_confirm(api, headers={"Idempotency-Key": "once"})
    submit_and_confirm(api, headers={"Idempotency-Key": "once"})
    assert len(sent_emails()) == 1


def test_when_email_fails_the_application_is_kept_and_the_email_stays_pending(api):
    class BrokenMailer:
        def send(self, message):
            raise ConnectionError("SES unreachable")

    bootstrap.override(mailer=BrokenMailer())
    response = submit(api)
    with pytest.raises(ConnectionError):
        send_announced("derbyshire", response.json_body["reference"])
    assert response.status_code == 201
    assert api.http.get(response.headers["Location"]).json_body["status"] == "awaiting_review"
    [outbox] = [i for i in Item.scan() if isinstance(i, OutboxItem)]
    assert outbox.status == "pending" and outbox.gsi1pk == "FORCE#derbyshire#OUTBOX#PENDING"


def test_markup_typed_into_an_application_is_never_repeated_in_the_email(api):
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    submit_and_confirm(api, application_payload(applicant={"given_name": attack}))
    [email] = sent_emails()
    assert "script" not in email.body and "<img" not in email.body and "onerror" not in email.body
    assert "<p>Hello,</p>" in email.body


def test_a_lure_typed_as_a_name_is_not_repeated_to_whoever_owns_the_address(api):
    submit_and_confirm(api, application_payload(applicant={"given_name": "Claim your refund at evil.example now"}))
    [email] = sent_emails()
    assert "evil.example" not in email.body and "refund" not in email.body and "<p>Hello,</p>" in email.body


def test_a_real_name_is_greeted(api):
    submit_and_confirm(api, application_payload(applicant={"given_name": "Siân"}))
    [email] = sent_emails()
    assert "<p>Dear Siân,</p>" in email.body


def test_each_application_starts_one_review_run_named_by_its_reference_and_tagged(api, workflow):
    reference = submit(api, headers={"Idempotency-Key": "one-run"}).json_body["reference"]
    submit(api, headers={"Idempotency-Key": "one-run"})
    assert workflow.started == [{"deployment": "review-application/review-application", "name": reference,
                                 "parameters": {"force_id": "derbyshire", "reference": reference},
                                 "tags": ["force:derbyshire", "group:derbyshire-iag"]}]


def test_an_application_is_kept_when_prefect_cannot_be_reached(api):
    from chalicelib.adapters.prefect_gateway import PrefectGateway

    bootstrap.override(workflow=PrefectGateway("http://127.0.0.1:9/api", timeout=1))
    response = submit(api)
    assert response.status_code == 201
    assert api.http.get(response.headers["Location"]).json_body["status"] == "awaiting_review"


def test_an_ineligible_application_has_no_run_so_reconciliations_next_pass_sends_its_confirmation(api, clock,
                                                                                                   workflow):
    from datetime import timedelta

    submit(api, application_payload(applicant={"date_of_birth": "2010-01-01"}))
    submit(api, application_payload(applicant={"email": "eligible@example.org"}))
    assert len(workflow.started) == 1 and sent_emails() == []  # the eligible one's run; nothing sent in a request
    # The next pass, a minute later: not after the grace given to a run that owes its emails (5 minutes). An
    # eligible application's confirmation is its run's to send, so the pass leaves it.
    clock.moment += timedelta(minutes=1)
    assert bootstrap.container().review.reconcile("derbyshire")["emails"] == 1
    [email] = sent_emails()
    assert "You must be 18 or over" in email.body and "/withdraw/" not in email.body
