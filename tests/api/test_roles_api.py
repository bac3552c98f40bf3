"""Every role a force's documents name, set by operators: who may set what, distinct panels, links that follow the
person, and the coordinator told when a role is empty or a holder would act on their own application."""
from __future__ import annotations

import json
import re

import pytest

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.review import DynamoReviewStore
from tests.conftest import sent_emails
from tests.services.review_panel import PANEL, applied
from tests.services.review_panel import seat_panel as seat

COORDINATOR = "helen.ham@derbyshire.police.uk"  # Derbyshire's IAG coordinator in its profile


def call(api, token, method, path, body=None):
    headers = {"Authorization": token}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return getattr(api.http, method.lower())(path, headers=headers,
                                             **({"body": json.dumps(body)} if body is not None else {}))


def to(address: str) -> list:
    return [m for m in sent_emails() if address in m.destinations["ToAddresses"]]


def review_links(address: str) -> list[str]:
    return [t for m in to(address) for t in re.findall(r'/review/([A-Za-z0-9_-]+)"', m.body)]


def test_a_force_administrator_sets_the_appeal_panel_and_a_coordinator_cannot(operator_pool, api):
    admin = operator_pool.token("ann", "force_admin", "avon-and-somerset")
    for role, email in (("strategic_iag_chair", "sc@asp.example"), ("assistant_chief_constable", "acc@asp.example")):
        answer = call(api, admin, "PUT", f"/admin/forces/avon-and-somerset/roles/appeal/{role}",
                      {"name": role.title(), "email": email})
        assert answer.status_code == 200, answer.body
    coordinator = operator_pool.token("cy", "coordinator", "avon-and-somerset", "bristol")
    refused = call(api, coordinator, "PUT", "/admin/forces/avon-and-somerset/roles/appeal/strategic_iag_chair",
                   {"name": "Someone Else", "email": "else@asp.example"})
    assert refused.status_code == 403
    listed = json.loads(call(api, admin, "GET", "/admin/forces/avon-and-somerset/roles").body)["roles"]
    appeal = {r["role"]: r["holder"]["email"] for r in listed if r["scope"] == "appeal"}
    assert appeal == {"strategic_iag_chair": "sc@asp.example", "assistant_chief_constable": "acc@asp.example"}


def test_northamptonshires_strategic_iag_senior_representatives_are_set_by_its_coordinator(operator_pool, api):
    coordinator = operator_pool.token("cs", "coordinator", "northamptonshire", "strategic")
    for role in ("chief_superintendent", "opfcc_representative"):
        answer = call(api, coordinator, "PUT", f"/admin/forces/northamptonshire/roles/strategic/{role}",
                      {"name": role.title(), "email": f"{role}@nth.example"})
        assert answer.status_code == 200, answer.body
    assert set(DynamoReviewStore().panel_members("northamptonshire", "strategic")) == {
        "chief_superintendent", "opfcc_representative"}
    local = operator_pool.token("cl", "coordinator", "northamptonshire", "northampton")
    assert call(api, local, "PUT", "/admin/forces/northamptonshire/roles/strategic/chief_superintendent",
                {"name": "X", "email": "x@nth.example"}).status_code == 403


def test_another_forces_administrator_is_refused_and_changes_nothing(operator_pool, api):
    other = operator_pool.token("tv", "force_admin", "thames-valley")
    assert call(api, other, "GET", "/admin/forces/derbyshire/roles").status_code == 403
    assert call(api, other, "PUT", "/admin/forces/derbyshire/roles/force/vetting_unit",
                {"name": "Vetting", "email": "v@example.org"}).status_code == 403
    assert DynamoReviewStore().panel_members("derbyshire", "force") == {}


@pytest.mark.parametrize("path, body, status", [
    ("/admin/forces/derbyshire/roles/force/sheriff", {"name": "X", "email": "x@example.org"}, 400),
    ("/admin/forces/derbyshire/roles/no-such-group/iag_chair", {"name": "X", "email": "x@example.org"}, 404),
    ("/admin/forces/derbyshire/roles/force/media", {"name": "X", "email": "not an address"}, 400),
    ("/admin/forces/derbyshire/roles/force/media", {"name": "", "email": "x@example.org"}, 400),
])
def test_a_role_that_does_not_exist_or_a_bad_holder_is_refused_and_changes_nothing(operator_pool, api, path, body,
                                                                                    status):
    admin = operator_pool.token("ann", "force_admin", "derbyshire")
    assert call(api, admin, "PUT", path, body).status_code == status
    assert DynamoReviewStore().panel_members("derbyshire", "force") == {}


