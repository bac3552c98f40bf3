"""Each rule a seed document states, shown through the API an applicant uses."""
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import sent_emails
from tests.factories import application_payload, post_json

ALL_CONNECTIONS = {"police_employee": True, "police_connection": True, "judiciary_connection": True, "civic_role": True}

# (force, group, home postcode inside the force area)
HOME = {
    "derbyshire": ("derbyshire-iag", "DE5 3RS"),
    "thames-valley": ("reading", "RG1 7TH"),
    "northamptonshire": ("northampton", "NN1 1DT"),
    "greater-manchester": ("city-of-manchester", "M1 1AE"),
    "avon-and-somerset": ("bristol", "BS1 4DJ"),
}


def apply_to(api, force, group=None, **changes):
    default_group, postcode = HOME[force]
    payload = application_payload(group=group or default_group,
                                  **{"applicant": {"postcode": postcode, **changes.pop("applicant", {})}, **changes})
    return post_json(api, f"/forces/{force}/applications", payload)


@pytest.mark.parametrize("force", sorted(HOME))
def test_an_adult_living_in_the_area_is_eligible_in_every_force(api, force):
    response = apply_to(api, force)
    assert response.status_code == 201 and response.json_body["status"] == "awaiting_review"


@pytest.mark.parametrize("force", sorted(HOME))
def test_a_17_year_old_is_ineligible_in_every_force(api, force):
    body = apply_to(api, force, applicant={"date_of_birth": "2009-06-01"}).json_body
    assert body["status"] == "ineligible"
    assert [r["code"] for r in body["reasons"]] == ["under_minimum_age"]


@pytest.mark.parametrize("force", sorted(HOME))
def test_someone_living_and_working_outside_the_area_is_ineligible(api, force):
    outside = "TR1 2HE"  # Truro: no seed force covers Cornwall
    body = apply_to(api, force, applicant={"postcode": outside}).json_body
    assert [r["code"] for r in body["reasons"]] == ["outside_force_area"]


@pytest.mark.parametrize("force", sorted(HOME))
def test_someone_who_works_in_the_area_but_lives_elsewhere_is_eligible(api, force):
    _, work = HOME[force]
    response = apply_to(api, force, applicant={"postcode": "TR1 2HE"}, connection_to_area="works", work_postcode=work)
    assert response.json_body["status"] == "awaiting_review"


@pytest.mark.parametrize("declaration", sorted(ALL_CONNECTIONS))
def test_thames_valley_refuses_anyone_not_independent_of_the_police(api, declaration):
    body = apply_to(api, "thames-valley", declarations={declaration: True}).json_body
    assert body["status"] == "ineligible"
    assert [r["code"] for r in body["reasons"]] == [f"not_independent:{declaration}"]


@pytest.mark.parametrize("force", ["derbyshire", "northamptonshire", "greater-manchester", "avon-and-somerset"])
def test_forces_without_an_independence_rule_leave_connections_to_the_panel(api, force):
    body = apply_to(api, force, declarations=ALL_CONNECTIONS).json_body
    assert body["status"] == "awaiting_review"


def test_a_northamptonshire_applicant_declaring_a_conviction_is_eligible_and_flagged_for_basic_screening(api):
    body = apply_to(api, "northamptonshire", declarations={"convictions_or_police_contact": "Caution for affray, 2011"}).json_body
    assert body["status"] == "awaiting_review" and body["reasons"] == []
    assert body["screening"] == "basic"


@pytest.mark.parametrize("group", ["northampton", "north-northamptonshire", "east-northamptonshire",
                                   "daventry-south-northamptonshire"])
def test_every_northamptonshire_local_iag_takes_applicants_who_are_then_screened(api, group):
    body = apply_to(api, "northamptonshire", group=group).json_body
    assert body["status"] == "awaiting_review" and body["screening"] == "basic"


@pytest.mark.parametrize("force", ["northamptonshire", "avon-and-somerset"])
def test_a_strategic_iag_is_refused_as_closed_with_the_reason(api, force):
    response = apply_to(api, force, group="strategic")
    assert response.status_code == 422
    assert response.json_body["type"] == "/problems/group-closed"
    assert "instead" in response.json_body["detail"]


def test_avon_and_somerset_screens_only_its_counter_terrorism_iag(api):
    local = apply_to(api, "avon-and-somerset").json_body
    ct = apply_to(api, "avon-and-somerset", group="counter-terrorism", applicant={"email": "b@example.org"},
                  group_requirements_met=["ct-screening-consent", "ct-community-insight"]).json_body
    assert (local["screening"], ct["screening"]) == ("none", "limited")
    assert ct["status"] == "awaiting_review"


