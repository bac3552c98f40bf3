"""The console in a real browser, signed in as each role, JavaScript off: a coordinator works a queue and sets a
panel holder, a force administrator imports members after a dry run and suspends one, an auditor reads and
cannot change anything. Each page is checked with axe-core, at 320 px, and photographed.

The stack's Prefect is a small fake on its own port (the API reaches it over HTTP as it would the real one), so
that retry and the link to a run can be shown without a Prefect server.
"""
from __future__ import annotations

import json
import re
import threading
import urllib.request
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout, expect  # waits for the page, as a person would; is_visible() does not

from tests.factories import application_payload
from tests.web.conftest import free_port, loaded, running_stack, screenshot
from tests.web import keyboard
from tests.web.test_browser import axe_violations, fits_width

pytestmark = pytest.mark.browser

DATA = Path(__file__).resolve().parents[1] / "data"
PASSWORD = "Local-Operator-1"  # scripts/local_stack.py's demo operators


class FakePrefect:
    """Prefect's REST API as PrefectGateway calls it: runs created, listed by name, set to a state."""

    def __init__(self):
        self.runs: dict[str, dict] = {}  # id -> {"name", "state": (type, name)}
        self.set_states: list[tuple[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, body, status=200):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path.startswith("/api/deployments/name/"):
                    return self._answer({"id": "deployment-1"})
                found = re.fullmatch(r"/api/flow_runs/([^/]+)", self.path)
                if found and found[1] in fake.runs:
                    return self._answer(fake.shown(found[1]))
                return self._answer({"detail": "not found"}, 404)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self.path.endswith("/create_flow_run"):
                    run_id = f"run-{body['name']}"
                    fake.runs.setdefault(run_id, {"name": body["name"], "state": ("PAUSED", "Suspended")})
                    return self._answer(fake.shown(run_id))
                if self.path == "/api/flow_runs/filter":
                    names = ((body.get("flow_runs") or {}).get("name") or {}).get("any_")
                    if names is None:  # runs in trouble: none asked by tag here
                        return self._answer([])
                    return self._answer([fake.shown(i) for i, r in fake.runs.items() if r["name"] in names])
                found = re.fullmatch(r"/api/flow_runs/([^/]+)/set_state", self.path)
                if found and found[1] in fake.runs:
                    state = body["state"]
                    fake.set_states.append((found[1], state.get("name") or state["type"]))
                    fake.runs[found[1]]["state"] = (state["type"], state.get("name") or state["type"].title())
                    return self._answer({"status": "ACCEPT"}, 201)
                if re.fullmatch(r"/api/flow_runs/[^/]+/resume", self.path):
                    return self._answer({"status": "REJECT"})
                return self._answer({"detail": "not found"}, 404)

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def shown(self, run_id: str) -> dict:
        run = self.runs[run_id]
        return {"id": run_id, "name": run["name"], "start_time": None, "end_time": None,
                "state": {"type": run["state"][0], "name": run["state"][1], "timestamp": "2026-11-22T10:30:00Z"}}

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def console_stack(tmp_path_factory):
    prefect = FakePrefect()
    try:
        with running_stack(tmp_path_factory.mktemp("console"), IAG_PREFECT_API_URL=prefect.url) as stack:
            yield stack, prefect
    finally:
        prefect.stop()


def _apply(stack, force: str, **payload) -> str:
    request = urllib.request.Request(f"{stack.api_url}/forces/{force}/applications", method="POST",
                                     data=json.dumps(application_payload(**payload)).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as answer:
        return json.loads(answer.read())["reference"]


def _sign_in(page, stack, username: str) -> None:
    page.goto(f"{stack.api_url}/admin/console")
    assert page.url.endswith("/admin/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/admin/pages$"))
    page.goto(f"{stack.api_url}/admin/console")


def _inspect(browser, page, name: str, posted: bool = False) -> None:
    """The page as it stands: no serious axe violation, no sideways scroll at 320 px, a screenshot at each width.
    Checked in contexts that run script (axe needs it; these pages have none of their own), with the same
    sign-in; a page that answered a POST is loaded from its HTML rather than asked for again."""
    url, html = page.url, loaded(page).content() if posted else None
    screenshot(page, f"console-{name}-desktop")
    for width in (1280, 320):
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        context.add_cookies(page.context.cookies())
        other = context.new_page()
        if html is None:
            other.goto(url)
        else:
            other.goto(url.split("/admin/")[0] + "/admin/pages")
            other.set_content(html)
        if width == 1280:
            assert axe_violations(other) == [], name
        else:
            assert fits_width(other), f"{name} scrolls sideways at 320 px"
            screenshot(other, f"console-{name}-320")
        context.close()


def test_a_coordinator_sets_a_panel_holder_then_resends_by_keyboard_and_retries(console_stack, page, browser):
    stack, prefect = console_stack
    reference = _apply(stack, "thames-valley", group="reading", applicant={"postcode": "RG1 1AA"})
    _sign_in(page, stack, "coordinator.thames-valley")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    _inspect(browser, page, "dashboard")

    page.get_by_role("link", name="People", exact=True).click()
    _inspect(browser, page, "people")
    page.get_by_role("link", name="Set the IAG chair").first.click()
    expect(page.locator("#consequences")).to_be_visible()
    _inspect(browser, page, "role")
    page.get_by_label("New holder's full name").fill("Rosa Diaz")
    page.get_by_label("New holder's email address").fill("rosa.diaz@reading.browser.example")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Rosa Diaz is sent fresh links")).to_be_visible()  # said before it is done
    _inspect(browser, page, "confirm-role", posted=True)
    page.get_by_role("button", name="Set the new holder").click()
    expect(page.get_by_text("The role has a new holder")).to_be_visible()

    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("link", name="Awaiting review").first.click()
    _inspect(browser, page, "applications")
    page.get_by_role("link", name=reference).click()
    prefect_link = page.get_by_role("link", name=re.compile("Open its run in Prefect"))
    assert prefect_link.get_attribute("href") == f"{prefect.url.removesuffix('/api')}/runs/flow-run/run-{reference}"
    _inspect(browser, page, "application")

    # Keyboard alone: Tab to "Resend links" and press Enter.
    before = len(stack.emails())
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Resend links":
            break
    else:
        pytest.fail("Resend links cannot be reached with Tab")
    page.keyboard.press("Enter")
    _sent(page, "resent")
    expect(page.get_by_text("Fresh links were sent")).to_be_visible()
    assert any("rosa.diaz@reading.browser.example" in m["destinations"]["ToAddresses"]
               for m in stack.emails()[before:])

    prefect.runs[f"run-{reference}"]["state"] = ("FAILED", "Failed")
    page.get_by_role("button", name="Retry the run").click()
    expect(page.get_by_text("The application's run was started again.")).to_be_visible()
    assert (f"run-{reference}", "AwaitingRetry") in prefect.set_states


def test_a_force_administrator_imports_members_after_a_dry_run_and_suspends_one(console_stack, page, browser):
    stack, _ = console_stack
    _sign_in(page, stack, "admin.northamptonshire")
    page.get_by_role("link", name="People", exact=True).click()
    page.get_by_label("CSV file").set_input_files(str(DATA / "members-northamptonshire-with-errors.csv"))
    page.get_by_role("button", name="Check the file").click()
    problems = page.locator("#problems")
    expect(problems).to_be_visible()
    expect(page.locator("main")).to_contain_text("nothing was changed")
    # The planted errors, by line and column: a bad email, an unknown role, a group the force has not, a date
    # that is not one, a term ending before it began.
    for line, column in ((3, "email"), (4, "role"), (5, "group"), (6, "joined_on"), (7, "term_ends_on")):
        assert f"{line}\t{column}" in problems.inner_text(), (line, column)
    _inspect(browser, page, "import-problems", posted=True)

    page.get_by_role("link", name="Back to People").click()
    page.get_by_label("CSV file").set_input_files(str(DATA / "members-northamptonshire.csv"))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="Check the changes before importing")).to_be_visible()
    _inspect(browser, page, "import-check", posted=True)
    page.get_by_role("button", name="Import these members").click()
    expect(page.get_by_text("The import was applied.")).to_be_visible()

    page.get_by_label("Group").select_option("northampton")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("button", name="Suspend Grace Lewis").click()
    expect(page.get_by_role("heading", name="Suspend Grace Lewis?")).to_be_visible()
    _inspect(browser, page, "confirm-suspend", posted=True)
    page.get_by_label("The reason (the member is told it)").fill("Asked for a break until the spring")
    page.get_by_role("button", name="Suspend this member").click()
    expect(page.get_by_text("The member's standing was changed")).to_be_visible()
    expect(page.locator("tr", has_text="Grace Lewis")).to_contain_text("Suspended")


