"""The admin API as operators meet it: tenancy by force and group, roles, and what each route does."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.review import DynamoReviewStore
from tests.conftest import sent_emails
from tests.factories import application_payload, post_json
from tests.services.review_panel import PANEL, seat_panel

REF = "{ref}"


MEMBER, MEETING = "DER-M1", "m-2027-01-12"  # a member and a planned meeting of derbyshire-iag (no force id in them)


@pytest.fixture
def derbyshire(api):
    return seed_derbyshire()


def seed_derbyshire() -> DynamoReviewStore:
    """Derbyshire IAG's panel, a member and a planned meeting: what the admin routes act on."""
    from datetime import date, datetime, timezone

    from chalicelib.adapters.dynamodb.joining import member_item
    from chalicelib.domain.meeting_plans import PlannedMeeting
    from chalicelib.domain.meetings import Meeting
    from chalicelib.domain.membership import Member, Role

    store = DynamoReviewStore()
    seat_panel()
    member_item(Member(MEMBER, "derbyshire", "derbyshire-iag", Role.MEMBER, "Dee Member", "dee@example.org", "",
                        date(2026, 1, 5), date(2029, 1, 5))).save()
    start = datetime(2027, 1, 12, 18, 30, tzinfo=timezone.utc)
    bootstrap.container().meeting_store.add("derbyshire", "derbyshire-iag", PlannedMeeting(Meeting(
        MEETING, "Derbyshire IAG: IAG meeting", start, start.replace(hour=20, minute=30), "Force HQ", True)), start)
    return store


def applied(api, email="amira.khan@example.org", given_name="Amira") -> str:
    return post_json(api, "/forces/derbyshire/applications",
                     application_payload(applicant={"email": email, "given_name": given_name})).json_body["reference"]


def call(api, token, method, path, body=None):
    headers = {"Authorization": token}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return getattr(api.http, method.lower())(path, headers=headers,
                                             **({"body": json.dumps(body)} if body is not None else {}))


REVIEWER = {"name": "New Chair", "email": "new.chair@derbyshire.example"}
# Every admin route, as an operator would call it on Derbyshire's data.
ROUTES = [
    ("GET", "/admin/forces/derbyshire/groups/derbyshire-iag/applications?stage=awaiting_review", None),
    ("GET", f"/admin/forces/derbyshire/applications/{REF}", None),
    ("POST", f"/admin/forces/derbyshire/applications/{REF}/retry", None),
    ("POST", f"/admin/forces/derbyshire/applications/{REF}/cancel", None),
    ("POST", f"/admin/forces/derbyshire/applications/{REF}/resend", None),
    ("POST", f"/admin/forces/derbyshire/applications/{REF}/residency", None),
    ("GET", "/admin/forces/derbyshire/groups/derbyshire-iag/reviewers", None),
    ("GET", "/admin/forces/derbyshire/roles", None),
    ("PUT", "/admin/forces/derbyshire/roles/derbyshire-iag/iag_chair", REVIEWER),
    ("POST", "/admin/forces/derbyshire/members/import", {"dry_run": False, "csv": (
        "name,email,group,role,joined_on\nNew Member,new.member@example.org,derbyshire-iag,member,2024-01-08\n")}),
    ("PUT", "/admin/forces/derbyshire/groups/derbyshire-iag/reviewers/iag_chair", REVIEWER),
    ("GET", "/admin/forces/derbyshire/groups/derbyshire-iag/export", None),
    ("GET", "/admin/forces/derbyshire/access-log", None),
    ("GET", "/admin/forces/derbyshire/reports/equality", None),
    ("POST", "/admin/forces/derbyshire/subject-access", {"reference": REF}),
    ("GET", "/admin/forces/derbyshire/subject-access", None),
    ("POST", f"/admin/forces/derbyshire/applications/{REF}/erasure", {"reason": "Email of 20 Nov", "confirm": REF}),
    ("GET", "/admin/forces/derbyshire/reports/recruitment?group=derbyshire-iag", None),
    ("GET", f"/admin/forces/derbyshire/groups/derbyshire-iag/members/{MEMBER}", None),
    ("POST", f"/admin/forces/derbyshire/groups/derbyshire-iag/members/{MEMBER}/status",
     {"change": "suspend", "reason": "A reason"}),
    ("POST", f"/admin/forces/derbyshire/groups/derbyshire-iag/members/{MEMBER}/renewal", {"agree": True}),
    ("POST", f"/admin/forces/derbyshire/groups/derbyshire-iag/members/{MEMBER}/screening",
     {"outcome": "clear", "level": "basic", "completed_on": "2026-11-01"}),
    ("PUT", "/admin/forces/derbyshire/groups/derbyshire-iag/online-link",
     {"url": "https://teams.example/join", "series": "IAG meeting"}),
    ("GET", f"/admin/forces/derbyshire/groups/derbyshire-iag/meetings/{MEETING}", None),
    ("POST", f"/admin/forces/derbyshire/groups/derbyshire-iag/meetings/{MEETING}/papers",
     {"filename": "a.txt", "content_base64": "aGVsbG8="}),
    ("POST", f"/admin/forces/derbyshire/groups/derbyshire-iag/meetings/{MEETING}/send-papers", None),
    ("POST", f"/admin/forces/derbyshire/groups/derbyshire-iag/meetings/{MEETING}/attendance", {"present": []}),
    ("POST", f"/admin/forces/derbyshire/groups/derbyshire-iag/meetings/{MEETING}/minutes", {"text": "We met."}),
    ("POST", f"/admin/forces/derbyshire/groups/derbyshire-iag/actions/{MEETING}-1/close", None),
]
CHANGES = [r for r in ROUTES if r[0] != "GET"]


