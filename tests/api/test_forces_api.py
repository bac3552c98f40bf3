from datetime import datetime, timezone

SEED_FORCES = {"derbyshire", "thames-valley", "northamptonshire", "greater-manchester", "avon-and-somerset"}


def test_the_public_can_list_all_five_forces_with_their_groups(api):
    response = api.http.get("/forces")
    assert response.status_code == 200
    forces = {f["id"]: f for f in response.json_body["forces"]}
    assert set(forces) == SEED_FORCES
    for force in forces.values():
        for group in force["groups"]:
            assert {"id", "name", "kind", "open_to_applicants", "screening"} <= set(group)
            assert group["kind"] in {"local", "specialist", "strategic"}


def test_a_force_page_explains_eligibility_and_who_to_ask_for_an_accessible_pack(api):
    force = api.http.get("/forces/greater-manchester").json_body
    assert "You must be 18 or over." in force["eligibility"]["summary"]
    assert force["contacts"]["accessible_formats"]["name"] == "PC Dave Willetts"
    assert "large_print" in force["application_pack"]["accessible_formats"]
    assert force["campaigns"][0]["opens"] == "2022-04-01"
    assert force["application_pack"]["documents"] == [
        {"title": "IAG information and application pack",
         "path": "/forces/greater-manchester/application-pack/documents/iag-application-pack.html"}]


def test_thames_valley_explains_its_independence_rule_in_plain_english(api):
    summary = api.http.get("/forces/thames-valley").json_body["eligibility"]["summary"]
    assert any("employed by the police" in line and "linked to the judiciary" in line for line in summary)


def test_closed_groups_say_so_and_why(api):
    groups = {g["id"]: g for g in api.http.get("/forces/avon-and-somerset").json_body["groups"]}
    assert groups["strategic"]["open_to_applicants"] is False
    assert "not open to new applicants" in groups["strategic"]["closed_reason"]
    assert groups["bristol"]["open_to_applicants"] is True and "closed_reason" not in groups["bristol"]


def test_screening_shows_per_group(api):
    avon = {g["id"]: g["screening"] for g in api.http.get("/forces/avon-and-somerset").json_body["groups"]}
    northants = {g["screening"] for g in api.http.get("/forces/northamptonshire").json_body["groups"]}
    assert avon["counter-terrorism"] == "limited" and avon["bristol"] == "none"
    assert northants == {"basic"}


def test_a_campaign_that_has_not_opened_shows_the_group_closed_until_its_date(api, clock):
    clock.moment = datetime(2022, 3, 31, 12, tzinfo=timezone.utc)
    group = api.http.get("/forces/greater-manchester").json_body["groups"][0]
    assert group["open_to_applicants"] is False
    assert group["closed_reason"].endswith("open on 1 April 2022.")


def test_an_unknown_force_is_a_404_problem(api):
    response = api.http.get("/forces/atlantis")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json_body["type"] == "/problems/unknown-force"


def test_placeholders_stay_internal(api):
    assert "placeholders" not in api.http.get("/forces/derbyshire").body.decode()