def test_an_auditor_reads_reports_and_a_forged_change_is_refused(console_stack, page, browser):
    stack, prefect = console_stack
    reference = _apply(stack, "thames-valley", group="reading",
                       applicant={"postcode": "RG1 2AA", "email": "auditor.case@example.org"})
    _sign_in(page, stack, "auditor.thames-valley")
    page.get_by_role("link", name="Reports").click()
    _inspect(browser, page, "reports")
    page.get_by_role("link", name="Recruitment: the funnel and review queues").click()
    expect(page.locator("svg[role=img]").first).to_be_visible()
    page.goto(f"{stack.api_url}/admin/console/thames-valley/data-requests")
    _inspect(browser, page, "data-requests")
    page.goto(f"{stack.api_url}/admin/console/thames-valley/applications/{reference}")
    expect(page.get_by_role("button", name="Retry the run")).to_have_count(0)  # no action is offered
    token = page.locator("input[name=_token]").first.get_attribute("value")  # a good token of this sign-in
    for action in ("retry", "resend", "cancel"):
        forged = page.request.post(f"{stack.api_url}/admin/console/thames-valley/applications/{reference}/{action}",
                                   form={"_token": token, "confirmed": "yes"}, max_redirects=0)
        assert forged.status == 403 and "Your role does not allow this" in forged.text(), action
    assert not [s for s in prefect.set_states if s[0] == f"run-{reference}"]