def test_avon_and_somerset_specialist_iags_take_only_applicants_meeting_their_requirements(api):
    body = apply_to(api, "avon-and-somerset", group="counter-terrorism",
                    group_requirements_met=["ct-screening-consent"]).json_body
    assert body["status"] == "ineligible"
    assert [r["code"] for r in body["reasons"]] == ["requirement_not_met:ct-community-insight"]


@pytest.mark.parametrize("force", ["derbyshire", "thames-valley", "greater-manchester"])
def test_forces_without_screening_require_none(api, force):
    assert apply_to(api, force).json_body["screening"] == "none"


def test_greater_manchester_takes_no_applications_before_its_campaign_opens(api, clock):
    clock.moment = datetime(2022, 3, 31, 23, 30, tzinfo=timezone.utc)  # 00:30 on 1 April in London (BST)
    assert apply_to(api, "greater-manchester").status_code == 201
    clock.moment = datetime(2022, 3, 31, 22, 30, tzinfo=timezone.utc)  # still 31 March in London
    response = apply_to(api, "greater-manchester", applicant={"email": "early@example.org"})
    assert response.status_code == 422
    assert response.json_body["detail"] == "Applications to the City of Manchester IAG open on 1 April 2022."


# --- people and roles (issue 15): every role a seed names can be filled by an operator ---

def _offices(force_id):
    from chalicelib.adapters.force_files import FileForceCatalogue
    from chalicelib.domain.roles import offices

    force = FileForceCatalogue().get(force_id)
    return force, {(o.scope, o.role): o for o in offices(force)}


def test_avon_and_somerset_appeals_go_to_the_strategic_iag_chair_and_an_assistant_chief_constable_an_operator_sets():
    # Seed: "this would be a matter for the Strategic IAG Chair and Assistant Chief Constable to consider"
    _, held = _offices("avon-and-somerset")
    assert {r for scope, r in held if scope == "appeal"} == {"strategic_iag_chair", "assistant_chief_constable"}
    assert held[("appeal", "assistant_chief_constable")].panel == "appeal panel"


def test_northamptonshires_strategic_iag_has_a_chief_superintendent_and_an_opfcc_representative_to_set():
    # Seed: "the police and OPFCC will provide a senior representative ... Chief Superintendent of the Local
    # Policing Command"
    _, held = _offices("northamptonshire")
    assert {("strategic", "chief_superintendent"), ("strategic", "opfcc_representative")} <= set(held)


def test_northamptonshires_agenda_is_agreed_by_the_chair_and_local_inspector_whom_an_operator_sets():
    # Seed: "The agenda should be agreed between the Chair and the Inspector"
    _, held = _offices("northamptonshire")
    assert {("northampton", "iag_chair"), ("northampton", "local_inspector")} <= set(held)


@pytest.mark.parametrize("force_id", sorted(HOME))
def test_every_force_has_a_coordinator_vetting_unit_and_media_contact_an_operator_can_set(force_id):
    # Seeds name the IAG coordinator/administrator, the vetting unit (screening) and the media contact.
    _, held = _offices(force_id)
    assert {("force", "iag_coordinator"), ("force", "vetting_unit"), ("force", "media")} <= set(held)


def test_northamptonshires_strategic_nominees_are_the_local_chair_and_one_other():
    # Seed: "two nominees to represent them at Strategic IAG level, the operational IAG chair and one other"
    from chalicelib.domain.strategic import chair_not_nominated

    force, _ = _offices("northamptonshire")
    composition = force.group("strategic").composition
    assert chair_not_nominated(composition, ["chair-id", "other"], "chair-id") is None
    assert "chair" in chair_not_nominated(composition, ["one", "other"], "chair-id")
    assert "no chair" in chair_not_nominated(composition, ["one", "other"], None)


def test_avon_and_somersets_elected_chair_takes_the_iag_chair_role_that_reviews_applications():
    # Seed: "Chairs and Vice Chairs for each IAG are elected by their members" and "reviewed by the IAG Chair"
    from chalicelib.domain.roles import office_role

    force, _ = _offices("avon-and-somerset")
    assert [(o.scope, o.role) for o in office_role(force, "bristol", "chair")] == [("bristol", "iag_chair")]
    # The Strategic IAG's chair is the Strategic IAG Chair who hears appeals.
    assert ("appeal", "strategic_iag_chair") in [(o.scope, o.role) for o in office_role(force, "strategic", "chair")]