def test_the_vetting_unit_and_coordinator_an_operator_sets_are_the_ones_emailed(operator_pool, api):
    admin = operator_pool.token("ann", "force_admin", "derbyshire")
    assert call(api, admin, "PUT", "/admin/forces/derbyshire/roles/force/iag_coordinator",
                {"name": "New Coordinator", "email": "new.coord@derbyshire.example"}).status_code == 200
    force = bootstrap.container().forces.get("derbyshire")
    assert force.contacts["iag_coordinator"].email == "new.coord@derbyshire.example"
    # A review with nobody in one of its roles: the coordinator the operator set is told at once, by email.
    seat({"iag_chair": PANEL["iag_chair"]})
    reference = applied(api)
    bootstrap.container().review.advance("derbyshire", reference)
    [notice] = to("new.coord@derbyshire.example")
    assert "Nobody is" in notice.subject and reference in notice.body
    assert to(COORDINATOR) == []


def test_one_person_cannot_hold_two_roles_of_the_appeal_panel(operator_pool, api):
    admin = operator_pool.token("ann", "force_admin", "avon-and-somerset")
    assert call(api, admin, "PUT", "/admin/forces/avon-and-somerset/roles/appeal/strategic_iag_chair",
                {"name": "Sam Chair", "email": "sam@asp.example"}).status_code == 200
    answer = call(api, admin, "PUT", "/admin/forces/avon-and-somerset/roles/appeal/assistant_chief_constable",
                  {"name": "Sam Chair", "email": "SAM@asp.example"})
    assert answer.status_code == 400 and "distinct people" in answer.body.decode()
    assert "assistant_chief_constable" not in DynamoReviewStore().panel_members("avon-and-somerset", "appeal")


def test_a_new_panel_holder_gets_fresh_links_and_the_previous_holders_links_stop_working(operator_pool, api):
    seat()
    reference = applied(api)
    bootstrap.container().review.advance("derbyshire", reference)
    [old_link] = review_links(PANEL["iag_chair"])
    assert api.http.get(f"/review/{old_link}").status_code == 200
    admin = operator_pool.token("ann", "force_admin", "derbyshire")
    answer = call(api, admin, "PUT", "/admin/forces/derbyshire/roles/derbyshire-iag/iag_chair",
                  {"name": "New Chair", "email": "new.chair@derbyshire.example"})
    assert json.loads(answer.body)["requests_sent"] == 1
    assert api.http.get(f"/review/{old_link}").status_code == 409  # superseded: it followed the person out
    refused = api.http.post(f"/review/{old_link}", body="decision=approve",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert refused.status_code in (409, 410)
    [new_link] = review_links("new.chair@derbyshire.example")
    assert reference in api.http.get(f"/review/{new_link}").body.decode()


def test_nobody_is_asked_to_review_their_own_application_and_the_coordinator_is_told(api):
    seat()
    reference = applied(api, email=PANEL["police_coordinator"].upper())
    bootstrap.container().review.advance("derbyshire", reference)
    assert review_links(PANEL["police_coordinator"]) == []
    assert len(review_links(PANEL["iag_chair"])) == 1
    [notice] = [m for m in to(COORDINATOR) if "own application" in m.subject]
    assert reference in notice.subject


def test_a_strategic_cycle_without_a_local_chair_tells_the_coordinator_by_email_once(api):
    strategic = bootstrap.container().strategic
    cycle = strategic.start_cycle("northamptonshire")
    strategic.advance("northamptonshire", cycle.id)
    strategic.advance("northamptonshire", cycle.id)
    coordinator = bootstrap.container().forces.require("northamptonshire").contacts["iag_coordinator"].email
    notices = [m for m in to(coordinator) if m.subject.startswith("Nobody is")]
    assert len(notices) == 4  # one per local IAG, however often the cycle is advanced
    assert any("Northampton IAG" in m.subject for m in notices)