def test_every_admin_route_is_in_the_tenancy_tests():
    from app import app

    registered = {(method, path) for path, entries in app.routes.items() if path.startswith("/admin/forces/")
                  for method in entries}
    listed = {(method, re.sub(r"\?.*", "", path).replace("derbyshire-iag", "{group_id}").replace("derbyshire", "{force_id}")
               .replace(REF, "{reference}").replace("/iag_chair", "/{role}").replace("/roles/{group_id}", "/roles/{scope}")
               .replace(f"/actions/{MEETING}-1", "/actions/{action_id}")
               .replace(f"/meetings/{MEETING}", "/meetings/{uid_key}").replace(f"/members/{MEMBER}", "/members/{member_id}"))
              for method, path, _ in ROUTES}
    from tests.api.test_admin_business_api import ROUTES as BUSINESS, registered_paths

    assert registered == listed | registered_paths(BUSINESS)  # call-outs, meetings, elections, cycles: there


def changeable_state(workflow, reference=None) -> tuple:
    """What any admin change would alter: reviewers, emails, Prefect calls, the application itself."""
    application = bootstrap.container().repository.get("derbyshire", reference) if reference else None
    from chalicelib.adapters.dynamodb.joining import DynamoJoiningStore

    return (DynamoReviewStore().panel_members("derbyshire", "derbyshire-iag"), len(sent_emails()),
            DynamoJoiningStore().members("derbyshire", "derbyshire-iag"),
            len(workflow.started), len(workflow.retried), len(workflow.cancelled), len(workflow.resumed),
            application)


def with_reference(body, reference):
    return json.loads(json.dumps(body).replace(REF, reference)) if body is not None else None


@pytest.mark.parametrize("method, path, body", [r for r in ROUTES if r[0] == "GET"])
def test_the_forces_auditor_and_the_platform_can_read(operator_pool, api, derbyshire, method, path, body):
    reference = applied(api)
    for who in (("aud", "auditor", "derbyshire"), ("plat", "platform")):
        assert call(api, operator_pool.token(*who), method, path.replace(REF, reference)).status_code == 200


