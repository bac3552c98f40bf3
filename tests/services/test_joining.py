"""From the panel's decision to membership, per seed force, in process: moto as AWS, a fake Prefect, a movable
clock. `journey.advance` is what the application's flow run does each time it wakes."""
from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import boto3
import icalendar
import pytest

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.review import DynamoReviewStore
from chalicelib.adapters.s3_documents import S3Documents
from chalicelib.services.joining import APPEAL_PANEL
from tests.api.test_seed_rules import apply_to
from tests.conftest import sent_emails

ROOT = Path(__file__).resolve().parents[2]
LONDON = ZoneInfo("Europe/London")
CT_REQUIREMENTS = ["ct-screening-consent", "ct-community-insight"]


@pytest.fixture
def journey(api):
    """The services with every seed force's reviewers and appeal panel set, and the documents published."""
    settings = bootstrap.container().settings
    documents = S3Documents(settings.documents_bucket, settings.region)
    documents.ensure_bucket()
    documents.publish(ROOT / "infra" / "documents")
    holders = []
    for force in bootstrap.container().forces.all():
        for group in force.groups:
            for role in group.panel:
                holders.append((force.id, group.id, role, role.replace("_", " ").title(),
                                f"{role}.{group.id}@{force.id}.test"))
        for role in force.appeal.panel:
            holders.append((force.id, APPEAL_PANEL, role, role.replace("_", " ").title(),
                            f"{role}.appeal@{force.id}.test"))
    DynamoReviewStore().put_reviewers(holders)  # 80 of them: in batches, not a request each
    return bootstrap.container().review


def to(address: str, path: str) -> list[str]:
    """Tokens of links of one kind (review, offer, agreement...) emailed to an address, oldest first."""
    found = []
    for message in sent_emails():
        if hasattr(message, "raw_data"):
            continue
        if address in message.destinations["ToAddresses"]:
            found += re.findall(rf'/{path}/([A-Za-z0-9_-]+)"', message.body)
    return found


def post(api, path: str, token: str, **fields):
    body = "&".join(f"{k}={v}" for k, v in fields.items())
    return api.http.post(f"/{path}/{token}", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})


def panel_approves(api, journey, force_id: str, reference: str):
    application = bootstrap.container().repository.get(force_id, reference)
    group = bootstrap.container().forces.get(force_id).group(application.group_id)
    journey.advance(force_id, reference)
    for role in group.panel:
        assert post(api, "review", to(f"{role}.{group.id}@{force_id}.test", "review")[-1],
                    decision="approve").status_code == 200
    return journey.advance(force_id, reference)


def stage(force_id: str, reference: str) -> str:
    return bootstrap.container().repository.get(force_id, reference).stage.value


def actions(force_id: str, reference: str) -> set[str]:
    """What happened to the application (the fixed clock gives every event the same time, so no order)."""
    return {e.action for e in bootstrap.container().repository.events(force_id, reference)}


def join(api, journey, force_id: str, reference: str, applicant_email: str):
    """The applicant accepts the offer and signs the agreement."""
    assert post(api, "offer", to(applicant_email, "offer")[-1], answer="accept").status_code == 200
    assert journey.advance(force_id, reference).stage == "onboarding"
    response = post(api, "agreement", to(applicant_email, "agreement")[-1], confirm="yes",
                    signed_name="Amira+Khan")
    assert response.status_code == 200, response.body
    return journey.advance(force_id, reference)


def test_northamptonshire_screens_every_applicant_before_the_offer(api, journey):
    reference = apply_to(api, "northamptonshire").json_body["reference"]
    step = panel_approves(api, journey, "northamptonshire", reference)
    assert step.stage == "offered"
    assert {"approve", "start_screening", "clear_screening"} <= actions("northamptonshire", reference)
    assert "make_offer" not in actions("northamptonshire", reference)  # clearing the check is what makes the offer
    assert to("amira.khan@example.org", "offer")


def test_avon_and_somerset_local_iag_goes_straight_to_the_offer_and_counter_terrorism_is_screened(api, journey):
    local = apply_to(api, "avon-and-somerset").json_body["reference"]
    ct = apply_to(api, "avon-and-somerset", group="counter-terrorism", applicant={"email": "ct@example.org"},
                  group_requirements_met=CT_REQUIREMENTS).json_body["reference"]
    assert panel_approves(api, journey, "avon-and-somerset", local).stage == "offered"
    assert "start_screening" not in actions("avon-and-somerset", local)
    assert panel_approves(api, journey, "avon-and-somerset", ct).stage == "offered"
    assert {"start_screening", "clear_screening"} <= actions("avon-and-somerset", ct)


