"""The console in process: who sees which page, what a form token is bound to, and what each action changes."""
from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.factories import application_payload, post_json
from tests.web.test_operator_pages import signed_in

DATA = Path(__file__).resolve().parents[1] / "data"


class Console:
    """One signed-in operator's browser, without a browser: the cookie, and the form token of the last page."""

    def __init__(self, api, username: str):
        self.api = api
        self.cookie = {"Cookie": signed_in(api, username).headers["Set-Cookie"].split(";")[0]}
        self.token = ""

    def get(self, path: str):
        answer = self.api.http.get(path, headers=self.cookie)
        found = re.search(r'name="_token" value="([^"]+)"', answer.body.decode())
        self.token = found[1] if found else self.token
        return answer

    def post(self, path: str, fields: dict | None = None, token: str | None = None, **headers):
        body = urlencode({"_token": self.token if token is None else token, **(fields or {})})
        return self.api.http.post(path, body=body, headers={
            **self.cookie, "Content-Type": "application/x-www-form-urlencoded", **headers})


def _text(answer) -> str:
    return html.unescape(answer.body.decode())


def _apply(api, group="derbyshire-iag", force="derbyshire", **changes) -> str:
    answer = post_json(api, f"/forces/{force}/applications", application_payload(group=group, **changes))
    assert answer.status_code == 201, answer.body
    return __import__("json").loads(answer.body)["reference"]


@pytest.fixture
def people(operator_pool):
    for username, role, force, groups in (
            ("cole", "coordinator", "derbyshire", "derbyshire-iag"), ("ann", "force_admin", "derbyshire", ""),
            ("aud", "auditor", "derbyshire", ""), ("nia", "force_admin", "northamptonshire", ""),
            ("ned", "coordinator", "northamptonshire", "northampton"),
            ("nat", "auditor", "northamptonshire", "")):
        operator_pool.token(username, role, force, groups)
    return operator_pool