def test_a_coordinator_lists_their_groups_applications_newest_first_a_page_at_a_time(operator_pool, api, derbyshire,
                                                                                     clock):
    from datetime import timedelta

    references = []
    for n in range(3):
        references.append(applied(api, email=f"person{n}@example.org", given_name=f"Person{n}"))
        clock.moment += timedelta(minutes=1)
    token = operator_pool.token("coord", "coordinator", "derbyshire", "derbyshire-iag")
    path = "/admin/forces/derbyshire/groups/derbyshire-iag/applications?stage=awaiting_review&limit=2"
    first = json.loads(call(api, token, "GET", path).body)
    assert [a["reference"] for a in first["applications"]] == references[::-1][:2]
    assert first["applications"][0]["name"].startswith("Person2")
    second = json.loads(call(api, token, "GET", f"{path}&next={first['next']}").body)
    assert [a["reference"] for a in second["applications"]] == references[:1]
    assert call(api, token, "GET", path.replace("awaiting_review", "pending")).status_code == 400
    assert call(api, token, "GET", f"{path}&next=bm9wZQ").status_code == 400


def test_viewing_an_application_shows_its_timeline_and_runs_and_is_itself_recorded(operator_pool, api, derbyshire,
                                                                                   workflow):
    reference = applied(api)
    admin = operator_pool.token("ann", "force_admin", "derbyshire")
    body = json.loads(call(api, admin, "GET", f"/admin/forces/derbyshire/applications/{reference}").body)
    assert body["applicant"]["email"] == "amira.khan@example.org"
    assert [e["to"] for e in body["timeline"] if "to" in e][:2] == ["submitted", "awaiting_review"]
    assert body["runs"][0]["id"] == f"run-{reference}"
    again = json.loads(call(api, admin, "GET", f"/admin/forces/derbyshire/applications/{reference}").body)
    reads = [e for e in again["timeline"] if e["what"] == "operator view"]
    assert len(reads) == 2 and reads[0]["by"].startswith("force_admin ")  # recorded before the data is given
    log = json.loads(call(api, operator_pool.token("aud", "auditor", "derbyshire"), "GET",
                          "/admin/forces/derbyshire/access-log?month=2026-11").body)
    assert [(r["action"], r["reference"]) for r in log["reads"]] == [("view", reference), ("view", reference)]
    assert "amira" not in json.dumps(log).lower()


def test_an_unknown_application_is_404_within_the_force(operator_pool, api, derbyshire):
    admin = operator_pool.token("ann", "force_admin", "derbyshire")
    assert call(api, admin, "GET", "/admin/forces/derbyshire/applications/DER-2026-NOPE0000").status_code == 404
    assert call(api, admin, "GET", "/admin/forces/atlantis/access-log").status_code == 404


def test_retry_starts_a_missing_run_reruns_a_dead_one_and_wakes_a_suspended_one(operator_pool, api, derbyshire,
                                                                               workflow):
    reference = applied(api)
    admin = operator_pool.token("ann", "force_admin", "derbyshire")
    path = f"/admin/forces/derbyshire/applications/{reference}/retry"
    assert json.loads(call(api, admin, "POST", path).body)["done"] == "woken"
    workflow.runs = lambda name: [{"id": "run-x", "state": "CRASHED"}]
    assert json.loads(call(api, admin, "POST", path).body) == {"done": "retried", "run": "run-x"}
    assert workflow.retried == ["run-x"]
    workflow.runs = lambda name: [{"id": "run-x", "state": "RUNNING"}]
    assert call(api, admin, "POST", path).status_code == 409
    workflow.runs = lambda name: []
    assert json.loads(call(api, admin, "POST", path).body)["done"] == "started"
    assert workflow.started[-1]["name"] == reference


