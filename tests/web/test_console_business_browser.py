"""The console's meeting, call-out and election pages in headless Chromium, against a live stack (moto in server
mode and `chalice local`), JavaScript off, signed in as the local stack's demo operators: a coordinator plans
meetings and records attendance, raises a call-out and watches answers arrive (members answer through their
emailed links), closes it by keyboard alone; a force administrator runs an election. Each page is checked with
axe-core, at 320 px, and kept as screenshots."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect  # waits for the page, as a person would; is_visible() does not

from tests.web.conftest import point_models_at, screenshot
from tests.web.test_browser import DESKTOP, PHONE, axe_violations, fits_width

pytestmark = pytest.mark.browser

FORCE, GROUP = "northamptonshire", "northampton"
PASSWORD = "Local-Operator-1"  # the local stack's demo operators (scripts/local_stack.py)
HELD = "northamptonshire.northampton.console-test.2026-11-10"


@pytest.fixture(scope="module")
def northampton(live_stack):
    """Two callable members of Northampton IAG and a meeting held a fortnight ago, in the stack's table."""
    from chalicelib.adapters.dynamodb.joining import member_item
    from chalicelib.adapters.dynamodb.meetings import DynamoMeetingStore
    from chalicelib.domain.meeting_plans import PlannedMeeting
    from chalicelib.domain.meetings import Meeting
    from chalicelib.domain.membership import Member, Role

    point_models_at(live_stack.moto_url)
    today = date.today()
    clear = {"level": "basic", "outcome": "clear", "completed_on": f"{today.year - 1}-01-10",
             "expires_on": f"{today.year + 2}-01-10"}
    for n, name in ((1, "Asha Patel"), (2, "Ben Okafor")):
        member_item(Member(f"NOR-CON-{n}", FORCE, GROUP, Role.MEMBER, name, f"console.member{n}@example.org", "",
                           today - timedelta(days=300), today + timedelta(days=700), {"email": True}, clear,
                           "confidentiality-agreement@2026-11", True)).save()
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=14)
    DynamoMeetingStore().add(FORCE, GROUP, PlannedMeeting(Meeting(
        HELD, "Northampton IAG: IAG meeting", start, start + timedelta(hours=2), "Northampton", True)), start)
    return live_stack


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/admin/pages$"))


def check_page(browser, page, name: str, came_from: str = "", button: str = "") -> None:
    """axe-core (in a context that runs its script, with the same sign-in), 320 px without sideways scroll, and
    screenshots at both widths. A page that answers a POST (a confirmation) is reached again the same way: from
    the page it `came_from`, by its `button`."""
    url = came_from or page.url
    screenshot(page, f"console-{name}-desktop")
    for options, width in ((DESKTOP, "desktop"), (PHONE, "320px")):
        context = browser.new_context(bypass_csp=True, java_script_enabled=True, **options)
        context.add_cookies(page.context.cookies())
        checker = context.new_page()
        checker.goto(url)
        if button:
            with checker.expect_navigation():  # the confirmation page, not the one it came from
                checker.get_by_role("button", name=button).click()
            expect(checker.get_by_role("heading", level=1)).to_have_count(1)
        if width == "320px":
            screenshot(checker, f"console-{name}-320px")
            assert fits_width(checker), name
        assert axe_violations(checker) == [], (name, width)
        context.close()


def emailed_links(stack, to: str, path: str) -> list[str]:
    return [href for m in stack.emails() if to in m["destinations"]["ToAddresses"]
            for href in re.findall(rf'href="(http[^"]+/{path}/[A-Za-z0-9_-]+)"', m["body"] or "")]


def test_a_coordinator_plans_meetings_and_records_who_came(northampton, page, browser):
    base = northampton.api_url
    sign_in(page, base, f"coordinator.{FORCE}")
    page.goto(f"{base}/admin/console/{FORCE}")
    page.get_by_role("link", name="Meetings", exact=True).click()  # the console's navigation, then the group
    check_page(browser, page, "meeting-groups")
    page.get_by_role("link", name="Northampton IAG", exact=True).click()
    page.get_by_role("button", name="Plan meetings and send invitations").click()
    expect(page.get_by_text("The next meetings are planned")).to_be_visible()
    expect(page.locator("td", has_text="Planned").nth(5)).to_be_visible()  # six or more
    check_page(browser, page, "meetings")
    page.locator(f'a[href$="{HELD}"]').click()
    check_page(browser, page, "meeting")
    page.get_by_label("Asha Patel").check()
    page.get_by_role("button", name="Record attendance").click()
    expect(page.get_by_text("Attendance is recorded.")).to_be_visible()
    expect(page.get_by_text("Recorded: Asha Patel.")).to_be_visible()
    page.get_by_role("link", name=re.compile("All meetings of")).click()
    page.locator("tbody tr", has_text="Planned").first.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/meetings/[^/]+/[^/?]+$"))  # the meeting's page, not the list
    meeting = page.url
    page.get_by_role("button", name="Cancel this meeting").click()
    check_page(browser, page, "cancel-meeting", came_from=meeting, button="Cancel this meeting")
    page.get_by_label("Why it is cancelled (members read this)").fill("No business this time")
    page.get_by_role("button", name="Yes, cancel the meeting").click()
    expect(page.get_by_text("The meeting is cancelled")).to_be_visible()