@pytest.mark.parametrize("force", ["derbyshire", "greater-manchester"])  # Thames Valley: tests/services/test_residency.py
def test_forces_without_screening_make_the_offer_on_approval(api, journey, force):
    reference = apply_to(api, force).json_body["reference"]
    assert panel_approves(api, journey, force, reference).stage == "offered"
    assert "start_screening" not in actions(force, reference)


def test_a_screening_referral_returns_to_the_panel_who_can_still_approve(api, journey):
    applicant = "sam+refer@example.org"
    reference = apply_to(api, "northamptonshire", applicant={"email": applicant}).json_body["reference"]
    step = panel_approves(api, journey, "northamptonshire", reference)
    assert step.stage == "awaiting_review"
    assert {"start_screening", "refer_screening"} <= actions("northamptonshire", reference)
    again = to("iag_chair.northampton@northamptonshire.test", "review")[-1]
    assert "screening was referred back to the panel" in api.http.get(f"/review/{again}").body.decode()
    # The panel is asked again, and approving now leads to the offer without a second check.
    assert panel_approves(api, journey, "northamptonshire", reference).stage == "offered"
    assert "clear_screening" not in actions("northamptonshire", reference)
    events = bootstrap.container().repository.events("northamptonshire", reference)
    assert [e.action for e in events].count("start_screening") == 1


def test_the_vetting_unit_records_the_outcome_through_its_link_when_screening_is_real(api, journey):
    from chalicelib.services.screening import VettingUnitByEmail
    from chalicelib.adapters.templates import render

    bootstrap.override(screening=VettingUnitByEmail(bootstrap.container().mailer, render))
    journey = bootstrap.container().review
    reference = apply_to(api, "northamptonshire").json_body["reference"]
    assert panel_approves(api, journey, "northamptonshire", reference).stage == "screening"
    vetting = "vetting.unit@northamptonshire.police.example"
    [token] = to(vetting, "screening")
    assert journey.advance("northamptonshire", reference).stage == "screening"  # asked once only
    assert len(to(vetting, "screening")) == 1
    future = post(api, "screening", token, outcome="clear", **{"completed-day": "1", "completed-month": "1",
                                                               "completed-year": "2030"})
    assert future.status_code == 422 and stage("northamptonshire", reference) == "screening"
    done = post(api, "screening", token, outcome="clear", **{"completed-day": "22", "completed-month": "11",
                                                             "completed-year": "2026"})
    assert done.status_code == 200
    assert post(api, "screening", token, outcome="refer", **{"completed-day": "22", "completed-month": "11",
                                                             "completed-year": "2026"}).status_code == 409
    assert journey.advance("northamptonshire", reference).stage == "offered"


def test_no_screening_detail_beyond_outcome_level_and_dates_is_stored(api, journey):
    reference = apply_to(api, "northamptonshire", applicant={"email": "sam+refer@example.org"}).json_body["reference"]
    panel_approves(api, journey, "northamptonshire", reference)
    items = boto3.client("dynamodb").scan(TableName=bootstrap.container().settings.table_name)["Items"]
    [screening] = [i for i in items if i["type"]["S"] == "screening"]
    assert set(screening) == {"PK", "SK", "type", "outcome", "level", "completed_on", "expires_on", "ttl",
                              "GSI1PK", "GSI1SK"}
    # The due-date index that retention queries holds the expiry and the item's key, nothing more.
    assert screening["GSI1SK"]["S"] == f"{screening['expires_on']['S']}#{screening['PK']['S']}"
    assert (screening["outcome"]["S"], screening["level"]["S"]) == ("refer", "basic")
    assert screening["expires_on"]["S"] == "2029-11-22"  # Northamptonshire: valid for 36 months
    for item in items:  # the events say what happened, never why
        if item["type"]["S"] == "event" and "screening" in item["action"]["S"]:
            assert set(item.get("detail", {}).get("M", {})) <= {"outcome", "level"}