def test_cancel_stops_the_run_and_the_application_keeps_its_stage(operator_pool, api, derbyshire, workflow):
    reference = applied(api)
    admin = operator_pool.token("ann", "force_admin", "derbyshire")
    answer = call(api, admin, "POST", f"/admin/forces/derbyshire/applications/{reference}/cancel")
    assert json.loads(answer.body) == {"done": "cancelled", "runs": [f"run-{reference}"]}
    assert workflow.cancelled == [f"run-{reference}"]
    assert bootstrap.container().repository.get("derbyshire", reference).stage.value == "awaiting_review"
    workflow.runs = lambda name: [{"id": "run-x", "state": "CANCELLED"}]
    assert call(api, admin, "POST", f"/admin/forces/derbyshire/applications/{reference}/cancel").status_code == 409


def _review_links(address: str) -> list[str]:
    return [t for m in sent_emails() if address in m.destinations["ToAddresses"]
            for t in re.findall(r'/review/([A-Za-z0-9_-]+)"', m.body)]


def test_resend_gives_the_panel_members_who_have_not_answered_a_fresh_working_link(operator_pool, api, derbyshire,
                                                                                   clock):
    reference = applied(api)
    bootstrap.container().review.advance("derbyshire", reference)
    first = _review_links(PANEL["iag_chair"])
    coordinator = operator_pool.token("coord", "coordinator", "derbyshire", "derbyshire-iag")
    answer = call(api, coordinator, "POST", f"/admin/forces/derbyshire/applications/{reference}/resend")
    assert json.loads(answer.body) == {"done": "resent", "emails": 2}
    fresh = [t for t in _review_links(PANEL["iag_chair"]) if t not in first]
    assert len(fresh) == 1 and api.http.get(f"/review/{fresh[0]}").status_code == 200
    # A double click within the minute sends nothing more.
    assert json.loads(call(api, coordinator, "POST",
                           f"/admin/forces/derbyshire/applications/{reference}/resend").body)["emails"] == 0


def test_resend_refuses_when_nothing_waits_on_a_link(operator_pool, api, derbyshire):
    reference = post_json(api, "/forces/derbyshire/applications", application_payload(
        applicant={"date_of_birth": "2015-01-01"})).json_body["reference"]
    answer = call(api, operator_pool.token("ann", "force_admin", "derbyshire"), "POST",
                  f"/admin/forces/derbyshire/applications/{reference}/resend")
    assert answer.status_code == 409 and "ineligible" in answer.body.decode()


def test_changing_a_reviewer_sends_them_the_requests_waiting_on_that_role(operator_pool, api, derbyshire):
    reference = applied(api)
    bootstrap.container().review.advance("derbyshire", reference)
    admin = operator_pool.token("ann", "force_admin", "derbyshire")
    answer = call(api, admin, "PUT", "/admin/forces/derbyshire/groups/derbyshire-iag/reviewers/iag_chair", REVIEWER)
    assert answer.status_code == 200 and json.loads(answer.body)["requests_sent"] == 1
    token = _review_links(REVIEWER["email"])[0]
    assert reference in api.http.get(f"/review/{token}").body.decode()
    panel = json.loads(call(api, admin, "GET", "/admin/forces/derbyshire/groups/derbyshire-iag/reviewers").body)
    assert panel["panel"]["iag_chair"] == REVIEWER


@pytest.mark.parametrize("body, why", [
    ({"name": "X", "email": "not-an-address"}, "email"),
    ({"name": "", "email": "x@example.org"}, "name"),
    ({"name": "X", "email": "x@example.org", "role": "ignored"}, None),
])
def test_a_reviewer_must_have_a_name_and_address_and_a_real_panel_role(operator_pool, api, derbyshire, body, why):
    admin = operator_pool.token("ann", "force_admin", "derbyshire")
    answer = call(api, admin, "PUT", "/admin/forces/derbyshire/groups/derbyshire-iag/reviewers/iag_chair", body)
    if why:
        assert answer.status_code == 400 and why in answer.body.decode()
        assert DynamoReviewStore().panel_members("derbyshire", "derbyshire-iag")["iag_chair"][1] == PANEL["iag_chair"]
    else:
        assert answer.status_code == 200
    wrong_role = call(api, admin, "PUT", "/admin/forces/derbyshire/groups/derbyshire-iag/reviewers/sheriff", REVIEWER)
    assert wrong_role.status_code == 400


