"""The console's meeting, call-out, election and Strategic IAG pages in process (moto, a fake Prefect): signed in
with the pool's cookie, every change a POST with a token bound to that sign-in, tenancy, and what each page does."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest

from chalicelib import bootstrap
from chalicelib.domain.meeting_plans import PlannedMeeting
from chalicelib.domain.meetings import Meeting
from tests.api import test_admin_business_api as business_api
from tests.api.test_admin_business_api import ELECTION, FORCE, GROUP, INCIDENT, MEETING, business_state, with_ids
from tests.conftest import sent_emails

northamptonshire = business_api.northamptonshire  # the API tests' fixture: members, a meeting, an election

PAGES = f"/admin/console/{FORCE}"
PAST = "nor-m-2026-11-16"  # a meeting held last week: its attendance and minutes are due
CONFIRMED = {"confirmed": "yes"}
# Every route of chalicelib/web/console_business.py: whether it is a page (GET), and what its form would send (POST;
# None: no form). Cancelling a meeting and closing a call-out are POSTs that ask first, then act when confirmed.
ROUTES = [
    (f"{PAGES}/meetings", True, None),
    (f"{PAGES}/meetings/{GROUP}", True, {"action": "plan"}),
    (f"{PAGES}/meetings/{GROUP}/{MEETING}", True, {"action": "move", "starts_at": "2027-01-18 18:30"}),
    (f"{PAGES}/meetings/{GROUP}/{MEETING}/cancel", False, {"note": "No business", **CONFIRMED}),
    (f"{PAGES}/callouts", True, {"title": "T", "summary": "S", "within": "120", "lead_name": "L",
                                 "lead_email": "lead@northants.example", "groups": GROUP}),
    (f"{PAGES}/callouts/{INCIDENT}", True, None),
    (f"{PAGES}/callouts/{INCIDENT}/close", False, CONFIRMED),
    (f"{PAGES}/elections", True, None),
    (f"{PAGES}/elections/{GROUP}", True, {"office": "vice_chair"}),
    (f"{PAGES}/elections/{GROUP}/{ELECTION}", True, {"action": "declare"}),
    (f"{PAGES}/strategic", True, {}),
    (f"{PAGES}/strategic/strategic-2027-03", True, {"slot": "2027-03-11T14:00:00+00:00"}),
]


def test_every_console_route_is_in_these_tests():
    from app import app

    registered = {(path, method) for path, entries in app.routes.items() for method, entry in entries.items()
                  if entry.view_function.__module__ == "chalicelib.web.console_business"}
    listed = {(path.replace("strategic-2027-03", "{cycle_id}").replace(PAGES, "/admin/console/{force_id}")
               .replace(f"/{GROUP}", "/{group_id}").replace(MEETING, "{uid_key}").replace(INCIDENT, "{incident_id}")
               .replace(ELECTION, "{election_id}"), method)
              for path, get, form in ROUTES for method in (("GET",) if get else ()) + (("POST",) if form is not None
                                                                                         else ())}
    assert registered == listed


def cookie(pool, *who) -> dict:
    return {"Cookie": f"iag_operator={pool.token(*who)}"}


def page(api, path: str, signed_in: dict):
    return api.http.get(path, headers=signed_in)


def form_token(api, path: str, signed_in: dict) -> str:
    found = re.search(r'name="_token" value="([^"]+)"', page(api, path, signed_in).body.decode())
    return found[1] if found else ""


def good_token(api, signed_in: dict) -> str:
    """The form token bound to this sign-in: every console page carries it (its sign-out form), a refusal too."""
    token = form_token(api, PAGES, signed_in)
    assert token
    return token


def post(api, path: str, signed_in: dict, fields, token: str, origin: str = ""):
    headers = {**signed_in, "Content-Type": "application/x-www-form-urlencoded"}
    if origin:
        headers["Origin"] = origin
    pairs = [(k, v) for k, values in fields.items() for v in (values if isinstance(values, list) else [values])]
    return api.http.post(path, body=urlencode(pairs + [("_token", token)]), headers=headers)


def test_a_stranger_is_sent_to_sign_in_and_changes_nothing(api, northamptonshire, workflow):
    before = business_state(workflow)
    for path, get, form in ROUTES:
        path = with_ids(path, northamptonshire)
        answers = ([api.http.get(path)] if get else []) + ([post(api, path, {}, form, "")] if form is not None else [])
        for answer in answers:
            assert (answer.status_code, answer.headers["Location"]) == (303, "/admin/sign-in"), path
    assert business_state(workflow) == before


@pytest.mark.parametrize("who", [("force_admin", "derbyshire", ""), ("auditor", "thames-valley", ""),
                                 ("coordinator", "avon-and-somerset", "northampton")])
def test_another_forces_operator_gets_403_learns_nothing_and_changes_nothing(operator_pool, api, northamptonshire,
                                                                             workflow, who):
    signed_in = cookie(operator_pool, f"{who[0]}-{who[1]}", *who)
    for path, get, form in ROUTES:
        path = with_ids(path, northamptonshire)
        before = business_state(workflow)
        answers = [page(api, path, signed_in)] if get else []
        if form is not None:  # with a good token of their own sign-in: the role is what refuses
            answers.append(post(api, path, signed_in, form, good_token(api, signed_in)))
        for shown in answers:
            assert shown.status_code == 403, path
            text = shown.body.decode()
            assert "Earlier" not in text and "Member NOR" not in text and "Northampton" not in text, path
        assert business_state(workflow) == before, path


def test_the_forces_auditor_reads_but_a_forged_post_is_refused(operator_pool, api, northamptonshire, workflow):
    signed_in = cookie(operator_pool, "aud", "auditor", FORCE)
    for path, get, form in ROUTES:
        path = with_ids(path, northamptonshire)
        if get and "strategic-2027" not in path:
            assert page(api, path, signed_in).status_code == 200, path
        if form is not None:
            before = business_state(workflow)
            assert post(api, path, signed_in, form, good_token(api, signed_in)).status_code == 403, path
            assert business_state(workflow) == before, path


def test_a_post_without_the_token_of_this_sign_in_or_from_another_site_changes_nothing(operator_pool, api,
                                                                                       northamptonshire, workflow):
    signed_in = cookie(operator_pool, "coord", "coordinator", FORCE, GROUP)
    path = f"{PAGES}/meetings/{GROUP}"
    before = business_state(workflow)
    assert post(api, path, signed_in, {"action": "plan"}, "").status_code == 403
    other_sign_in = cookie(operator_pool, "coord-2", "coordinator", FORCE, GROUP)
    assert post(api, path, signed_in, {"action": "plan"}, form_token(api, path, other_sign_in)).status_code == 403
    token = form_token(api, path, signed_in)
    assert post(api, path, signed_in, {"action": "plan"}, token, origin="https://evil.example").status_code == 403
    assert business_state(workflow) == before
    assert post(api, path, signed_in, {"action": "plan"}, token).status_code == 303  # the same, done properly


def test_a_coordinator_plans_meetings_and_records_attendance_and_minutes(operator_pool, api, northamptonshire,
                                                                          clock):
    start = datetime(2026, 11, 16, 18, 30, tzinfo=timezone.utc)
    bootstrap.container().meeting_store.add(FORCE, GROUP, PlannedMeeting(Meeting(
        PAST, "Northampton IAG: IAG meeting", start, start + timedelta(hours=2), "Northampton", True)), start)
    signed_in = cookie(operator_pool, "coord", "coordinator", FORCE, GROUP)
    meetings = f"{PAGES}/meetings/{GROUP}"
    planned = post(api, meetings, signed_in, {"action": "plan"}, form_token(api, meetings, signed_in))
    assert (planned.status_code, planned.headers["Location"]) == (303, f"{meetings}?done=meetings-planned")
    listed = page(api, planned.headers["Location"], signed_in).body.decode()
    assert "members have been sent their invitations" in listed and listed.count("Planned") >= 6
    held = f"{meetings}/{PAST}"
    done = post(api, held, signed_in, {"action": "attendance", "present": ["NOR-1"]}, form_token(api, held, signed_in))
    assert done.status_code == 303
    assert bootstrap.container().meeting_records.attendance(FORCE, GROUP, PAST) == ("NOR-1",)
    assert "Recorded: Member NOR-1." in page(api, held, signed_in).body.decode()
    stranger = post(api, held, signed_in, {"action": "attendance", "present": ["DER-1"]}, form_token(api, held, signed_in))
    assert stranger.status_code == 400 and "Not members of northampton" in stranger.body.decode()
    minutes = post(api, held, signed_in, {"action": "minutes", "minutes_text": "We met."},
                   form_token(api, held, signed_in))
    assert minutes.status_code == 303 and "We met." in page(api, held, signed_in).body.decode()
    reads = [(r["action"], r.get("reference")) for r in bootstrap.container().access_log.month(FORCE, clock.moment)]
    assert {("plan_meetings", None), ("view_meeting", PAST), ("console:change_meetings", None)} <= set(reads)
    assert reads.count(("console:change_meeting", PAST)) == 2  # attendance, minutes: each change once, by whom


def test_moving_is_checked_and_cancelling_is_confirmed_on_its_own_page(operator_pool, api, northamptonshire):
    signed_in = cookie(operator_pool, "coord", "coordinator", FORCE, GROUP)
    meeting = f"{PAGES}/meetings/{GROUP}/{MEETING}"
    bad = post(api, meeting, signed_in, {"action": "move", "starts_at": "next Tuesday"},
               form_token(api, meeting, signed_in))
    assert bad.status_code == 400 and "Enter a date and time like 2027-01-18 18:30" in bad.body.decode()
    assert 'value="next Tuesday"' in bad.body.decode()  # what they typed stays
    moved = post(api, meeting, signed_in, {"action": "move", "starts_at": "2027-01-18 18:30", "note": "Room"},
                 form_token(api, meeting, signed_in))
    assert moved.status_code == 303
    assert bootstrap.container().meeting_store.get(FORCE, GROUP, MEETING).sequence == 1
    token = form_token(api, meeting, signed_in)
    confirm = post(api, f"{meeting}/cancel", signed_in, {}, token)
    assert confirm.status_code == 200 and "Yes, cancel the meeting" in confirm.body.decode()
    assert 'name="confirmed" value="yes"' in confirm.body.decode()
    assert not bootstrap.container().meeting_store.get(FORCE, GROUP, MEETING).cancelled  # asking changed nothing
    cancelled = post(api, f"{meeting}/cancel", signed_in, {"note": "No business", "confirmed": "yes"}, token)
    assert (cancelled.status_code, cancelled.headers["Location"]) == (303, f"{meeting}?done=meeting-cancelled")
    assert bootstrap.container().meeting_store.get(FORCE, GROUP, MEETING).cancelled


def test_a_coordinator_raises_a_call_out_watches_answers_arrive_and_closes_it(operator_pool, api, northamptonshire,
                                                                               clock):
    signed_in = cookie(operator_pool, "coord", "coordinator", FORCE, GROUP)
    incidents = f"{PAGES}/callouts"
    fields = {"title": "Disorder after the match", "summary": "Advice on reassurance", "within": "120",
              "lead_name": "Supt Lead", "lead_email": "lead@northants.example", "groups": GROUP}
    refused = post(api, incidents, signed_in, {**fields, "lead_email": "nobody"}, form_token(api, incidents, signed_in))
    assert refused.status_code == 400 and "police lead" in refused.body.decode()
    raised = post(api, incidents, signed_in, fields, form_token(api, incidents, signed_in))
    assert raised.status_code == 303
    watched = raised.headers["Location"].split("?")[0]
    incident_id = watched.rsplit("/", 1)[1]
    shown = page(api, watched, signed_in).body.decode()
    assert "http-equiv" not in shown and "No answer yet" in shown  # reloading by itself is the person's choice
    assert '<meta http-equiv="refresh" content="20">' in page(api, f"{watched}?watch=on", signed_in).body.decode()
    bootstrap.container().callouts.ask_members(FORCE, incident_id)
    [link] = [t for m in sent_emails() if m.subject == "Call-out: Disorder after the match"
              and "nor-1@example.org" in m.destinations["ToAddresses"]
              for t in re.findall(r'/callout/([A-Za-z0-9_-]+)"', m.body)]
    api.http.post(f"/callout/{link}", body="answer=available&note=On+my+way",
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    shown = page(api, watched, signed_in).body.decode()  # what the page's own refresh shows
    assert "On my way" in shown and "Available now" in shown
    token = form_token(api, watched, signed_in)
    confirm = post(api, f"{watched}/close", signed_in, {}, token).body.decode()
    assert "1 members have answered; 1 have not" in confirm
    closed = post(api, f"{watched}/close", signed_in, {"confirmed": "yes"}, token)
    assert (closed.status_code, closed.headers["Location"]) == (303, f"{watched}?done=callout-closed")
    after = page(api, watched, signed_in).body.decode()
    assert "http-equiv" not in after and "Closed" in after
    again = post(api, f"{watched}/close", signed_in, {"confirmed": "yes"}, token)  # e.g. a second tab
    assert again.status_code == 409 and "already closed" in again.body.decode()


def test_a_call_out_nobody_can_answer_is_refused_in_a_sentence_with_the_groups_still_ticked(operator_pool, api,
                                                                                           northamptonshire):
    admin = cookie(operator_pool, "admin", "force_admin", FORCE)
    incidents = f"{PAGES}/callouts"
    fields = {"title": "Disorder", "summary": "Advice", "within": "60", "lead_name": "Supt Lead",
              "lead_email": "lead@northants.example", "groups": ["east-northamptonshire", "daventry-south-northamptonshire"]}
    refused = post(api, incidents, admin, fields, form_token(api, incidents, admin))
    shown = refused.body.decode()
    # The service's refusal starts with a capital on the page (it read "nobody in those groups ..."), and the groups
    # chosen are still ticked (they were all cleared); what was typed is kept.
    assert refused.status_code == 400 and "Nobody in those groups can be called" in shown
    ticked = set(re.findall(r'name="groups" type="checkbox" value="([^"]+)" checked', shown))
    assert ticked == {"east-northamptonshire", "daventry-south-northamptonshire"} and 'value="Supt Lead"' in shown
    assert "Disorder" not in [i.title for i in business_api.DynamoCalloutStore().incidents(FORCE)]


def test_a_force_administrator_opens_an_election_and_cannot_count_it_early(operator_pool, api, northamptonshire):
    signed_in = cookie(operator_pool, "admin", "force_admin", FORCE)
    elections = f"{PAGES}/elections/{GROUP}"
    opened = post(api, elections, signed_in, {"office": "vice_chair", "nominations_days": "7", "voting_days": "7"},
                  form_token(api, elections, signed_in))
    assert opened.status_code == 303
    election = opened.headers["Location"].split("?")[0]
    shown = page(api, election, signed_in).body.decode()
    assert "Election for Vice Chair" in shown and "Members may stand" in shown
    early = post(api, election, signed_in, {"action": "declare"}, form_token(api, election, signed_in))
    assert early.status_code == 409 and "Nominations are still open" in early.body.decode()
    missing = post(api, elections, signed_in, {}, form_token(api, elections, signed_in))
    assert missing.status_code == 400 and "Choose the office" in missing.body.decode()


@pytest.mark.parametrize("section, label", [("meetings", "Meetings"), ("elections", "Elections")])
def test_a_coordinator_chooses_among_their_own_groups_in_the_consoles_frame(operator_pool, api, northamptonshire,
                                                                            section, label):
    coordinator = cookie(operator_pool, "coord", "coordinator", FORCE, GROUP)
    chooser = page(api, f"{PAGES}/{section}", coordinator).body.decode()
    assert f'href="{PAGES}/{section}/{GROUP}"' in chooser and "North Northamptonshire IAG" not in chooser
    assert re.search(rf'href="{PAGES}/{section}" aria-current="page"><strong[^>]*>{label}<', chooser)
    assert f'href="{PAGES}/people"' in chooser  # the console's navigation: the other sections of the role
    admin = page(api, f"{PAGES}/{section}", cookie(operator_pool, "admin", "force_admin", FORCE)).body.decode()
    assert "North Northamptonshire IAG" in admin and "Northamptonshire Strategic IAG" in admin
    shown = page(api, f"{PAGES}/{section}/{GROUP}", coordinator)
    assert shown.status_code == 200 and f'href="{PAGES}/{section}" aria-current="page"' in shown.body.decode()
    other = page(api, f"{PAGES}/{section}/north-northamptonshire", coordinator)
    assert other.status_code == 403 and "North Northamptonshire" not in other.body.decode()


def test_the_strategic_iag_is_in_the_navigation_only_of_those_who_may_open_it(operator_pool, api, northamptonshire):
    admin = page(api, f"{PAGES}/meetings", cookie(operator_pool, "admin", "force_admin", FORCE)).body.decode()
    assert f'href="{PAGES}/strategic"' in admin
    coordinator = cookie(operator_pool, "coord", "coordinator", FORCE, GROUP)
    assert f'href="{PAGES}/strategic"' not in page(api, f"{PAGES}/meetings", coordinator).body.decode()
    assert page(api, f"{PAGES}/strategic", coordinator).status_code == 403  # what the link would have led to


def test_the_dashboard_links_each_meeting_call_out_election_and_cycle_to_its_own_page(operator_pool, api,
                                                                                      northamptonshire):
    soon = datetime(2026, 12, 7, 18, 30, tzinfo=timezone.utc)  # within the dashboard's six weeks
    bootstrap.container().meeting_store.add(FORCE, GROUP, PlannedMeeting(Meeting(
        "nor-m-2026-12-07", "Northampton IAG: IAG meeting", soon, soon + timedelta(hours=2), "Northampton", True)), soon)
    admin = cookie(operator_pool, "admin", "force_admin", FORCE)
    started = post(api, f"{PAGES}/strategic", admin, {}, form_token(api, f"{PAGES}/strategic", admin))
    cycle = started.headers["Location"].split("?")[0]
    board = page(api, PAGES, admin).body.decode()
    links = set(re.findall(r'href="([^"]+)"', board))
    expected = {f"{PAGES}/meetings/{GROUP}/nor-m-2026-12-07", f"{PAGES}/callouts/{northamptonshire[INCIDENT]}",
                f"{PAGES}/elections/{GROUP}/{northamptonshire[ELECTION]}", cycle}
    assert expected <= links
    # Where each stands reads as words, not as stored ids ("vice_chair", "nominating").
    text = re.sub(r"<[^>]+>", "", board)
    assert re.search(r"Election of the (Chair|Vice Chair) of Northampton IAG: members (may stand|are voting)", text)
    assert f"Strategic IAG cycle {cycle.rsplit('/', 1)[1]}: asking for nominees" in text
    for href in expected:  # each opens its page, for the role that was shown it
        assert page(api, href, admin).status_code == 200, href
    empty_roles = [href for href in links if href.startswith(f"{PAGES}/roles/")]
    assert empty_roles and page(api, empty_roles[0], admin).status_code == 200
    # A coordinator may not open the Strategic IAG: the cycle is listed, as words, not as a link they cannot follow.
    coordinator = page(api, PAGES, cookie(operator_pool, "coord", "coordinator", FORCE, GROUP)).body.decode()
    assert f'href="{cycle}"' not in coordinator and f"Strategic IAG cycle {cycle.rsplit('/', 1)[1]}" in coordinator
    assert f'href="{PAGES}/meetings/{GROUP}/nor-m-2026-12-07"' in coordinator