def test_a_stranger_is_sent_to_sign_in_and_a_post_without_sign_in_changes_nothing(api, people, workflow):
    reference = _apply(api)
    assert api.http.get("/admin/console/derbyshire").headers["Location"] == "/admin/sign-in"
    answer = api.http.post(f"/admin/console/derbyshire/applications/{reference}/retry", body="_token=x",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 303 and workflow.retried == [] and len(workflow.started) == 1


def test_the_dashboard_shows_the_queue_with_its_age_and_the_navigation_the_role_may_use(api, people):
    reference = _apply(api)
    cole = Console(api, "cole")
    assert cole.get("/admin/console").headers["Location"] == "/admin/console/derbyshire"
    page = _text(cole.get("/admin/console/derbyshire"))
    assert "Awaiting review" in page and "group=derbyshire-iag&stage=awaiting_review" in page
    assert ">Data requests<" not in page  # a coordinator starts no data request and reads no access log
    assert ">Applications<" in page and ">People<" in page and ">Meetings<" in page
    auditor = _text(Console(api, "aud").get("/admin/console/derbyshire"))
    assert ">Data requests<" in auditor
    listing = _text(cole.get("/admin/console/derbyshire/applications?group=derbyshire-iag&stage=awaiting_review"))
    assert reference in listing


def test_roles_and_the_force_read_as_the_force_calls_them_not_as_ids(api, people):
    ned = Console(api, "ned")
    people_page = _text(ned.get("/admin/console/northamptonshire/people?group=northampton"))
    assert "Local Neighbourhood Policing Inspector" in people_page and "local inspector" not in people_page
    assert "Signed in as coordinator for Northamptonshire Police." in people_page
    role_page = _text(Console(api, "nia").get("/admin/console/northamptonshire/roles/strategic/opfcc_representative"))
    assert "Set the OPFCC representative" in role_page and "opfcc" not in role_page.replace("opfcc_", "")
    dashboard = _text(Console(api, "nia").get("/admin/console/northamptonshire"))
    assert "Media contact</a> (force-wide)" in dashboard and "(force)" not in dashboard
    assert "Signed in as force administrator for Northamptonshire Police." in dashboard
    # The page after signing in is in the same frame, rendered by web/operator_pages.py: it says the same.
    landing = Console(api, "nia").get("/admin/pages")
    assert landing.status_code == 200 and "Signed in as force administrator for Northamptonshire Police." in _text(landing)


def test_a_coordinator_resends_and_retries_and_each_change_is_logged_with_who_made_it(api, people, workflow):
    from chalicelib import bootstrap

    reference = _apply(api)
    cole = Console(api, "cole")
    page = _text(cole.get(f"/admin/console/derbyshire/applications/{reference}"))
    assert f'href="http://prefect.test/runs/flow-run/run-{reference}"' in page  # one click to its run
    before = len(__import__("tests.conftest", fromlist=["sent_emails"]).sent_emails())
    answer = cole.post(f"/admin/console/derbyshire/applications/{reference}/resend")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("?done=resent")
    assert "Fresh links were sent" in _text(cole.get(answer.headers["Location"]))
    timeline = _text(cole.get(f"/admin/console/derbyshire/applications/{reference}")).split('id="timeline"')[1]
    # Who did what reads as words: the old page said "submit (to submitted), by applicant" and
    # "operator console:resend application, by coordinator 9087...".
    assert "submit (to submitted), by the applicant" in timeline and "resend application, by a coordinator (" in timeline
    assert "operator " not in timeline and "console:" not in timeline
    assert len(__import__("tests.conftest", fromlist=["sent_emails"]).sent_emails()) > before
    workflow.runs = lambda name: [{"id": f"run-{name}", "state": "FAILED", "state_name": "Failed",
                                   "url": f"http://prefect.test/runs/flow-run/run-{name}"}]
    assert cole.post(f"/admin/console/derbyshire/applications/{reference}/retry").status_code == 303
    assert workflow.retried == [f"run-{reference}"]
    container = bootstrap.container()
    logged = container.access_log.month("derbyshire", container.clock.now())
    changes = [(e["action"], e["reference"]) for e in logged if e["action"].startswith("console:")]
    assert ("console:resend_application", reference) in changes and ("console:retry_application", reference) in changes
    assert all(e["operator"] for e in logged if e["action"].startswith("console:"))


def test_a_form_token_from_another_sign_in_or_none_is_refused_and_changes_nothing(api, people, workflow):
    reference = _apply(api)
    cole, ann = Console(api, "cole"), Console(api, "ann")
    cole.get(f"/admin/console/derbyshire/applications/{reference}")
    ann.get("/admin/console/derbyshire")
    path = f"/admin/console/derbyshire/applications/{reference}/cancel"
    for token in ("", "1.2.3", ann.token):
        assert cole.post(path, {"confirmed": "yes"}, token=token).status_code == 403
    assert cole.post(path, {"confirmed": "yes"}, Origin="https://evil.example").status_code == 403
    assert workflow.cancelled == []


def test_cancel_is_confirmed_on_a_separate_page_first(api, people, workflow):
    reference = _apply(api)
    cole = Console(api, "cole")
    cole.get(f"/admin/console/derbyshire/applications/{reference}")
    path = f"/admin/console/derbyshire/applications/{reference}/cancel"
    asked = cole.post(path)
    assert asked.status_code == 200 and workflow.cancelled == []
    assert "The application keeps its stage" in _text(asked) and 'name="confirmed" value="yes"' in _text(asked)
    cole.token = re.search(r'name="_token" value="([^"]+)"', _text(asked))[1]
    assert cole.post(path, {"confirmed": "yes"}).status_code == 303
    assert workflow.cancelled == [f"run-{reference}"]


def test_an_auditor_reads_but_every_change_is_refused_even_with_a_good_form_token(api, people, workflow):
    reference = _apply(api)
    aud = Console(api, "aud")
    assert aud.get(f"/admin/console/derbyshire/applications/{reference}").status_code == 200
    assert "Retry the run" not in _text(aud.get(f"/admin/console/derbyshire/applications/{reference}"))
    assert aud.get("/admin/console/derbyshire/reports").status_code == 200
    for action in ("retry", "resend", "cancel"):
        answer = aud.post(f"/admin/console/derbyshire/applications/{reference}/{action}", {"confirmed": "yes"})
        assert answer.status_code == 403, action
    answer = aud.post("/admin/console/derbyshire/roles/derbyshire-iag/iag_chair",
                      {"name": "Mallory", "email": "mallory@example.org", "confirmed": "yes"})
    assert answer.status_code == 403
    assert workflow.retried == workflow.cancelled == []


def test_setting_a_panel_holder_says_first_what_happens_to_the_links_then_sets_it(api, people):
    from chalicelib import bootstrap

    cole = Console(api, "cole")
    path = "/admin/console/derbyshire/roles/derbyshire-iag/iag_chair"
    form = _text(cole.get(path))
    assert "stop working at once" in form or "no earlier link is affected" in form
    asked = cole.post(path, {"name": "Rosa Diaz", "email": "rosa.diaz@example.org"})
    assert asked.status_code == 200 and "Rosa Diaz is sent fresh links" in _text(asked)
    assert bootstrap.container().review_store.panel_members("derbyshire", "derbyshire-iag").get("iag_chair", ("",))[0] \
        != "Rosa Diaz"
    cole.token = re.search(r'name="_token" value="([^"]+)"', _text(asked))[1]
    done = cole.post(path, {"name": "Rosa Diaz", "email": "rosa.diaz@example.org", "confirmed": "yes"})
    assert done.status_code == 303
    assert bootstrap.container().review_store.panel_members("derbyshire", "derbyshire-iag")["iag_chair"][0] == \
        "Rosa Diaz"
    bad = cole.post(path, {"name": "", "email": "not-an-address", "confirmed": "yes"})
    assert bad.status_code == 400 and "Enter the holder's email address" in _text(bad)


def test_a_force_administrator_imports_after_a_dry_run_then_suspends_a_member(api, people):
    nia = Console(api, "nia")
    nia.get("/admin/console/northamptonshire/people?group=northampton")
    bad = nia.post("/admin/console/northamptonshire/people/import",
                   {"csv": (DATA / "members-northamptonshire-with-errors.csv").read_text()})
    assert bad.status_code == 422
    assert "tom.okafor-at-example.org" not in _text(bad) or "email" in _text(bad)
    assert "nothing was changed" in _text(bad) and "kettering" in _text(bad)
    good = (DATA / "members-northamptonshire.csv").read_text()
    checked = nia.post("/admin/console/northamptonshire/people/import", {"csv": good})
    assert checked.status_code == 200 and "Import these members" in _text(checked)
    # Before confirming, the person sees whom the file adds: name, group, role, line by line.
    changes = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _text(checked).split('id="changes"')[1].split("</table>")[0]))
    assert "2 Priya Raman Northampton IAG Chair New member" in changes
    assert "Priya Raman" not in _text(nia.get("/admin/console/northamptonshire/people?group=northampton"))
    nia.token = re.search(r'name="_token" value="([^"]+)"', _text(checked))[1]
    assert nia.post("/admin/console/northamptonshire/people/import", {"csv": good, "confirmed": "yes"}).status_code == 303
    listed = _text(nia.get("/admin/console/northamptonshire/people?group=northampton"))
    assert "Priya Raman" in listed
    # Members' roles and standing read as words, and offices outside any group say whose they are.
    assert ">Vice chair<" in listed and ">vice chair<" not in listed and ">Active<" in listed
    assert "Recruitment contact (force-wide)" in listed and "(force)" not in listed
    member_id = re.search(r'people/northampton/members/([^/]+)/status', listed)[1]
    path = f"/admin/console/northamptonshire/people/northampton/members/{member_id}/status"
    asked = nia.post(path, {"change": "suspend", "reason": "asked for a break"})
    assert asked.status_code == 200 and "Suspend" in _text(asked)
    nia.token = re.search(r'name="_token" value="([^"]+)"', _text(asked))[1]
    no_reason = nia.post(path, {"change": "suspend", "reason": " ", "confirmed": "yes"})
    assert no_reason.status_code == 400 and "Give the reason" in _text(no_reason)
    assert ">Suspended<" not in _text(nia.get("/admin/console/northamptonshire/people?group=northampton"))
    assert nia.post(path, {"change": "suspend", "reason": "asked for a break", "confirmed": "yes"}).status_code == 303
    assert ">Suspended<" in _text(nia.get("/admin/console/northamptonshire/people?group=northampton"))