def test_export_is_a_spreadsheet_of_the_group_safe_to_open(operator_pool, api, derbyshire):
    reference = applied(api, given_name="=HYPERLINK(\"http://evil.example\")")
    answer = call(api, operator_pool.token("ann", "force_admin", "derbyshire"), "GET",
                  "/admin/forces/derbyshire/groups/derbyshire-iag/export")
    assert answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.body.decode())))
    assert [(r["reference"], r["stage"]) for r in rows] == [(reference, "awaiting_review")]
    assert rows[0]["given_name"].startswith("'=")
    assert "ethnicity" not in answer.body.decode()


def test_reports_are_counts_and_a_coordinator_sees_their_groups_queue(operator_pool, api, derbyshire):
    applied(api)
    coordinator = operator_pool.token("coord", "coordinator", "derbyshire", "derbyshire-iag")
    mine = json.loads(call(api, coordinator, "GET",
                           "/admin/forces/derbyshire/reports/recruitment?group=derbyshire-iag").body)
    assert mine["queue"]["awaiting_review"] == 1 and mine["funnel"]["steps"]["applied"] == 1
    assert call(api, coordinator, "GET", "/admin/forces/derbyshire/reports/recruitment").status_code == 403
    assert call(api, coordinator, "GET", "/admin/forces/derbyshire/reports/equality").status_code == 403
    auditor = operator_pool.token("aud", "auditor", "derbyshire")
    report = call(api, auditor, "GET", "/admin/forces/derbyshire/reports/equality").body.decode()
    assert "amira" not in report.lower() and json.loads(report)["threshold"] == 5
    assert json.loads(report)["published"] is False  # the application's quarter has not ended
    assert call(api, auditor, "GET", "/admin/forces/derbyshire/reports/equality?period=2999-Q1").status_code == 404


def test_subject_access_goes_to_the_person_by_a_single_use_link_and_the_operator_sees_only_the_request(
        operator_pool, api, derbyshire):
    """Issue 14: an operator never sees a named person's equality answers. The package goes to the address on
    file; operators see who asked, when, and when it was delivered; auditors cannot start one."""
    from tests.api.test_applications_api import EQUALITY

    reference = post_json(api, "/forces/derbyshire/applications", application_payload(
        equality_monitoring=EQUALITY)).json_body["reference"]
    admin = operator_pool.token("ann", "force_admin", "derbyshire")
    auditor = operator_pool.token("aud", "auditor", "derbyshire")
    assert call(api, auditor, "POST", "/admin/forces/derbyshire/subject-access", {"reference": reference}
                ).status_code == 403
    emails = len(sent_emails())

    answer = call(api, admin, "POST", "/admin/forces/derbyshire/subject-access", {"email": "Amira.Khan@example.org"})

    assert answer.status_code == 202
    request = json.loads(answer.body)
    assert request["references"] == [reference] and request["requested_by"] and request["delivered_at"] is None
    assert "buddhist" not in answer.body.decode() and "amira" not in answer.body.decode().lower()
    [email] = sent_emails()[emails:]
    assert email.destinations["ToAddresses"] == ["amira.khan@example.org"]  # as on file, not as typed
    [token] = set(re.findall(r"/your-data/([A-Za-z0-9_-]+)", email.body))
    notice = api.http.get(f"/your-data/{token}")
    assert notice.status_code == 200 and "buddhist" not in notice.body.decode()  # GET shows nothing held
    form = {"headers": {"Content-Type": "application/x-www-form-urlencoded"}, "body": ""}
    package = api.http.post(f"/your-data/{token}", **form)
    assert package.status_code == 200 and "buddhist" in package.body.decode() and reference in package.body.decode()
    assert package.headers["Cache-Control"] == "no-store"
    assert api.http.post(f"/your-data/{token}", **form).status_code == 409  # single use

    for reader in (admin, auditor):
        [recorded] = json.loads(call(api, reader, "GET", "/admin/forces/derbyshire/subject-access").body)["requests"]
        assert recorded["id"] == request["id"] and recorded["delivered_at"] and recorded["requested_by"]
        assert "buddhist" not in json.dumps(recorded) and "amira" not in json.dumps(recorded).lower()
    reads = json.loads(call(api, admin, "GET", f"/admin/forces/derbyshire/applications/{reference}").body)["timeline"]
    assert [e["what"] for e in reads].count("operator subject_access_requested") == 1
    assert call(api, admin, "POST", "/admin/forces/derbyshire/subject-access", {}).status_code == 400
    assert call(api, admin, "POST", "/admin/forces/derbyshire/subject-access",
                {"reference": "DBY-2026-NOPE0000"}).status_code == 404
    assert call(api, admin, "POST", "/admin/forces/derbyshire/subject-access",
                {"email": "nobody@example.org"}).status_code == 404