# --- after joining: members and meeting business (issue 15, points 3 and 4) ---

def _member(force, group, member_id, **changes):
    from datetime import date

    from chalicelib.adapters.dynamodb.joining import member_item
    from chalicelib.domain.membership import Member, Role

    member = Member(**{**dict(member_id=member_id, force_id=force, group_id=group, role=Role.MEMBER,
                              name=f"Member {member_id}", email=f"{member_id.lower()}@example.org", phone="",
                              joined_on=date(2026, 1, 5), term_ends_on=date(2029, 1, 5),
                              agreement_version="confidentiality-agreement@2026-11"), **changes})
    member_item(member).save()
    return member


def _sent_to(address):
    from tests.conftest import sent_emails

    return [m for m in sent_emails()
            if address in (m.destinations if hasattr(m, "raw_data") else m.destinations["ToAddresses"])]


def test_derbyshire_scrutiny_panels_are_opt_in_every_month_only_for_those_who_choose_them(api):
    """Seed: "every month if you would like to get involved with our scrutiny panels"."""
    from chalicelib import bootstrap

    _member("derbyshire", "derbyshire-iag", "DER-1", optional_series=("Scrutiny panel",))
    _member("derbyshire", "derbyshire-iag", "DER-2")
    meetings = bootstrap.container().meetings
    meetings.plan("derbyshire", "derbyshire-iag")
    meetings.tell_members("derbyshire", "derbyshire-iag")
    scrutiny = [m for m in _sent_to("der-1@example.org") if "Scrutiny panel" in m.raw_data]
    assert scrutiny and not [m for m in _sent_to("der-2@example.org") if "Scrutiny panel" in m.raw_data]


def test_derbyshire_meetings_and_panels_can_be_joined_on_teams_from_the_invitation_and_calendar(api):
    """Seed: "all our meetings and panels are virtual on Microsoft Teams"."""
    from chalicelib import bootstrap

    _member("derbyshire", "derbyshire-iag", "DER-1", optional_series=("Scrutiny panel",))
    meetings = bootstrap.container().meetings
    meetings.plan("derbyshire", "derbyshire-iag")
    for series in ("IAG meeting", "Scrutiny panel"):
        assert meetings.set_online_link("derbyshire", "derbyshire-iag", "https://teams.example/derbyshire",
                                        series=series)
    import email
    import email.policy

    import icalendar

    linked = {}
    for raw in (m.raw_data for m in _sent_to("der-1@example.org")):
        message = email.message_from_string(raw, policy=email.policy.default)
        if "Join online: https://teams.example/derbyshire" in message.get_body(("plain",)).get_content():
            [ics] = list(message.iter_attachments())
            event = icalendar.Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")[0]
            linked[str(event["SUMMARY"]).split(": ")[1]] = str(event["URL"])
    assert linked == {"IAG meeting": "https://teams.example/derbyshire",
                      "Scrutiny panel": "https://teams.example/derbyshire"}


def test_avon_and_somerset_face_to_face_meetings_carry_an_online_link_for_those_who_cannot_attend(api):
    """Seed: "Face-to-face meetings usually have an online link for members who can't attend physically"."""
    from chalicelib import bootstrap

    _member("avon-and-somerset", "bristol", "AS-1")
    meetings = bootstrap.container().meetings
    first = meetings.plan("avon-and-somerset", "bristol")[0]
    [changed] = meetings.set_online_link("avon-and-somerset", "bristol", "https://teams.example/bristol-jan",
                                         uid_key=first.meeting.uid_key)
    assert changed.meeting.online_link == "https://teams.example/bristol-jan" and changed.sequence == 1
    assert not any(p.meeting.online_link for p in meetings.upcoming("avon-and-somerset", "bristol")[1:])


def test_northamptonshire_agenda_is_agreed_between_the_chair_and_the_inspector(api):
    """Seed: "The agenda should be agreed between the Chair and the Inspector"."""
    from chalicelib import bootstrap
    from chalicelib.adapters.dynamodb.review import DynamoReviewStore
    from chalicelib.domain.membership import Role

    _member("northamptonshire", "northampton", "NOR-C", role=Role.CHAIR)
    _member("northamptonshire", "northampton", "NOR-2")
    DynamoReviewStore().put_reviewer("northamptonshire", "northampton", "local_inspector", "Insp Local",
                                     "inspector@northamptonshire.police.example")
    container = bootstrap.container()
    container.meetings.plan("northamptonshire", "northampton")
    container.meeting_business.ask_for_agenda("northamptonshire", "northampton")
    from tests.conftest import sent_emails

    asked = {a for m in sent_emails() if not hasattr(m, "raw_data") and m.subject.startswith("Agenda items")
             for a in m.destinations["ToAddresses"]}
    assert asked == {"nor-c@example.org", "inspector@northamptonshire.police.example"}


