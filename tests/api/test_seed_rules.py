"""Each rule a seed document states, shown through the API an applicant uses."""
from datetime import datetime, timezone

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