def test_erasure_needs_the_reference_repeated_and_a_reason_then_removes_identity_and_stops_the_run(
        operator_pool, api, derbyshire, workflow):
    reference = applied(api)
    admin = operator_pool.token("ann", "force_admin", "derbyshire")
    path = f"/admin/forces/derbyshire/applications/{reference}/erasure"
    assert call(api, admin, "POST", path, {"reason": "Email of 20 Nov", "confirm": "yes"}).status_code == 400
    assert call(api, admin, "POST", path, {"reason": " ", "confirm": reference}).status_code == 400
    assert bootstrap.container().repository.get("derbyshire", reference).applicant["email"] == "amira.khan@example.org"
    done = json.loads(call(api, admin, "POST", path, {"reason": "Email of 20 Nov", "confirm": reference}).body)
    assert done["runs_cancelled"] == [f"run-{reference}"] and workflow.cancelled == [f"run-{reference}"]
    shell = json.loads(call(api, admin, "GET", f"/admin/forces/derbyshire/applications/{reference}").body)
    assert "amira" not in json.dumps(shell["applicant"]).lower()
    assert shell["stage"] == "withdrawn"
    coordinator = operator_pool.token("coord", "coordinator", "derbyshire", "derbyshire-iag")
    assert call(api, coordinator, "POST", path, {"reason": "x", "confirm": reference}).status_code == 403


def test_one_person_cannot_hold_two_roles_of_the_same_panel(operator_pool, api, derbyshire):
    admin = operator_pool.token("ann", "force_admin", "derbyshire")
    chair = PANEL["iag_chair"]
    other_role = next(role for role in PANEL if role != "iag_chair")
    answer = call(api, admin, "PUT", f"/admin/forces/derbyshire/groups/derbyshire-iag/reviewers/{other_role}",
                  {"name": "Same Person", "email": chair.upper()})
    assert answer.status_code == 400 and "distinct people" in answer.body.decode()
    assert DynamoReviewStore().panel_members("derbyshire", "derbyshire-iag")[other_role][1] == PANEL[other_role]


def test_confirming_residency_of_an_application_not_waiting_for_it_is_a_conflict_and_changes_nothing(
        operator_pool, api, derbyshire, workflow):
    reference = applied(api)
    before = changeable_state(workflow, reference)
    answer = call(api, operator_pool.token("adm", "force_admin", "derbyshire"), "POST",
                  f"/admin/forces/derbyshire/applications/{reference}/residency")
    assert answer.status_code == 409 and "not waiting for evidence of residency" in answer.body.decode()
    assert changeable_state(workflow, reference) == before