def test_an_appeal_upheld_returns_the_application_to_the_offer(api, journey):
    reference = apply_to(api, "avon-and-somerset").json_body["reference"]
    journey.advance("avon-and-somerset", reference)
    assert post(api, "review", to("iag_chair.bristol@avon-and-somerset.test", "review")[-1], decision="reject",
                reason="Not+enough+time+for+meetings").status_code == 200
    assert journey.advance("avon-and-somerset", reference).stage == "rejected"
    [appeal] = to("amira.khan@example.org", "appeal")
    assert "appeal" in api.http.get(f"/appeal/{appeal}").body.decode().lower()
    assert post(api, "appeal", appeal, grounds="").status_code == 422
    assert post(api, "appeal", appeal, grounds="My+shifts+changed").status_code == 200
    assert post(api, "appeal", appeal, grounds="Again").status_code == 409  # one appeal per application
    assert journey.advance("avon-and-somerset", reference).stage == "appeal_lodged"
    chair = to("strategic_iag_chair.appeal@avon-and-somerset.test", "appeal-review")
    acc = to("assistant_chief_constable.appeal@avon-and-somerset.test", "appeal-review")
    assert len(chair) == len(acc) == 1
    assert "My shifts changed" in api.http.get(f"/appeal-review/{chair[0]}").body.decode()
    assert post(api, "appeal-review", chair[0], decision="uphold").status_code == 200
    assert journey.advance("avon-and-somerset", reference).stage == "appeal_lodged"  # waits for the ACC
    assert post(api, "appeal-review", acc[0], decision="uphold").status_code == 200
    assert journey.advance("avon-and-somerset", reference).stage == "offered"
    assert {"lodge_appeal", "uphold_appeal", "make_offer"} <= actions("avon-and-somerset", reference)
    subjects = [m.subject for m in sent_emails() if not hasattr(m, "raw_data")]
    assert any(s.startswith("Your appeal has been upheld") for s in subjects)
    assert any(s.startswith("Your offer of membership") for s in subjects)


def test_an_appeal_dismissed_closes_the_application_and_no_second_appeal_is_offered(api, journey):
    reference = apply_to(api, "avon-and-somerset").json_body["reference"]
    journey.advance("avon-and-somerset", reference)
    post(api, "review", to("iag_chair.bristol@avon-and-somerset.test", "review")[-1], decision="reject",
         reason="Not+independent")
    journey.advance("avon-and-somerset", reference)
    post(api, "appeal", to("amira.khan@example.org", "appeal")[0], grounds="Please+reconsider")
    journey.advance("avon-and-somerset", reference)
    chair = to("strategic_iag_chair.appeal@avon-and-somerset.test", "appeal-review")[0]
    assert post(api, "appeal-review", chair, decision="dismiss").status_code == 422  # a reason is needed
    assert post(api, "appeal-review", chair, decision="dismiss", reason="The+panel+was+right").status_code == 200
    step = journey.advance("avon-and-somerset", reference)
    assert step.done and step.stage == "appeal_dismissed"
    [dismissed] = [m for m in sent_emails() if m.subject.startswith("The decision on your appeal")]
    assert "The panel was right" in dismissed.body
    # The person may apply again: the application has ended.
    assert apply_to(api, "avon-and-somerset").status_code == 201


def test_the_appeal_link_expires_with_the_window_and_the_application_then_ends(api, journey, clock):
    reference = apply_to(api, "avon-and-somerset").json_body["reference"]
    journey.advance("avon-and-somerset", reference)
    post(api, "review", to("iag_chair.bristol@avon-and-somerset.test", "review")[-1], decision="reject",
         reason="No")
    journey.advance("avon-and-somerset", reference)
    appeal = to("amira.khan@example.org", "appeal")[0]
    clock.moment += timedelta(days=28)
    assert post(api, "appeal", appeal, grounds="Late").status_code == 410
    assert bootstrap.container().joining.remind_all("avon-and-somerset")["lapsed"] == 1
    assert stage("avon-and-somerset", reference) == "expired"


