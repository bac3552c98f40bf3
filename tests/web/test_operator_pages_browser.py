"""A force administrator signs in and reads the recruitment and equality pages in a real browser."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import application_payload
from tests.web.test_browser import axe_violations

pytestmark = pytest.mark.browser


def test_a_force_administrator_signs_in_and_reads_the_charts(live_stack, page, browser):
    import json
    import urllib.request

    request = urllib.request.Request(f"{live_stack.api_url}/forces/thames-valley/applications", method="POST",
                                     data=json.dumps(application_payload(
                                         group="reading", applicant={"postcode": "RG1 1AA"})).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10).close()
    page.goto(f"{live_stack.api_url}/admin/pages")
    assert page.url.endswith("/admin/sign-in")  # sent to sign in first
    page.get_by_label("Username").fill("admin.thames-valley")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Continue").click()
    # A click returns once the navigation commits, before the new page is parsed: expect() waits for it.
    expect(page.get_by_text("The username, password or code is not right.")).to_be_visible()
    page.get_by_label("Username").fill("admin.thames-valley")
    page.get_by_label("Password").fill("Local-Operator-1")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Thames Valley Police")).to_be_visible()
    assert page.url.endswith("/admin/pages")
    page.get_by_role("link", name="Recruitment: the funnel and review queues").click()
    expect(page.locator("svg[role=img]").first).to_be_visible()
    page.go_back()
    page.get_by_role("link", name="Equality monitoring (counts only)").click()
    expect(page.locator("#publication-rule")).to_have_count(1)  # no ended period with enough answers: no chart
    # axe needs script: the same signed-in cookie in a context that runs it.
    checking = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    checking.add_cookies(page.context.cookies())
    checker = checking.new_page()
    for report in ("recruitment", "equality"):
        checker.goto(f"{live_stack.api_url}/admin/pages/forces/thames-valley/{report}")
        assert axe_violations(checker) == [], report
    checking.close()
    page.goto(f"{live_stack.api_url}/admin/pages/forces/derbyshire/equality")
    expect(page.locator("body")).to_contain_text("Your role does not allow this")