def test_northamptonshire_inspector_seeks_and_receives_feedback_as_actions_reminded_until_done(api, clock):
    """Seed: "... to provide an update on local crime and policing, and to seek and receive feedback"."""
    from datetime import timedelta

    from chalicelib import bootstrap

    _member("northamptonshire", "northampton", "NOR-1")
    container = bootstrap.container()
    planned = container.meetings.plan("northamptonshire", "northampton")[0]
    clock.moment = planned.meeting.ends_at + timedelta(hours=1)
    record = container.meeting_business.publish_minutes(
        "northamptonshire", "northampton", planned.meeting.uid_key, "Inspector's update; members' feedback.",
        [{"title": "Feedback on the stop and search update", "owner_name": "Member NOR-1",
          "owner_email": "nor-1@example.org", "due_on": (clock.moment + timedelta(days=5)).date().isoformat(),
          "feedback_to_police": True}], "operator:test")
    assert record["actions"][0]["feedback_to_police"]
    assert container.meeting_business.remind_actions("northamptonshire", "northampton") == 1


def test_northamptonshire_members_are_all_checked_so_a_check_is_renewed_before_it_expires(api):
    """Seed: "all members are police checked to a basic screening level"."""
    from chalicelib import bootstrap

    _member("northamptonshire", "northampton", "NOR-1", screening={
        "level": "basic", "outcome": "clear", "completed_on": "2024-01-10", "expires_on": "2027-01-10"})
    counts = bootstrap.container().membership.daily("northamptonshire")
    assert counts["rescreening_asked"] == 1


def test_avon_and_somerset_renews_no_screening_except_for_its_counter_terrorism_iag(api, clock):
    """Seed: "a policy of not screening or vetting our members ... The only exception is the Counter Terrorism IAG"."""
    from chalicelib import bootstrap

    expiring = {"level": "limited", "outcome": "clear", "completed_on": "2023-12-01", "expires_on": "2026-12-01"}
    _member("avon-and-somerset", "bristol", "AS-1", screening=expiring)
    _member("avon-and-somerset", "counter-terrorism", "AS-2", screening=expiring)
    counts = bootstrap.container().membership.daily("avon-and-somerset")
    assert counts["rescreening_asked"] == 1
    assert [m for m in _sent_to("as-2@example.org")] and not _sent_to("as-1@example.org")
# Issue 15, points 5 to 7: the documents the seeds name, residency, equality monitoring, honest data.

@pytest.mark.parametrize("force, titles", [
    ("derbyshire", ["IAG Job Description"]),  # "the attached job description"
    ("northamptonshire", ["IAG roles and responsibilities"]),  # "the IAG – roles and responsibilities document"
    ("greater-manchester", ["IAG information and application pack"]),  # "an information and application pack"
    ("avon-and-somerset", ["IAG application form", "Equality monitoring form"]),  # "complete both"
])
def test_each_document_a_seed_names_is_offered_on_the_forces_pages(api, force, titles):
    documents = api.http.get(f"/forces/{force}").json_body["application_pack"]["documents"]
    assert [d["title"] for d in documents] == titles
    assert all(api.http.get(d["path"]).status_code == 200 for d in documents)


def test_greater_manchester_sends_its_pack_by_email_to_whoever_asks(api):
    from chalicelib import bootstrap

    request_id = bootstrap.container().pack_requests.request(
        "greater-manchester", {"name": "Pat", "email": "pat@example.org", "format": "standard"})
    [email] = sent_emails()
    assert set(email.destinations) == {"pat@example.org"} and request_id in email.raw_data


def test_thames_valley_validates_residency_before_the_offer(api):
    force = api.http.get("/forces/thames-valley").json_body
    assert "You will be asked to show where you live." in force["eligibility"]["summary"]
    # the step itself: tests/services/test_residency.py


def test_northamptonshires_nine_protected_characteristics_are_each_asked_with_prefer_not_to_say():
    from chalicelib.adapters.equality_questions import equality_questions

    questions = {q.id: q.options for q in equality_questions()}
    for question in ("age_band", "disability", "gender_same_as_birth", "marriage_civil_partnership",
                     "pregnancy_maternity", "ethnicity", "religion", "sex", "sexual_orientation"):
        assert "prefer_not_to_say" in questions[question], question