def test_welcome_email_carries_the_agreement_record_and_a_calendar_in_london_time(api, journey):
    reference = apply_to(api, "derbyshire").json_body["reference"]
    panel_approves(api, journey, "derbyshire", reference)
    step = join(api, journey, "derbyshire", reference, "amira.khan@example.org")
    assert step.done and step.stage == "member"
    [raw] = [m for m in sent_emails() if hasattr(m, "raw_data")]
    assert set(raw.destinations) == {"amira.khan@example.org"}
    welcome = email.message_from_string(raw.raw_data, policy=email.policy.default)
    assert welcome["Subject"].startswith("You are now a member")
    text = welcome.get_body(("plain",)).get_content()
    assert 'as "Amira Khan"' in text and "version 2026-11" in text
    assert "/step-down/" in text and "/my-details/" in text  # as in every email to a member
    [ics] = [part for part in welcome.iter_attachments() if part.get_content_type() == "text/calendar"]
    calendar = icalendar.Calendar.from_ical(ics.get_payload(decode=True))
    starts = [event.decoded("dtstart") for event in calendar.walk("VEVENT")]
    assert len(starts) == 6 and starts == sorted(starts)
    assert all(start.tzinfo is not None and start.astimezone(LONDON).strftime("%H:%M") in ("18:30", "10:00")
               for start in starts)
    offsets = {start.astimezone(LONDON).utcoffset() for start in starts}
    assert offsets == {timedelta(0)} or offsets == {timedelta(0), timedelta(hours=1)}
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/London"