def test_a_member_is_added_and_edited_through_the_import_checks(api, people):
    nia = Console(api, "nia")
    nia.get("/admin/console/northamptonshire/people/northampton/member")
    fields = {"name": "Lena Fox", "email": "lena.fox@example.org", "role": "member", "joined_on": "2025-01-06",
              "term_ends_on": "2028-01-05", "screening_outcome": "clear", "screening_level": "basic",
              "screening_date": "2024-12-01", "screening_expires": "2027-11-30"}  # Northampton screens its members
    assert nia.post("/admin/console/northamptonshire/people/northampton/member", fields).status_code == 303
    assert "Lena Fox" in _text(nia.get("/admin/console/northamptonshire/people?group=northampton"))
    bad = nia.post("/admin/console/northamptonshire/people/northampton/member", {**fields, "joined_on": "2025-13-01"})
    assert bad.status_code == 400 and "nothing was saved" in _text(bad)
    renamed = nia.post("/admin/console/northamptonshire/people/northampton/member", {**fields, "name": "Lena Fox-Hall"})
    assert renamed.status_code == 303
    assert "Lena Fox-Hall" in _text(nia.get("/admin/console/northamptonshire/people?group=northampton"))


def test_a_coordinator_sees_only_their_groups_and_cannot_suspend(api, people):
    _apply(api, group="northampton", force="northamptonshire", applicant={"postcode": "NN1 1AA"})
    ned = Console(api, "ned")
    page = _text(ned.get("/admin/console/northamptonshire/applications"))
    assert "North Northamptonshire" not in page and "Daventry" not in page
    assert ned.get("/admin/console/northamptonshire/applications?group=north-northamptonshire").status_code == 403
    people_page = _text(ned.get("/admin/console/northamptonshire/people?group=northampton"))
    assert "/status" not in people_page  # suspending is a force administrator's