@pytest.mark.parametrize("force", ["greater-manchester", "northamptonshire"])
def test_a_force_whose_seed_hides_its_address_has_a_placeholder_on_a_reserved_domain(api, force):
    contacts = api.http.get(f"/forces/{force}").json_body["contacts"]
    assert all(c["email"].endswith(".police.example") for c in contacts.values())


# --- issue 15's Build, statement by statement: each rule as the seed states it, through the admin API ---

HEADER = ("name,email,phone,group,role,joined_on,term_ends_on,screening_outcome,screening_level,screening_date,"
          "screening_expires,agreement_signed_on")


def _csv(*rows: str) -> str:
    return "\n".join((HEADER,) + rows) + "\n"


def _operator_call(api, token, method, path, body=None):
    import json

    headers = {"Authorization": token, **({"Content-Type": "application/json"} if body is not None else {})}
    response = getattr(api.http, method.lower())(path, headers=headers,
                                                 **({"body": json.dumps(body)} if body is not None else {}))
    return response.status_code, json.loads(response.body or b"null")


def _import(api, token, force, text, dry_run):
    return _operator_call(api, token, "POST", f"/admin/forces/{force}/members/import",
                          {"csv": text, "dry_run": dry_run})


def _problems(answer):
    """(line, column) of each problem, from a report or from the 422 problem+json that holds one."""
    return {(p["line"], p["column"]) for p in answer.get("report", answer)["problems"]}


def test_northamptonshire_refuses_to_import_a_member_without_their_basic_police_check(operator_pool, api):
    # Seed: "all members are police checked to a basic screening level"
    admin = operator_pool.token("ann", "force_admin", "northamptonshire")
    text = _csv("Unchecked Person,unchecked@example.org,,northampton,member,2024-03-11,,,,,,2024-03-11",
                "Checked Person,checked@example.org,,northampton,member,2024-03-11,,clear,basic,2024-02-01,"
                "2027-01-31,2024-03-11")
    status, report = _import(api, admin, "northamptonshire", text, dry_run=False)
    assert status == 422
    assert _problems(report) == {(2, c) for c in ("screening_outcome", "screening_level", "screening_date",
                                                  "screening_expires")}
    from chalicelib.adapters.dynamodb.joining import DynamoJoiningStore

    assert DynamoJoiningStore().members("northamptonshire", "northampton") == []  # all or nothing


def test_avon_and_somerset_imports_keep_a_screening_check_only_for_its_counter_terrorism_iag(operator_pool, api):
    # Seed: "a policy of not screening or vetting our members in any way. The only exception is the Counter
    # Terrorism IAG, where limited screening may be required"
    admin = operator_pool.token("ann", "force_admin", "avon-and-somerset")
    check = "clear,limited,2025-01-10,2028-01-09"
    status, report = _import(api, admin, "avon-and-somerset", _csv(
        f"Bristol Member,b@example.org,,bristol,member,2024-03-11,,{check},2024-03-11",
        f"CT Member,ct@example.org,,counter-terrorism,member,2024-03-11,,{check},2024-03-11",
        "CT Unchecked,ct2@example.org,,counter-terrorism,member,2024-03-11,,,,,,2024-03-11"), dry_run=True)
    assert status == 200
    assert _problems(report) == {(2, "screening_outcome")} | {(4, c) for c in (
        "screening_outcome", "screening_level", "screening_date", "screening_expires")}


def test_a_strategic_nominee_is_imported_only_into_northamptonshires_strategic_iag(operator_pool, api):
    # Seed: "Each operational IAG will be able to send two nominees to represent them at Strategic IAG level"
    admin = operator_pool.token("ann", "force_admin", "northamptonshire")
    check = "clear,basic,2025-01-10,2028-01-09"
    status, report = _import(api, admin, "northamptonshire", _csv(
        f"Local Nominee,n1@example.org,,northampton,strategic nominee,2024-03-11,,{check},2024-03-11",
        f"Seated Nominee,n2@example.org,,strategic,strategic nominee,2024-03-11,,{check},2024-03-11"), dry_run=True)
    assert status == 200 and _problems(report) == {(2, "role")}