def test_a_force_administrator_opens_a_strategic_iag_cycle_and_follows_it(northampton, page, browser):
    base = northampton.api_url
    sign_in(page, base, f"admin.{FORCE}")
    page.get_by_role("link", name="Strategic IAG meetings").click()
    check_page(browser, page, "strategic")
    page.get_by_role("button", name="Open the cycle for the next meeting").click()
    expect(page.get_by_text("the local IAGs' chairs have been asked for nominees")).to_be_visible()
    expect(page.get_by_text("Asking for nominees")).to_be_visible()
    check_page(browser, page, "strategic-cycle")


def test_a_coordinator_raises_a_call_out_sees_answers_arrive_and_closes_it_by_keyboard(northampton, page, browser):
    base = northampton.api_url
    sign_in(page, base, f"coordinator.{FORCE}")
    page.goto(f"{base}/admin/console/{FORCE}/callouts")
    check_page(browser, page, "incidents")
    page.get_by_label("Title").fill("Disorder after the match")
    page.get_by_label("What members are asked").fill("Advice wanted on community reassurance.")
    page.get_by_label("Minutes members have to answer").fill("120")
    page.get_by_label("The police lead's name").fill("Supt Lead")
    page.get_by_label("The police lead's email address").fill("lead@northants.example")
    page.get_by_label("Northampton IAG", exact=True).check()
    page.get_by_role("button", name="Raise the call-out").click()
    expect(page.get_by_text("The call-out is raised")).to_be_visible()
    watched = page.url.split("?")[0]
    check_page(browser, page, "incident")
    page.get_by_role("link", name="Reload this page by itself every 20 seconds").click()
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(1)  # reloads itself, without script, when asked
    # Prefect is not part of this stack: the request asked the members itself. One answers through the email.
    member = browser.new_context(java_script_enabled=False, **PHONE).new_page()
    [link] = emailed_links(northampton, "console.member1@example.org", "callout")[-1:]
    member.goto(link)
    member.get_by_label("Available now").check()
    member.get_by_label("A note for the police lead (optional)").fill("On my way")
    member.get_by_role("button", name="Send my answer").click()
    member.context.close()
    page.get_by_role("link", name="Refresh now").click()  # what the page's own reload does
    expect(page.get_by_text("On my way")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Asha Patel.*Available now"))).to_be_visible()
    open_page = page.url
    page.get_by_role("button", name="Close this call-out now").click()
    check_page(browser, page, "close-incident", came_from=open_page, button="Close this call-out now")
    for _ in range(40):  # keyboard alone: tab to the button and press Enter
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Yes, close the call-out":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"done=callout-closed"))
    expect(page.get_by_text("members' links no longer work")).to_be_visible()
    assert page.url.split("?")[0] == watched


def test_a_force_administrator_runs_an_election(northampton, page, browser):
    base = northampton.api_url
    sign_in(page, base, f"admin.{FORCE}")
    page.goto(f"{base}/admin/console/{FORCE}/elections/{GROUP}")
    check_page(browser, page, "elections")
    page.get_by_label("Vice Chair").check()
    page.get_by_label("Days members have to stand").fill("7")
    page.get_by_label("Days members have to vote").fill("7")
    page.get_by_role("button", name="Open the election").click()
    expect(page.get_by_text("every active member has been sent a nomination link")).to_be_visible()
    election = page.url.split("?")[0]
    [stand] = emailed_links(northampton, "console.member2@example.org", "stand")[-1:]
    member = browser.new_context(java_script_enabled=False, **DESKTOP).new_page()
    member.goto(stand)
    member.get_by_label("Your statement to members").fill("I would like to serve the group.")
    member.get_by_role("button", name=re.compile("Stand for")).click()
    member.context.close()
    page.goto(election)
    expect(page.get_by_text("Ben Okafor")).to_be_visible()
    check_page(browser, page, "election")
    page.get_by_role("button", name="Count the votes and declare the result").click()
    expect(page.get_by_text("Nominations are still open").first).to_be_visible()  # counted only when it is time
    auditor = browser.new_context(java_script_enabled=False, **DESKTOP).new_page()
    sign_in(auditor, base, f"auditor.{FORCE}")
    auditor.goto(election)
    expect(auditor.get_by_text("Ben Okafor")).to_be_visible()
    expect(auditor.locator("main").get_by_role("button")).to_have_count(0)  # reads; offered no change
    auditor.context.close()