def test_the_recruitment_and_equality_reports_are_console_pages_at_their_new_and_old_addresses(api, people):
    _apply(api)
    aud, cole = Console(api, "aud"), Console(api, "cole")
    reports = _text(aud.get("/admin/console/derbyshire/reports"))
    for name, shows in (("recruitment", "<svg"), ("equality", 'id="publication-rule"')):
        assert f'href="/admin/console/derbyshire/reports/{name}"' in reports
        for path in (f"/admin/console/derbyshire/reports/{name}", f"/admin/pages/forces/derbyshire/{name}"):
            answer = aud.get(path)
            body = _text(answer)
            assert answer.status_code == 200 and shows in body and "Amira" not in body, path
            # the console's frame: its navigation for this role, Reports the current section, the sign-out form
            assert 'href="/admin/console/derbyshire/reports" aria-current="page"' in body, path
            assert 'href="/admin/console/derbyshire/data-requests"' in body and 'action="/admin/sign-out"' in body
            refused = cole.get(path)  # force-wide figures are not a coordinator's
            assert refused.status_code == 403 and "Your role does not allow this" in _text(refused), path
            assert 'href="/admin/console/derbyshire/people"' in _text(refused)  # still in their own console
    assert aud.get("/admin/pages/forces/derbyshire/equality?group=nope").status_code == 404


# --- another force's operator: every console route, 403, and nothing learnt ---

def _console_routes():
    from app import app

    return sorted((path, method) for path, entries in app.routes.items() if path.startswith("/admin/console/{force_id}")
                  for method in entries)


def test_every_console_route_refuses_another_forces_operator_and_tells_them_nothing(api, people, workflow):
    from chalicelib import bootstrap

    reference = _apply(api)
    ann = Console(api, "ann")
    ann.get("/admin/console/derbyshire")
    assert ann.post("/admin/console/derbyshire/roles/derbyshire-iag/iag_chair",
                    {"name": "Rosa Diaz", "email": "rosa.diaz@example.org", "confirmed": "yes"}).status_code == 303
    secrets = (reference, "Amira", "Rosa Diaz", "rosa.diaz", "erbyshire")  # not even the force asked about
    values = {"force_id": "derbyshire", "reference": reference, "group_id": "derbyshire-iag",
              "member_id": "M-1", "scope": "derbyshire-iag", "role": "iag_chair",
              "uid_key": "derbyshire.derbyshire-iag.2027-01-18", "incident_id": "CO-1", "election_id": "E-1",
              "cycle_id": "strategic-2027-03"}  # the business pages' too (console_business.py)
    routes = _console_routes()
    assert len(routes) >= 15  # the pages and actions of this module at least
    for username in ("nia", "ned", "nat"):
        intruder = Console(api, username)
        intruder.get("/admin/console/northamptonshire")  # a good form token of their own
        for path, method in routes:
            filled = re.sub(r"{(\w+)}", lambda m: values[m[1]], path)
            if method == "GET":
                answer = intruder.get(filled)
            else:
                answer = intruder.post(filled, {"confirmed": "yes", "change": "remove", "name": "X Y",
                                                "email": "x@example.org", "csv": "name\n", "reason": "r"})
            body = _text(answer)
            assert answer.status_code == 403, (username, method, path, answer.status_code)
            assert "Your role does not allow this" in body, (username, method, path)  # not a stale form
            assert not [s for s in secrets if s in body], (username, method, path)
            assert not re.search(r"\b\d+ (waiting|applications?|members?)\b", body), (username, method, path)
    assert workflow.retried == workflow.cancelled == []
    assert bootstrap.container().review_store.panel_members("derbyshire", "derbyshire-iag")["iag_chair"][0] == "Rosa Diaz"
