"""The admin API for call-outs, meetings, elections and Strategic IAG cycles, as operators meet it: tenancy by
force and group, roles, the access log, and what each route does (moto in process, a fake Prefect)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.callouts import DynamoCalloutStore
from chalicelib.domain.meeting_plans import PlannedMeeting
from chalicelib.domain.meetings import Meeting
from tests.api.test_admin_api import call
from tests.conftest import sent_emails
from tests.services.test_callouts import member

FORCE, GROUP = "northamptonshire", "northampton"
MEETING = "nor-m-2027-01-11"
INCIDENT, ELECTION = "{incident}", "{election}"
SCREENED = {"screening_outcome": "clear", "screening_level": "basic", "screening_date": "2025-03-01",
            "screening_expires": "2028-03-01"}  # every Northamptonshire member is screened
BASE = f"/admin/forces/{FORCE}"
INCIDENT_BODY = {"title": "Disorder after the match", "summary": "Advice on reassurance", "respond_within_minutes": 120,
                 "police_lead_name": "Supt Lead", "police_lead_email": "lead@northants.example", "groups": [GROUP]}
# Every route of chalicelib/api/admin_business.py, as an operator would call it on Northamptonshire's data.
ROUTES = [
    ("GET", f"{BASE}/incidents", None),
    ("POST", f"{BASE}/incidents", INCIDENT_BODY),
    ("GET", f"{BASE}/incidents/{INCIDENT}", None),
    ("POST", f"{BASE}/incidents/{INCIDENT}/close", None),
    ("GET", f"{BASE}/groups/{GROUP}/meetings", None),
    ("POST", f"{BASE}/groups/{GROUP}/meeting-plan", None),
    ("POST", f"{BASE}/groups/{GROUP}/extraordinary-meetings",
     {"starts_at": "2026-12-01T19:00", "venue": "Northampton police station", "purpose": "After the disorder"}),
    ("POST", f"{BASE}/groups/{GROUP}/meetings/{MEETING}/move", {"starts_at": "2027-01-18T18:30", "note": "Room"}),
    ("POST", f"{BASE}/groups/{GROUP}/meetings/{MEETING}/cancel", {"note": "No business"}),
    ("GET", f"{BASE}/groups/{GROUP}/elections", None),
    ("POST", f"{BASE}/groups/{GROUP}/elections", {"office": "vice_chair"}),
    ("GET", f"{BASE}/groups/{GROUP}/elections/{ELECTION}", None),
    ("POST", f"{BASE}/groups/{GROUP}/elections/{ELECTION}/start-voting", None),
    ("POST", f"{BASE}/groups/{GROUP}/elections/{ELECTION}/declare", None),
    ("GET", f"{BASE}/strategic-cycles", None),
    ("POST", f"{BASE}/strategic-cycles", None),
    ("GET", f"{BASE}/strategic-cycles/strategic-2027-03", None),
    ("POST", f"{BASE}/strategic-cycles/strategic-2027-03/date", {"starts_at": "2027-03-11T14:00"}),
    ("POST", f"{BASE}/groups/{GROUP}/members", {"name": "Nia Brown", "email": "nia.brown@example.org",
                                               "role": "member", "joined_on": "2025-04-01", **SCREENED}),
]
CHANGES = [r for r in ROUTES if r[0] != "GET"]
STRATEGIC = [r for r in ROUTES if "strategic" in r[1]]


def registered_paths(routes) -> set:
    """The routes above as the app registers them (test_admin_api.py checks every admin route is in a tenancy test)."""
    return {(method, path.replace(BASE, "/admin/forces/{force_id}").replace(f"/groups/{GROUP}", "/groups/{group_id}")
             .replace(INCIDENT, "{incident_id}").replace(ELECTION, "{election_id}").replace(MEETING, "{uid_key}")
             .replace("strategic-2027-03", "{cycle_id}")) for method, path, _ in routes}


@pytest.fixture
def northamptonshire(api):
    """A callable member in each of two groups, a planned meeting, an election under way."""
    member("NOR-1")
    member("NOR-2")
    member("NOR-9", "north-northamptonshire")
    start = datetime(2027, 1, 11, 18, 30, tzinfo=timezone.utc)
    bootstrap.container().meeting_store.add(FORCE, GROUP, PlannedMeeting(Meeting(
        MEETING, "Northampton IAG: IAG meeting", start, start + timedelta(hours=2), "Northampton", True)), start)
    incident = bootstrap.container().callouts.raise_incident(
        FORCE, title="Earlier", summary="Earlier incident", respond_within=timedelta(hours=2),
        police_lead_name="Supt Lead", police_lead_email="lead@northants.example", raised_by="test", groups=[GROUP])
    election = bootstrap.container().elections.open(FORCE, GROUP, "chair", 14, 14)
    return {INCIDENT: incident.id, ELECTION: election.id}


def with_ids(path: str, ids: dict) -> str:
    for placeholder, value in ids.items():
        path = path.replace(placeholder, value)
    return path


def business_state(workflow) -> tuple:
    """What any of these routes would alter: emails, runs, incidents and their windows, meetings, elections,
    cycles, members."""
    container = bootstrap.container()
    return (len(sent_emails()), len(workflow.started), len(workflow.resumed),
            [(i.id, i.respond_by) for i in DynamoCalloutStore().incidents(FORCE)],
            container.meeting_store.all(FORCE, GROUP), container.election_store.open_elections(FORCE),
            container.strategic_store.open_cycles(FORCE), container.joining_store.members(FORCE, GROUP))


@pytest.mark.parametrize("who", [
    ("force_admin", "derbyshire", ""),
    ("auditor", "thames-valley", ""),
    ("coordinator", "avon-and-somerset", "northampton"),  # a group id of the same name in another force
])
def test_another_forces_operator_is_refused_every_route_learns_nothing_and_changes_nothing(
        operator_pool, api, northamptonshire, workflow, who):
    token = operator_pool.token(f"{who[0]}-{who[1]}", *who)
    for method, path, body in ROUTES:  # one operator, every route (the pool is costly to set up per route)
        before = business_state(workflow)
        answer = call(api, token, method, with_ids(path, northamptonshire), body)
        assert answer.status_code == 403, path
        text = answer.body.decode()
        assert "Earlier" not in text and "Member NOR" not in text and "2027" not in text, path
        assert business_state(workflow) == before, path


def test_the_forces_auditor_cannot_change_anything(operator_pool, api, northamptonshire, workflow):
    token = operator_pool.token("aud", "auditor", FORCE)
    for method, path, body in CHANGES:
        before = business_state(workflow)
        assert call(api, token, method, with_ids(path, northamptonshire), body).status_code == 403, path
        assert business_state(workflow) == before, path


def test_a_coordinator_of_another_group_of_the_same_force_is_refused(operator_pool, api, northamptonshire, workflow):
    token = operator_pool.token("coord", "coordinator", FORCE, "north-northamptonshire")
    for method, path, body in [r for r in ROUTES if r not in STRATEGIC and r[1] != f"{BASE}/incidents"]:
        before = business_state(workflow)
        assert call(api, token, method, with_ids(path, northamptonshire), body).status_code == 403, path
        assert business_state(workflow) == before, path


def test_only_the_strategic_groups_coordinator_or_a_force_wide_role_acts_on_its_cycles(
        operator_pool, api, northamptonshire, workflow):
    token = operator_pool.token("coord", "coordinator", FORCE, GROUP)
    for method, path, body in STRATEGIC:
        before = business_state(workflow)
        assert call(api, token, method, path, body).status_code == 403, path
        assert business_state(workflow) == before, path


def test_the_forces_auditor_and_the_platform_can_read(operator_pool, api, northamptonshire):
    for who in (("aud", "auditor", FORCE), ("plat", "platform")):
        token = operator_pool.token(*who)
        for method, path, _ in [r for r in ROUTES if r[0] == "GET" and "strategic-2027" not in r[1]]:
            assert call(api, token, method, with_ids(path, northamptonshire)).status_code == 200, (who, path)


def test_a_coordinator_raises_a_call_out_for_their_group_follows_the_answers_and_closes_it(
        operator_pool, api, northamptonshire, workflow, clock):
    token = operator_pool.token("coord", "coordinator", FORCE, GROUP)
    raised = call(api, token, "POST", f"{BASE}/incidents", INCIDENT_BODY)
    assert raised.status_code == 201 and raised.json_body["open"]
    incident_id = raised.json_body["id"]
    assert workflow.started[-1]["name"] == incident_id
    whole_force = call(api, token, "POST", f"{BASE}/incidents", {**INCIDENT_BODY, "groups": None})
    assert whole_force.status_code == 403  # the force's other groups are not theirs
    bootstrap.container().callouts.ask_members(FORCE, incident_id)
    [link] = [t for m in sent_emails() if "nor-1@example.org" in m.destinations["ToAddresses"]
              and m.subject == "Call-out: Disorder after the match" for t in re.findall(r'/callout/([A-Za-z0-9_-]+)"', m.body)]
    api.http.post(f"/callout/{link}", body="answer=available&note=On+my+way",
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    shown = call(api, token, "GET", f"{BASE}/incidents/{incident_id}").json_body
    assert [(r["name"], r["answer"], r["note"]) for r in shown["responses"]] == [
        ("Member NOR-1", "available", "On my way"), ("Member NOR-2", None, "")]
    assert shown["counts"]["available"] == 1
    listed = call(api, token, "GET", f"{BASE}/incidents").json_body["incidents"]
    assert {i["id"] for i in listed} == {incident_id, northamptonshire[INCIDENT]}
    clock.moment += timedelta(minutes=20)
    closed = call(api, token, "POST", f"{BASE}/incidents/{incident_id}/close")
    assert closed.status_code == 200 and not closed.json_body["open"]
    assert call(api, token, "POST", f"{BASE}/incidents/{incident_id}/close").status_code == 409
    actions = [r["action"] for r in bootstrap.container().access_log.month(FORCE, clock.moment)
               if r.get("reference") == incident_id]
    assert {"raise_incident", "view_incident", "close_incident"} <= set(actions)


def test_a_call_out_with_a_bad_window_is_refused_and_nothing_is_raised(operator_pool, api, northamptonshire,
                                                                       workflow):
    token = operator_pool.token("admin", "force_admin", FORCE)
    before = business_state(workflow)
    for bad in ({"respond_within_minutes": 5}, {"respond_within_minutes": "2h"}, {"police_lead_email": "nobody"},
                {"groups": "northampton"}):
        answer = call(api, token, "POST", f"{BASE}/incidents", {**INCIDENT_BODY, **bad})
        assert answer.status_code == 400, bad
    assert business_state(workflow) == before


def test_a_coordinator_plans_moves_cancels_and_adds_meetings(operator_pool, api, northamptonshire):
    token = operator_pool.token("coord", "coordinator", FORCE, GROUP)
    planned = call(api, token, "POST", f"{BASE}/groups/{GROUP}/meeting-plan")
    assert planned.status_code == 200 and len(planned.json_body["meetings"]) >= 6 and planned.json_body["sent"] > 0
    moved = call(api, token, "POST", f"{BASE}/groups/{GROUP}/meetings/{MEETING}/move",
                 {"starts_at": "2027-01-18T18:30", "note": "Room double-booked"})
    assert moved.status_code == 200
    assert (moved.json_body["starts_at"], moved.json_body["sequence"]) == ("2027-01-18T18:30:00+00:00", 1)
    assert any(m.subject.startswith("Moved: ") for m in sent_emails() if hasattr(m, "subject")) or \
        any(b"Moved: " in m.raw_data.encode() for m in sent_emails() if hasattr(m, "raw_data"))
    cancelled = call(api, token, "POST", f"{BASE}/groups/{GROUP}/meetings/{MEETING}/cancel", {"note": "No business"})
    assert cancelled.json_body["cancelled"]
    again = call(api, token, "POST", f"{BASE}/groups/{GROUP}/meetings/{MEETING}/move", {"starts_at": "2027-02-01T18:30"})
    assert again.status_code == 400 and "cancelled" in again.json_body["detail"]
    extra = call(api, token, "POST", f"{BASE}/groups/{GROUP}/extraordinary-meetings",
                 {"starts_at": "2026-12-01T19:00", "minutes": 90, "venue": "Northampton", "purpose": "After the match"})
    assert extra.status_code == 201 and extra.json_body["note"] == "After the match"
    listed = call(api, token, "GET", f"{BASE}/groups/{GROUP}/meetings").json_body["meetings"]
    assert extra.json_body["uid_key"] in [m["uid_key"] for m in listed]
    past = call(api, token, "POST", f"{BASE}/groups/{GROUP}/extraordinary-meetings",
                {"starts_at": "2020-01-01T19:00", "venue": "X", "purpose": "Y"})
    assert past.status_code == 400


def test_a_force_administrator_opens_follows_and_declares_an_election(operator_pool, api, northamptonshire, clock):
    token = operator_pool.token("admin", "force_admin", FORCE)
    opened = call(api, token, "POST", f"{BASE}/groups/{GROUP}/elections",
                  {"office": "vice_chair", "nominations_days": 7, "voting_days": 7})
    assert opened.status_code == 201
    election_id = opened.json_body["id"]
    again = call(api, token, "POST", f"{BASE}/groups/{GROUP}/elections", {"office": "vice_chair"})
    assert again.status_code == 409  # one election per office at a time
    early = call(api, token, "POST", f"{BASE}/groups/{GROUP}/elections/{election_id}/declare")
    assert early.status_code == 409 and "Nominations are still open" in early.json_body["detail"]
    followed = call(api, token, "GET", f"{BASE}/groups/{GROUP}/elections/{election_id}").json_body
    assert (followed["phase"], followed["electorate"], followed["result"]) == ("nominating", 2, None)
    clock.moment += timedelta(days=8)  # nobody stood: declaring closes it with no winner
    declared = call(api, token, "POST", f"{BASE}/groups/{GROUP}/elections/{election_id}/declare").json_body
    assert (declared["status"], declared["result"]["winners"]) == ("closed", [])
    assert election_id not in [e["id"] for e in
                               call(api, token, "GET", f"{BASE}/groups/{GROUP}/elections").json_body["elections"]]
    assert call(api, token, "GET", f"{BASE}/groups/{GROUP}/elections/nope").status_code == 404


def test_a_force_administrator_starts_a_strategic_cycle_and_cannot_date_one_that_has_not_failed_quorum(
        operator_pool, api, northamptonshire):
    token = operator_pool.token("admin", "force_admin", FORCE)
    started = call(api, token, "POST", f"{BASE}/strategic-cycles")
    assert started.status_code == 201 and started.json_body["status"] == "nominating"
    cycle_id = started.json_body["id"]
    assert [c["id"] for c in call(api, token, "GET", f"{BASE}/strategic-cycles").json_body["cycles"]] == [cycle_id]
    followed = call(api, token, "GET", f"{BASE}/strategic-cycles/{cycle_id}").json_body
    assert len(followed["groups"]) == 4 and followed["answered"] == 0
    dated = call(api, token, "POST", f"{BASE}/strategic-cycles/{cycle_id}/date",
                 {"starts_at": followed["slots"][0]})
    assert dated.status_code == 400 and "no date had a quorum" in dated.json_body["detail"]
    assert call(api, operator_pool.token("admin-d", "force_admin", "derbyshire"), "GET",
                "/admin/forces/derbyshire/strategic-cycles").status_code == 404  # no Strategic IAG of that kind


def test_one_member_is_added_then_corrected_through_the_imports_checks(operator_pool, api, northamptonshire):
    token = operator_pool.token("coord", "coordinator", FORCE, GROUP)
    path = f"{BASE}/groups/{GROUP}/members"
    member = {"name": "Nia Brown", "email": "nia.brown@example.org", "role": "member", "joined_on": "2025-04-01",
              **SCREENED}
    added = call(api, token, "POST", path, member)
    assert added.status_code == 201 and len(added.json_body["created"]) == 1
    [nia] = [m for m in bootstrap.container().joining_store.members(FORCE, GROUP) if m.email == member["email"]]
    corrected = call(api, token, "POST", path, {**member, "name": "Nia Brown-Ellis", "phone": "07700 900123"})
    assert corrected.status_code == 200 and corrected.json_body["updated"][0]["member"] == nia.member_id
    [nia] = [m for m in bootstrap.container().joining_store.members(FORCE, GROUP) if m.email == member["email"]]
    assert nia.name == "Nia Brown-Ellis"
    bad = call(api, token, "POST", path, {**member, "email": "not an email", "name": "Other"})
    assert bad.status_code == 422 and bad.json_body["report"]["problems"]
    assert call(api, token, "POST", path, {**member, "password": "x"}).status_code == 400
    assert call(api, token, "POST", f"{BASE}/groups/north-northamptonshire/members", member).status_code == 403