def test_avon_and_somerset_imported_members_get_the_future_meeting_dates_and_the_agreement_to_sign(operator_pool,
                                                                                                    api):
    # Seed: "provide you with the Terms of Reference, ask you to sign a confidentiality agreement and list the
    # dates of future meetings"
    from chalicelib import bootstrap

    admin = operator_pool.token("ann", "force_admin", "avon-and-somerset")
    status, report = _import(api, admin, "avon-and-somerset", _csv(
        "Not Signed,unsigned@example.org,,bristol,member,2024-03-11,,,,,,",
        "Signed Already,signed@example.org,,bristol,member,2024-03-11,,,,,,2026-11-20"), dry_run=False)
    assert status == 200 and report["welcomed"] == 2
    force = bootstrap.container().forces.require("avon-and-somerset")
    [unsigned] = _sent_to("unsigned@example.org")
    [signed] = _sent_to("signed@example.org")
    assert "/members/agreement/" in unsigned.body and "/members/agreement/" not in signed.body
    from chalicelib.domain.meetings import upcoming_for_group

    first = upcoming_for_group(force, force.require_group("bristol"), after=bootstrap.container().clock.now(),
                               count=1, avoid=frozenset())[0]
    assert f"{first.starts_at.day} {first.starts_at:%B %Y}" in unsigned.body


def test_avon_and_somersets_review_panel_the_iag_chair_and_police_coordinator_are_set_and_asked(operator_pool, api):
    # Seed: "Your application will be reviewed by the IAG Chair and IAG Police Coordinator"
    from chalicelib import bootstrap

    admin = operator_pool.token("ann", "force_admin", "avon-and-somerset")
    for role, address in (("iag_chair", "chair.bristol@example.org"), ("police_coordinator", "pc.bristol@example.org")):
        status, _ = _operator_call(api, admin, "PUT", f"/admin/forces/avon-and-somerset/roles/bristol/{role}",
                                   {"name": role.replace("_", " ").title(), "email": address})
        assert status == 200
    reference = apply_to(api, "avon-and-somerset").json_body["reference"]
    bootstrap.container().review.advance("avon-and-somerset", reference)
    for address in ("chair.bristol@example.org", "pc.bristol@example.org"):
        assert [m for m in _sent_to(address) if reference in m.subject and "/review/" in m.body]


def test_northamptonshires_vetting_unit_an_operator_sets_is_asked_to_renew_a_members_check(operator_pool, api):
    # Seed: "all members are police checked to a basic screening level": checks are kept current
    from chalicelib import bootstrap

    admin = operator_pool.token("ann", "force_admin", "northamptonshire")
    status, _ = _operator_call(api, admin, "PUT", "/admin/forces/northamptonshire/roles/force/vetting_unit",
                               {"name": "Vetting Unit", "email": "vetting@northants-vetting.example"})
    assert status == 200
    _member("northamptonshire", "northampton", "NOR-1", screening={
        "level": "basic", "outcome": "clear", "completed_on": "2024-01-10", "expires_on": "2027-01-10"})
    bootstrap.container().membership.daily("northamptonshire")
    [asked] = _sent_to("vetting@northants-vetting.example")
    assert "NOR-1" in asked.subject
    assert not _sent_to("vetting.unit@northamptonshire.police.example")  # the profile's placeholder is not used


def test_avon_and_somersets_media_contact_is_a_role_an_operator_gives_to_a_person(operator_pool, api):
    # Seed: "Avon and Somerset Police's Corporate Communications Department is available to advise and support IAG
    # members in commenting to the media. Call 101 and ask for the Duty Media Officer." (no address given)
    admin = operator_pool.token("ann", "force_admin", "avon-and-somerset")
    status, _ = _operator_call(api, admin, "PUT", "/admin/forces/avon-and-somerset/roles/force/media",
                               {"name": "Duty Media Officer", "email": "media@asp-comms.example"})
    assert status == 200
    _, listed = _operator_call(api, admin, "GET", "/admin/forces/avon-and-somerset/roles")
    [media] = [r for r in listed["roles"] if (r["scope"], r["role"]) == ("force", "media")]
    assert media["holder"] == {"name": "Duty Media Officer", "email": "media@asp-comms.example"}