def test_the_welcome_calendar_spans_the_clock_change_in_a_group_meeting_every_other_month(api, journey):
    reference = apply_to(api, "northamptonshire").json_body["reference"]
    panel_approves(api, journey, "northamptonshire", reference)
    join(api, journey, "northamptonshire", reference, "amira.khan@example.org")
    [raw] = [m for m in sent_emails() if hasattr(m, "raw_data")]
    [ics] = list(email.message_from_string(raw.raw_data, policy=email.policy.default).iter_attachments())
    starts = [e.decoded("dtstart") for e in icalendar.Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")]
    local = [s.astimezone(LONDON) for s in starts]
    assert {s.utcoffset() for s in local} == {timedelta(0), timedelta(hours=1)}  # GMT and BST both present
    assert all(s.strftime("%H:%M") in ("18:30", "14:00") for s in local)


def test_signing_records_who_when_which_version_and_from_where_and_creates_the_member(api, journey):
    reference = apply_to(api, "derbyshire").json_body["reference"]
    panel_approves(api, journey, "derbyshire", reference)
    join(api, journey, "derbyshire", reference, "amira.khan@example.org")
    container = bootstrap.container()
    application = container.repository.get("derbyshire", reference)
    agreement = container.joining_store.agreement(application, "confidentiality-agreement")
    assert (agreement.signed_name, agreement.document_version) == ("Amira Khan", "2026-11")
    assert agreement.source_ip and agreement.document_fingerprint.startswith("etag:")
    [member] = container.joining_store.members("derbyshire", "derbyshire-iag")
    assert (member.member_id, member.role.value, member.email) == (reference, "member", "amira.khan@example.org")
    assert member.term_ends_on.year == member.joined_on.year + 3
    told = {m.destinations["ToAddresses"][0] for m in sent_emails()
            if not hasattr(m, "raw_data") and m.subject.startswith("New member")}
    assert told == {"helen.ham@derbyshire.police.uk", "iag_chair.derbyshire-iag@derbyshire.test"}


def test_no_member_record_exists_until_the_agreement_is_signed(api, journey):
    reference = apply_to(api, "derbyshire").json_body["reference"]
    panel_approves(api, journey, "derbyshire", reference)
    post(api, "offer", to("amira.khan@example.org", "offer")[-1], answer="accept")
    journey.advance("derbyshire", reference)
    token = to("amira.khan@example.org", "agreement")[-1]
    assert bootstrap.container().joining_store.members("derbyshire", "derbyshire-iag") == []
    unsigned = post(api, "agreement", token, signed_name="Amira+Khan")  # box not ticked
    assert unsigned.status_code == 422 and stage("derbyshire", reference) == "onboarding"
    assert post(api, "agreement", token, confirm="yes", signed_name="Amira+Khan").status_code == 200
    assert post(api, "agreement", token, confirm="yes", signed_name="Amira+Khan").status_code == 409
    assert len(bootstrap.container().joining_store.members("derbyshire", "derbyshire-iag")) == 1


def test_declining_the_offer_withdraws_the_application(api, journey):
    reference = apply_to(api, "derbyshire").json_body["reference"]
    panel_approves(api, journey, "derbyshire", reference)
    assert post(api, "offer", to("amira.khan@example.org", "offer")[-1], answer="decline").status_code == 200
    step = journey.advance("derbyshire", reference)
    assert step.done and step.stage == "withdrawn"


def test_an_unanswered_offer_is_chased_once_then_lapses(api, journey, clock):
    reference = apply_to(api, "derbyshire").json_body["reference"]
    panel_approves(api, journey, "derbyshire", reference)
    joining = bootstrap.container().joining
    clock.moment += timedelta(days=7)
    assert joining.remind_all("derbyshire") == {"reminded": 1, "lapsed": 0, "escalated": 0}
    assert joining.remind_all("derbyshire") == {"reminded": 0, "lapsed": 0, "escalated": 0}
    assert len(to("amira.khan@example.org", "offer")) == 2
    clock.moment += timedelta(days=21)
    assert joining.remind_all("derbyshire") == {"reminded": 0, "lapsed": 1, "escalated": 0}
    assert stage("derbyshire", reference) == "expired"
    assert journey.advance("derbyshire", reference).done  # the woken run sends the news and ends
    assert post(api, "offer", to("amira.khan@example.org", "offer")[0], answer="accept").status_code in (409, 410)
    assert any(m.subject.startswith("Your offer of membership has lapsed") for m in sent_emails()
               if not hasattr(m, "raw_data"))


def test_a_silent_vetting_unit_is_asked_again_with_a_fresh_link_and_the_coordinator_is_told_once(api, journey,
                                                                                                   clock):
    from chalicelib.adapters.templates import render
    from chalicelib.services.screening import VettingUnitByEmail

    bootstrap.override(screening=VettingUnitByEmail(bootstrap.container().mailer, render))
    journey = bootstrap.container().review
    reference = apply_to(api, "northamptonshire").json_body["reference"]
    panel_approves(api, journey, "northamptonshire", reference)
    vetting = "vetting.unit@northamptonshire.police.example"
    joining = bootstrap.container().joining
    clock.moment += timedelta(days=7)
    assert joining.remind_all("northamptonshire")["reminded"] == 1
    assert joining.remind_all("northamptonshire")["reminded"] == 0
    first, fresh = to(vetting, "screening")
    clock.moment += timedelta(days=14)
    counts = joining.remind_all("northamptonshire")
    assert counts["escalated"] == 1 and counts["lapsed"] == 0  # a check never lapses on the applicant
    assert joining.remind_all("northamptonshire")["escalated"] == 0
    [overdue] = [m for m in sent_emails() if not hasattr(m, "raw_data") and m.subject.startswith("Overdue")]
    assert "the Vetting Unit" in overdue.subject
    assert post(api, "screening", fresh, outcome="clear", **{"completed-day": "13", "completed-month": "12",
                                                             "completed-year": "2026"}).status_code == 200
    assert journey.advance("northamptonshire", reference).stage == "offered"


def test_an_appeal_panel_member_who_does_not_answer_is_reminded_then_the_coordinator_is_told(api, journey, clock):
    reference = apply_to(api, "avon-and-somerset").json_body["reference"]
    journey.advance("avon-and-somerset", reference)
    post(api, "review", to("iag_chair.bristol@avon-and-somerset.test", "review")[-1], decision="reject", reason="No")
    journey.advance("avon-and-somerset", reference)
    post(api, "appeal", to("amira.khan@example.org", "appeal")[0], grounds="Please")
    journey.advance("avon-and-somerset", reference)
    post(api, "appeal-review", to("strategic_iag_chair.appeal@avon-and-somerset.test", "appeal-review")[0],
         decision="uphold")
    journey.advance("avon-and-somerset", reference)
    joining = bootstrap.container().joining
    clock.moment += timedelta(days=7)
    assert joining.remind_all("avon-and-somerset")["reminded"] == 1  # only the one who has not decided
    acc = "assistant_chief_constable.appeal@avon-and-somerset.test"
    assert len(to(acc, "appeal-review")) == 2
    clock.moment += timedelta(days=14)
    assert joining.remind_all("avon-and-somerset")["escalated"] == 1
    [overdue] = [m for m in sent_emails() if not hasattr(m, "raw_data") and m.subject.startswith("Overdue")]
    assert overdue.destinations["ToAddresses"] == ["StrategicIAG@avonandsomerset.police.uk"]
    assert "assistant chief constable" in overdue.body.lower()


def test_emails_of_an_action_prefect_never_heard_about_are_sent_by_reconciliation(api, journey, workflow, clock):
    reference = apply_to(api, "derbyshire").json_body["reference"]
    panel_approves(api, journey, "derbyshire", reference)
    post(api, "offer", to("amira.khan@example.org", "offer")[-1], answer="accept")
    journey.advance("derbyshire", reference)
    workflow.resume = lambda run_id, run_input: False  # Prefect down when the person signs
    assert post(api, "agreement", to("amira.khan@example.org", "agreement")[-1], confirm="yes",
                signed_name="Amira+Khan").status_code == 200
    assert stage("derbyshire", reference) == "member"
    assert not [m for m in sent_emails() if hasattr(m, "raw_data")]  # no welcome yet
    assert bootstrap.container().joining_store.undelivered("derbyshire") == [reference]
    del workflow.resume
    clock.moment += timedelta(minutes=10)
    workflow.state = lambda run_id: ("COMPLETED", 0.0)  # say the run was lost and retried to its end
    counts = bootstrap.container().review.reconcile("derbyshire")
    assert counts["emails"] == 1
    assert len([m for m in sent_emails() if hasattr(m, "raw_data")]) == 1  # the welcome, once
    assert bootstrap.container().joining_store.undelivered("derbyshire") == []
    assert bootstrap.container().review.reconcile("derbyshire")["emails"] == 0


def test_a_run_that_ended_while_its_application_still_waits_is_run_again(api, journey, workflow):
    reference = apply_to(api, "derbyshire").json_body["reference"]
    panel_approves(api, journey, "derbyshire", reference)  # offered: the run should be waiting
    retried = []
    workflow.state = lambda run_id: ("COMPLETED", 0.0)  # e.g. it ended at "approved" under older code
    workflow.retry = retried.append
    assert bootstrap.container().review.reconcile("derbyshire", full=True)["retried"] == 1  # the daily full pass
    assert retried == [f"run-{reference}"]


def test_a_new_appeal_panel_holder_gets_the_waiting_appeal_and_the_previous_holders_link_stops_working(api, journey):
    """Issue 14: links follow the person, not the role, on the appeal panel too."""
    from chalicelib.domain.operators import Operator, Role as OperatorRole

    reference = apply_to(api, "avon-and-somerset").json_body["reference"]
    journey.advance("avon-and-somerset", reference)
    post(api, "review", to("iag_chair.bristol@avon-and-somerset.test", "review")[-1], decision="reject",
         reason="Not+independent")
    journey.advance("avon-and-somerset", reference)
    post(api, "appeal", to("amira.khan@example.org", "appeal")[0], grounds="Please+reconsider")
    journey.advance("avon-and-somerset", reference)
    [old] = to("assistant_chief_constable.appeal@avon-and-somerset.test", "appeal-review")
    admin = Operator("ann", OperatorRole.FORCE_ADMIN, "avon-and-somerset")
    answer = bootstrap.container().roles.set(admin, "avon-and-somerset", "appeal", "assistant_chief_constable",
                                             "New ACC", "new.acc@avon-and-somerset.test")
    assert answer["requests_sent"] == 1
    assert api.http.get(f"/appeal-review/{old}").status_code == 409
    assert post(api, "appeal-review", old, decision="uphold").status_code == 409
    [new] = to("new.acc@avon-and-somerset.test", "appeal-review")
    assert "Please reconsider" in api.http.get(f"/appeal-review/{new}").body.decode()
    assert post(api, "appeal-review", new, decision="uphold").status_code == 200


def test_a_new_vetting_unit_is_asked_for_the_waiting_check_and_the_previous_units_link_stops_working(api, journey):
    """Issue 14 and 15: the vetting unit is a role an operator sets; its links follow the person."""
    from chalicelib.adapters.templates import render
    from chalicelib.domain.operators import Operator, Role as OperatorRole
    from chalicelib.services.screening import VettingUnitByEmail

    bootstrap.override(screening=VettingUnitByEmail(bootstrap.container().mailer, render))
    journey = bootstrap.container().review
    reference = apply_to(api, "northamptonshire").json_body["reference"]
    assert panel_approves(api, journey, "northamptonshire", reference).stage == "screening"
    [old] = to("vetting.unit@northamptonshire.police.example", "screening")
    admin = Operator("ann", OperatorRole.FORCE_ADMIN, "northamptonshire")
    answer = bootstrap.container().roles.set(admin, "northamptonshire", "force", "vetting_unit", "Vetting Team",
                                             "vetting@northants.example")
    assert answer["requests_sent"] == 1
    assert api.http.get(f"/screening/{old}").status_code == 409
    [new] = to("vetting@northants.example", "screening")
    assert post(api, "screening", new, outcome="clear", **{"completed-day": "22", "completed-month": "11",
                                                          "completed-year": "2026"}).status_code == 200
    assert journey.advance("northamptonshire", reference).stage == "offered"