# --- every console page by keyboard alone ---

KB_FORCE, KB_GROUP = "northamptonshire", "northampton"


def _console_pages() -> list[str]:
    """Every page (GET route) of the console, and the operators' pages around it, as app.routes has them."""
    from app import app

    return sorted(path for path, entries in app.routes.items() if "GET" in entries and (
        path.startswith("/admin/console") or path in ("/admin/pages", "/admin/sign-in")
        or re.fullmatch(r"/admin/pages/forces/\{force_id\}/(recruitment|equality)", path)))


def _sent(page, done: str) -> None:
    """The form was sent and the change made: its page came back with `?done=<done>`; else what the page said."""
    try:
        page.wait_for_url(re.compile(rf"done={done}"), timeout=20_000)
    except PlaywrightTimeout:
        shown = page.locator(".govuk-error-message, .govuk-error-summary, h1").all_inner_texts()
        pytest.fail(f"{page.url} did not send the form: {shown}")


def test_every_console_page_works_by_keyboard_alone_and_each_kind_of_form_is_sent_by_keyboard(console_stack, page,
                                                                                               browser, tmp_path):
    """A force administrator signs in, adds a member, sets a role holder, plans and moves a meeting, raises a
    call-out, opens an election and a Strategic IAG cycle, starts a data request and filters the applications with
    Tab, Shift+Tab, Space, the arrow keys and Enter only. Every console page is then walked (keyboard.walk), checked
    with axe-core and at 320 px."""
    stack, _ = console_stack
    base = stack.api_url
    console = f"/admin/console/{KB_FORCE}"
    reference = _apply(stack, KB_FORCE, group=KB_GROUP,
                       applicant={"postcode": "NN1 1AA", "email": "keyboard.applicant@example.org"})
    walked: dict[str, int] = {}  # route -> stops reached

    def walk(route: str) -> None:
        walked[route] = keyboard.walk(page)

    page.goto(f"{base}/admin/sign-in")
    walk("/admin/sign-in")
    keyboard.fill(page, "Username", f"admin.{KB_FORCE}")
    keyboard.fill(page, "Password", PASSWORD)
    keyboard.press(page, "Continue")
    page.wait_for_url(re.compile(r"/admin/pages$"))
    walk("/admin/pages")

    # People: add a member (the form's every field typed), then set the group's chair (and confirm).
    page.goto(f"{base}{console}/people/{KB_GROUP}/member")
    walk("/admin/console/{force_id}/people/{group_id}/member")
    for label, text in (("Full name", "Kay Board"), ("Email address", "kay.board@example.org"),
                        ("Joined on", "2025-01-06"), ("Term ends on (optional)", "2028-01-05"),
                        ("Screening outcome", "clear"), ("Screening level", "basic"),
                        ("Screening completed on", "2024-12-01"), ("Screening expires on", "2027-11-30")):
        keyboard.fill(page, label, text)
    keyboard.press(page, "Save", "Space")
    _sent(page, "member-saved")
    expect(page.locator("tr", has_text="Kay Board")).to_be_visible()
    walk("/admin/console/{force_id}/people")
    # ... and import one who has signed the agreement, so can be called: the file input opened with Space.
    today = date.today()
    csv_file = tmp_path / "one-member.csv"
    csv_file.write_text("name,email,group,role,joined_on,term_ends_on,screening_outcome,screening_level,"
                        "screening_date,screening_expires,agreement_signed_on\n"
                        f"Cal Keys,cal.keys@example.org,{KB_GROUP},member,{today - timedelta(days=30)},"
                        f"{today + timedelta(days=700)},clear,basic,{today - timedelta(days=40)},"
                        f"{today + timedelta(days=700)},{today - timedelta(days=30)}\n")
    keyboard.tab_to(page, "CSV file")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(csv_file))
    keyboard.press(page, "Check the file")
    expect(page.get_by_role("heading", name="Check the changes before importing")).to_be_visible()
    keyboard.walk(page)  # the dry run's report
    keyboard.press(page, "Import these members")
    _sent(page, "imported")
    page.goto(f"{base}{console}/roles/{KB_GROUP}/iag_chair")
    walk("/admin/console/{force_id}/roles/{scope}/{role}")
    keyboard.fill(page, "New holder's full name", "Kay Board")
    keyboard.fill(page, "New holder's email address", "kay.board@example.org")
    keyboard.press(page, "Continue")
    expect(page.get_by_role("button", name="Set the new holder")).to_be_visible()
    keyboard.walk(page)  # the confirmation page
    keyboard.press(page, "Set the new holder")
    _sent(page, "role-set")

    # Meetings: plan the group's meetings, then move one.
    page.goto(f"{base}{console}/meetings/{KB_GROUP}")
    walk("/admin/console/{force_id}/meetings/{group_id}")
    keyboard.press(page, "Plan meetings and send invitations")
    _sent(page, "meetings-planned")
    uid_key = page.locator("tbody tr", has_text="Planned").first.get_by_role("link").get_attribute("href") \
        .rsplit("/", 1)[1]
    page.goto(f"{base}{console}/meetings/{KB_GROUP}/{uid_key}")
    walk("/admin/console/{force_id}/meetings/{group_id}/{uid_key}")
    keyboard.fill(page, "New date and time", "2027-06-21 18:30")
    keyboard.fill(page, "Why it moved (members read this)", "The room is booked")
    keyboard.press(page, "Move the meeting and tell members")
    _sent(page, "meeting-moved")

    # Call-outs: raise one (a checkbox ticked with Space).
    page.goto(f"{base}{console}/callouts")
    walk("/admin/console/{force_id}/callouts")
    for label, text in (("Title", "Keyboard call-out"), ("What members are asked", "Advice on reassurance."),
                        ("Minutes members have to answer", "120"), ("The police lead's name", "Supt Lead"),
                        ("The police lead's email address", "lead@northants.example")):
        keyboard.fill(page, label, text)
    keyboard.press(page, "Northampton IAG", "Space")
    keyboard.press(page, "Raise the call-out")
    _sent(page, "callout-raised")
    incident_id = page.url.split("?")[0].rsplit("/", 1)[1]

    # Elections: the office chosen with the arrow keys.
    page.goto(f"{base}{console}/elections/{KB_GROUP}")
    walk("/admin/console/{force_id}/elections/{group_id}")
    keyboard.tab_to(page, "Chair")
    page.keyboard.press("ArrowDown")  # to Vice Chair, which it selects
    keyboard.fill(page, "Days members have to stand", "7")
    keyboard.fill(page, "Days members have to vote", "7")
    keyboard.press(page, "Open the election")
    _sent(page, "election-opened")
    expect(page.get_by_text("Election for Vice Chair")).to_be_visible()
    election_id = page.url.split("?")[0].rsplit("/", 1)[1]

    # The Strategic IAG: open the next cycle.
    page.goto(f"{base}{console}/strategic")
    walk("/admin/console/{force_id}/strategic")
    keyboard.press(page, "Open the cycle for the next meeting")
    _sent(page, "cycle-started")
    cycle_id = page.url.split("?")[0].rsplit("/", 1)[1]

    # Data requests: start one for the applicant.
    page.goto(f"{base}{console}/data-requests")
    walk("/admin/console/{force_id}/data-requests")
    keyboard.fill(page, "The person's email address", "keyboard.applicant@example.org")
    keyboard.press(page, "Start the request")
    _sent(page, "subject-access")

    # Applications: the stage chosen with the arrow keys in its list, then Show.
    page.goto(f"{base}{console}/applications")
    walk("/admin/console/{force_id}/applications")
    keyboard.tab_to(page, "Stage")
    page.keyboard.press("ArrowDown")
    chosen = page.locator("#stage").input_value()
    keyboard.press(page, "Show")
    page.wait_for_url(re.compile(rf"stage={chosen}"))

    # The dashboard and the reports: links followed with Enter.
    page.goto(f"{base}{console}")
    walk("/admin/console/{force_id}")
    keyboard.press(page, "Keyboard call-out")  # the open call-out, a link to its page
    page.wait_for_url(re.compile(rf"/callouts/{incident_id}$"))
    page.goto(f"{base}{console}/reports")
    walk("/admin/console/{force_id}/reports")
    keyboard.press(page, "Recruitment: the funnel and review queues")
    page.wait_for_url(re.compile(r"/reports/recruitment$"))

    # Every other page, with what this test made; each page also checked with axe-core and at 320 px.
    values = {"force_id": KB_FORCE, "reference": reference, "group_id": KB_GROUP, "scope": KB_GROUP,
              "role": "iag_chair", "uid_key": uid_key, "incident_id": incident_id, "election_id": election_id,
              "cycle_id": cycle_id}
    pages = _console_pages()
    assert len(pages) >= 20
    checking = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)  # axe needs script
    checking.add_cookies(page.context.cookies())
    checker = checking.new_page()
    try:
        for route in pages:
            missing = set(re.findall(r"{(\w+)}", route)) - set(values)
            assert not missing, f"a console page this test cannot open yet: give {missing} for {route}"
            url = base + re.sub(r"{(\w+)}", lambda m: values[m[1]], route)
            if route not in walked:
                page.goto(url)
                walk(route)
            if route == "/admin/sign-in":
                continue  # signed in: it would sign in again; walked above before signing in
            checker.set_viewport_size({"width": 1280, "height": 900})
            checker.goto(url)
            assert axe_violations(checker) == [], route
            name = "dashboard-links" if route.endswith("{force_id}") else route.rsplit("/", 1)[1]
            new_or_changed = route.endswith(("/reports/recruitment", "/reports/equality", "{force_id}"))
            if new_or_changed:
                screenshot(checker, f"console-{name}-desktop")
            checker.set_viewport_size({"width": 320, "height": 900})  # the same page on a phone's width
            assert fits_width(checker), f"{route} scrolls sideways at 320 px"
            if new_or_changed:
                screenshot(checker, f"console-{name}-320")
    finally:
        checking.close()
    assert set(walked) == set(pages), set(pages) - set(walked)