def test_an_avon_and_somerset_appeal_with_no_assistant_chief_constable_tells_the_coordinator_at_once(api):
    # Seed: "this would be a matter for the Strategic IAG Chair and Assistant Chief Constable to consider"
    from chalicelib import bootstrap
    from chalicelib.adapters.dynamodb.review import DynamoReviewStore

    store = DynamoReviewStore()
    store.put_reviewer("avon-and-somerset", "bristol", "iag_chair", "Chair", "chair.bristol@example.org")
    store.put_reviewer("avon-and-somerset", "bristol", "police_coordinator", "PC", "pc.bristol@example.org")
    store.put_reviewer("avon-and-somerset", "appeal", "strategic_iag_chair", "SIAG Chair", "siag@example.org")
    reference = apply_to(api, "avon-and-somerset").json_body["reference"]
    container = bootstrap.container()
    container.review.advance("avon-and-somerset", reference)
    [link] = [t for m in _sent_to("chair.bristol@example.org") for t in _tokens(m, "review")]
    assert _post_form(api, f"/review/{link}", {"decision": "reject", "reason": "Not this year."}) == 200
    container.review.advance("avon-and-somerset", reference)
    [appeal] = [t for m in _sent_to("amira.khan@example.org") for t in _tokens(m, "appeal")]  # the applicant
    assert _post_form(api, f"/appeal/{appeal}", {"grounds": "I can attend every meeting now."}) == 200
    container.review.advance("avon-and-somerset", reference)
    coordinator = container.forces.require("avon-and-somerset").contacts["iag_coordinator"].email
    notices = [m for m in _sent_to(coordinator) if "assistant chief constable" in m.subject.lower()]
    assert len(notices) == 1 and [m for m in _sent_to("siag@example.org") if reference in m.subject]


def _tokens(message, path):
    """The tokens of the links to /path/ in an email's HTML (moto keeps raw emails whole)."""
    import email
    import email.policy
    import re

    if hasattr(message, "raw_data"):
        body = email.message_from_string(message.raw_data, policy=email.policy.default).get_body(
            ("html", "plain")).get_content()
    else:
        body = message.body
    return list(dict.fromkeys(re.findall(rf'/{path}/([A-Za-z0-9_-]+)', body)))


