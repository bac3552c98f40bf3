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