@pytest.mark.parametrize("flaw, said", [
    ("", None),
    ('<style>#b:focus { background: none; outline: none }</style>', "shows no focus style"),
    ('<style>#b { position: absolute; left: -9999px }</style>', "cannot be seen"),
    ('<script>document.getElementById("c").tabIndex = 1</script>', "expected"),
    ('<script>document.getElementById("b").addEventListener("keydown", e => e.key === "Tab" && e.preventDefault())'
     '</script>', "expected"),
], ids=["good", "no-focus-style", "off-screen", "out-of-order", "trap"])
def test_the_keyboard_walk_finds_what_a_keyboard_user_would_stumble_on(browser, flaw, said):
    """keyboard.walk on small pages with one flaw each: it passes the good one and names each flaw."""
    context = browser.new_context(viewport={"width": 800, "height": 600})
    page = context.new_page()
    page.set_content('<style>a:focus { outline: 3px solid rgb(255, 221, 0) }</style>'
                     '<a id="a" href="#1">One</a> <a id="b" href="#2">Two</a> <a id="c" href="#3">Three</a>' + flaw)
    try:
        if said is None:
            assert keyboard.walk(page) == 3
        else:
            with pytest.raises(AssertionError, match=said):
                keyboard.walk(page)
    finally:
        context.close()