def _post_form(api, path, fields):
    from urllib.parse import urlencode

    return api.http.post(path, body=urlencode(fields),
                         headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code


def test_a_northamptonshire_member_whose_check_expired_is_not_called_out_and_is_told_why(api):
    # Seeds: "members may also be called if specific issues arise" (Derbyshire); "all members are police checked
    # to a basic screening level" (Northamptonshire): only members with a current check are called.
    from chalicelib import bootstrap

    current = {"level": "basic", "outcome": "clear", "completed_on": "2025-06-10", "expires_on": "2028-06-10"}
    lapsed = {"level": "basic", "outcome": "clear", "completed_on": "2023-01-10", "expires_on": "2026-01-10"}
    _member("northamptonshire", "northampton", "NOR-1", screening=current)
    _member("northamptonshire", "northampton", "NOR-2", screening=lapsed)
    container = bootstrap.container()
    assert container.membership.daily("northamptonshire")["paused"] == 1
    [told] = [m for m in _sent_to("nor-2@example.org") if m.subject == "You are paused from call-outs"]
    assert "expired on 10 January 2026" in told.body
    incident = container.callouts.raise_incident(
        "northamptonshire", title="Disorder after the match", summary="Advice on reassurance",
        respond_within=timedelta(hours=2), police_lead_name="Supt Lead", police_lead_email="lead@northants.example",
        raised_by="operator:test", groups=["northampton"])
    assert [r.member_id for r, _ in container.callout_store.responses("northamptonshire", incident.id)] == ["NOR-1"]


def test_northamptonshires_strategic_iag_chair_nominated_by_the_group_takes_the_strategic_iag_chair_role():
    # Seed: "the chair will be nominated by the group itself" and the Chief Superintendent arranges "matters for
    # discussion, alongside the chair"
    from chalicelib.domain.roles import office_role

    force, _ = _offices("northamptonshire")
    taken = {(o.scope, o.role) for o in office_role(force, "strategic", "chair")}
    assert ("strategic", "strategic_iag_chair") in taken
    assert {(o.scope, o.role) for o in office_role(force, "northampton", "chair")} == {("northampton", "iag_chair")}


def test_avon_and_somerset_members_read_the_papers_beforehand_through_short_lived_links(operator_pool, api):
    # Seed: "at least four meetings a year, along with the need to read materials beforehand"
    import base64

    from chalicelib import bootstrap

    from chalicelib.adapters.s3_documents import S3Documents

    _member("avon-and-somerset", "bristol", "AS-1")
    container = bootstrap.container()
    S3Documents(container.settings.documents_bucket, container.settings.region).ensure_bucket()
    first = container.meetings.plan("avon-and-somerset", "bristol")[0].meeting.uid_key
    admin = operator_pool.token("ann", "force_admin", "avon-and-somerset")
    path = f"/admin/forces/avon-and-somerset/groups/bristol/meetings/{first}"
    status, _ = _operator_call(api, admin, "POST", f"{path}/papers", {
        "filename": "stop-and-search.pdf", "title": "Stop and search update",
        "content_base64": base64.b64encode(b"%PDF-1.4 the update").decode()})
    assert status == 201
    assert _operator_call(api, admin, "POST", f"{path}/send-papers", {})[1] == {"sent": 1}
    [papers] = [t for m in _sent_to("as-1@example.org") for t in _tokens(m, "papers")]
    page = api.http.get(f"/papers/{papers}")
    assert page.status_code == 200 and "Stop and search update" in page.body.decode()
    paper = api.http.get(f"/papers/{papers}/1")
    assert paper.status_code in (302, 303) and "X-Amz-Expires=900" in paper.headers["Location"]


def test_derbyshire_members_answer_attendance_and_the_coordinator_records_who_came(operator_pool, api, clock):
    # Seed: "Members would have to commit to regular attendance"
    from chalicelib import bootstrap

    _member("derbyshire", "derbyshire-iag", "DER-1")
    _member("derbyshire", "derbyshire-iag", "DER-2")
    container = bootstrap.container()
    container.meetings.plan("derbyshire", "derbyshire-iag")
    container.meetings.tell_members("derbyshire", "derbyshire-iag")
    [answer, *_] = _tokens(_sent_to("der-2@example.org")[0], "attend")
    assert _post_form(api, f"/attend/{answer}", {"answer": "apologies"}) == 200
    business = container.meeting_business
    [planned] = [p for p in container.meetings.upcoming("derbyshire", "derbyshire-iag")
                 if business.meeting_record("derbyshire", "derbyshire-iag", p.meeting.uid_key)["answers"]]
    clock.moment = planned.meeting.starts_at + timedelta(minutes=30)
    admin = operator_pool.token("ann", "force_admin", "derbyshire")
    status, record = _operator_call(
        api, admin, "POST",
        f"/admin/forces/derbyshire/groups/derbyshire-iag/meetings/{planned.meeting.uid_key}/attendance",
        {"present": ["DER-1"]})
    assert status == 200, record
    assert record["attended"] == ["DER-1"] and record["answers"] == {"DER-2": "apologies"}


@pytest.mark.parametrize("force_id", sorted(HOME))
def test_no_seed_states_a_term_so_each_is_a_placeholder_and_ends_membership_only_visibly(api, clock, force_id):
    # No seed gives a term of office: "term_years" is a placeholder; a term that runs out ends membership and the
    # member is told (issue 15: "no silent expiry").
    from datetime import date

    from chalicelib import bootstrap

    container = bootstrap.container()
    force = container.forces.require(force_id)
    assert any(p["pointer"] in ("/onboarding/term_years", "/onboarding") for p in force.placeholders)
    group = HOME[force_id][0]
    _member(force_id, group, "END-1", term_ends_on=date(2026, 11, 21))
    assert container.membership.daily(force_id)["ended"] == 1
    [told] = [m for m in _sent_to("end-1@example.org") if m.subject == "Your membership has ended"]
    assert "The term ended on 21 November 2026 and was not renewed." in told.body


def test_thames_valley_area_is_its_postcode_districts_not_whole_areas_reaching_into_hampshire(api):
    # Seed: the IAG advises "the LPA (local policing area) and Thames Valley Police"; RG covers Reading and Basingstoke
    reading = apply_to(api, "thames-valley").json_body
    basingstoke = apply_to(api, "thames-valley", applicant={"postcode": "RG21 7LJ", "email": "b@example.org"}).json_body
    assert reading["status"] == "awaiting_review"
    assert [r["code"] for r in basingstoke["reasons"]] == ["outside_force_area"]


def test_greater_manchester_sends_a_request_for_an_accessible_pack_to_pc_dave_willetts(api):
    # Seed: "If you require an accessible version of the application pack, please contact PC Dave Willetts"
    from chalicelib import bootstrap

    request_id = bootstrap.container().pack_requests.request(
        "greater-manchester", {"name": "Pat", "email": "pat@example.org", "format": "large_print"})
    asked = _sent_to("dave.willetts@greater-manchester.police.example")
    assert asked and request_id in (asked[0].body if hasattr(asked[0], "body") else asked[0].raw_data)
