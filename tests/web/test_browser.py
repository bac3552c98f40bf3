"""People using the application form, page by page, in a real browser (headless Chromium)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect  # its checks wait for the page to show, as a person would

from tests.web.conftest import ROOT, loaded, screenshot

pytestmark = pytest.mark.browser

# package.json pins axe-core; IAG_AXE_CORE points elsewhere when the shared node_modules is being rebuilt.
AXE = Path(os.environ.get("IAG_AXE_CORE", ROOT / "node_modules" / "axe-core" / "axe.min.js"))
ATTACK = '<script>window.pwned=1</script><b id="injected">bold</b>'
PHONE = {"viewport": {"width": 320, "height": 640}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
MAX_HEIGHT = 3400  # the longest: the check page with all nine equality answers, about 3,030 px

# Each force's form, as a person there would fill it.
PEOPLE = {
    "derbyshire": {"group": "Derbyshire Independent Advisory Group", "postcode": "DE5 3RS"},
    "thames-valley": {"group": "Reading IAG", "postcode": "RG1 1AA"},
    "northamptonshire": {"group": "Northampton IAG", "postcode": "NN1 1DT"},
    "greater-manchester": {"group": "Bolton IAG", "postcode": "BL1 1AA"},
    "avon-and-somerset": {"group": "Counter Terrorism IAG", "postcode": "BS1 4DJ",
                          "requirements": ("I agree to the limited screening", "I can offer insight")},
}


def slug_of(page) -> str:
    return loaded(page).url.split("?")[0].rstrip("/").rsplit("/", 1)[1]


def answer(page, person: dict) -> None:
    """Answer the question page the browser is on, as `person` would."""
    slug = slug_of(page)
    if slug == "group":
        page.get_by_label(person["group"], exact=True).check()
    elif slug == "eligibility":
        page.get_by_label("Day").fill(person.get("day", "27"))
        page.get_by_label("Month").fill("3")
        page.get_by_label("Year").fill(person.get("year", "1985"))
        page.get_by_label(person.get("connection", "I live there")).check()
        page.get_by_label("Your home postcode").fill(person["postcode"])
    elif slug == "requirements":
        for requirement in person.get("requirements", ()):
            page.get_by_label(requirement).check()
    elif slug == "independence":
        for question in ("Are you employed by the police?", "Are you substantially connected to the police?",
                         "Are you linked to the judiciary?", "Do you hold a civic role?"):
            page.get_by_role("group", name=question).get_by_label("No").check()
    elif slug == "name":
        page.get_by_label("First name").fill(person.get("given_name", "Amira"))
        page.get_by_label("Last name").fill("Khan")
    elif slug == "contact":
        page.get_by_label("Email address").fill(person["email"])
    elif slug in ("motivation", "communities", "engagement"):
        page.locator("textarea").fill(person.get(slug, "I want policing here to earn young people's trust."))
    elif slug == "equality":
        page.get_by_label("Yes, I will answer them" if person.get("equality") else "No, skip them").check()
    elif slug.startswith("equality-"):
        page.get_by_label("Prefer not to say").check()
    elif slug == "privacy":
        page.get_by_label("I have read the privacy notice").check()


def continue_(page) -> None:
    with page.expect_navigation():  # the next page has loaded before anything looks at it
        page.get_by_role("button", name="Continue").click()


def walk_to(page, person: dict, stop: str = "check", on_each=None) -> list[str]:
    """From wherever the browser is, answer page after page until `stop`; returns the pages seen."""
    seen = []
    while slug_of(page) != stop:
        expect(page.get_by_role("button", name="Continue")).to_have_count(1)
        seen.append(slug_of(page))
        if on_each:
            on_each(page)
        answer(page, person)
        continue_(page)
        expect(page.locator(".govuk-error-summary"), seen[-1]).to_have_count(0)
    return seen


def start(page, base_url: str, force: str) -> None:
    page.goto(f"{base_url}/forces/{force}/apply")
    with page.expect_navigation():
        page.get_by_role("button", name="Start now").click()


def send(page) -> str:
    page.get_by_role("button", name="Accept and send").click()
    expect(page.get_by_role("heading", name="Application received")).to_be_visible()
    return re.search(r"[A-Z]{3}-\d{4}-[0-9A-Z]{8}", page.locator(".govuk-panel__body").inner_text()).group(0)


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the page as it stands."""
    loaded(page).add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in results["violations"] if v["impact"] in ("serious", "critical")]


def height(page) -> int:
    return loaded(page).evaluate("Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)")


def fits_width(page) -> bool:
    """Nothing wider than the screen: no sideways scrolling at the viewport's width."""
    width = page.viewport_size["width"]
    return loaded(page).evaluate(f"Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) <= {width}")


def mailed_link(live_stack, to: str) -> str:
    found = [href for m in live_stack.emails() if to in m["destinations"]["ToAddresses"]
             for href in re.findall(r'href="(http[^"]+/apply/resume/[^"]+)"', m["body"])]
    return found[-1]


@pytest.mark.parametrize("javascript", [False, True], ids=["js-off", "js-on"])
@pytest.mark.parametrize("force", list(PEOPLE))
def test_a_person_completes_each_force_form_page_by_page_on_a_320px_phone(live_stack, browser, force, javascript):
    context = browser.new_context(java_script_enabled=javascript, **PHONE)
    page = context.new_page()
    email = f"{force}.{'js' if javascript else 'nojs'}@example.org"
    person = {**PEOPLE[force], "email": email}
    heights = {}

    def look(p):
        assert fits_width(p), slug_of(p)
        expect(p.get_by_role("link", name="Application pack in another format")).to_have_count(1)  # every page
        heights[slug_of(p)] = height(p)
        if not javascript:
            screenshot(p, f"{force}-{len(heights):02d}-{slug_of(p)}-320px")

    start(page, live_stack.api_url, force)
    seen = walk_to(page, person, on_each=look)
    assert seen[:2] == ["group", "eligibility"]  # whether a person can join comes first
    assert ("requirements" in seen) is (force == "avon-and-somerset")
    look(page)  # the check page
    reference = send(page)
    look(page)
    assert max(heights.values()) < MAX_HEIGHT, heights
    stored = live_stack.application(force, reference)
    assert stored.stage.value == "awaiting_review" and stored.applicant["email"] == email
    if force == "avon-and-somerset":
        assert stored.eligibility["screening"] == "limited"
        expect(page.locator("main")).to_contain_text("limited security screening")
    live_stack.send_announced(force, reference)  # the confirmation goes from the application's run
    [message] = [m for m in live_stack.emails() if reference in m["subject"]]
    assert message["destinations"]["ToAddresses"] == [email]
    context.close()


def test_a_person_goes_back_and_changes_an_answer_from_the_check_page(live_stack, page):
    start(page, live_stack.api_url, "northamptonshire")
    walk_to(page, {**PEOPLE["northamptonshire"], "email": "change.northants@example.org"}, stop="contact")
    page.get_by_role("link", name="Back", exact=True).click()  # answers survive going back and forth
    assert slug_of(page) == "name" and page.get_by_label("First name").input_value() == "Amira"
    continue_(page)
    walk_to(page, {**PEOPLE["northamptonshire"], "email": "change.northants@example.org"})
    page.get_by_role("link", name="Change name").click()
    assert page.get_by_label("First name").input_value() == "Amira"
    page.get_by_label("First name").fill("Amina")
    continue_(page)
    assert slug_of(page) == "check"
    expect(page.get_by_role("heading", name="Check your answers before sending your application")).to_be_visible()
    assert "Amina" in page.locator(".govuk-summary-list").first.inner_text()
    reference = send(page)
    assert live_stack.application("northamptonshire", reference).applicant["given_name"] == "Amina"


def test_a_person_saves_opens_the_emailed_link_in_a_new_browser_and_finishes(live_stack, browser):
    email = "later.gmp@example.org"
    person = {**PEOPLE["greater-manchester"], "email": email}
    first = browser.new_context(java_script_enabled=False, **PHONE)
    page = first.new_page()
    start(page, live_stack.api_url, "greater-manchester")
    walk_to(page, person, stop="motivation")
    page.get_by_role("link", name="Save and come back later").click()
    screenshot(page, "save-320px")
    assert page.get_by_label("Email address").input_value() == email  # given on an earlier page
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", name="We have sent you a link")).to_be_visible()
    screenshot(page, "saved-320px")
    first.close()

    later = browser.new_context(java_script_enabled=False, **PHONE)  # another browser, days later
    page = later.new_page()
    link = mailed_link(live_stack, email)
    page.goto(link)
    screenshot(page, "resume-320px")
    page.get_by_role("button", name="Continue your application").click()
    assert slug_of(page) == "motivation"
    page.get_by_role("link", name="Back", exact=True).click()
    assert page.get_by_label("Email address").input_value() == email  # the saved answers are there
    continue_(page)
    walk_to(page, person)
    reference = send(page)
    assert live_stack.application("greater-manchester", reference).applicant["email"] == email
    page.goto(link)  # single use
    expect(page.get_by_role("heading", name="This link cannot be used")).to_be_visible()
    later.close()


def test_a_person_is_told_kindly_on_the_first_eligibility_page_every_reason_they_cannot_join(live_stack, phone):
    start(phone, live_stack.api_url, "derbyshire")
    walk_to(phone, PEOPLE["derbyshire"], stop="eligibility")
    answer(phone, {**PEOPLE["derbyshire"], "year": "2012", "postcode": "M1 1AE"})
    continue_(phone)
    expect(phone.get_by_role("heading", name="You cannot join the Derbyshire Independent Advisory Group")
           ).to_be_visible()
    expect(phone.locator("main ul.govuk-list--bullet li")).to_have_text([
        re.compile(r"^You must be 18 or over"), re.compile("outside the area")])
    screenshot(phone, "cannot-join-320px")
    phone.get_by_role("link", name="change your answers").click()
    assert phone.get_by_label("Your home postcode").input_value() == "M1 1AE"


def test_mistakes_are_summarised_linked_to_their_fields_and_answers_are_kept(live_stack, phone):
    start(phone, live_stack.api_url, "thames-valley")
    walk_to(phone, PEOPLE["thames-valley"], stop="eligibility")
    phone.get_by_label("Year").fill("19")
    phone.get_by_label("Your home postcode").fill("RG1 1AA")
    continue_(phone)
    expect(phone).to_have_title(re.compile("^Error: "))
    summary = phone.locator(".govuk-error-summary")
    expect(summary.get_by_role("link")).to_have_text([
        "Enter your date of birth as a real date, for example 27 3 1985",
        "Select whether you live or work in the area, or both",
    ])
    assert fits_width(phone)
    screenshot(phone, "errors-320px")
    summary.get_by_role("link", name="Enter your date of birth as a real date, for example 27 3 1985").click()
    assert phone.url.endswith("#applicant-date_of_birth-day")
    assert phone.get_by_label("Your home postcode").input_value() == "RG1 1AA"  # kept


def _every_page(page, width: int, live_stack, findings: dict) -> None:
    base_url = live_stack.api_url

    def look(p, name=None):
        name = name or f"{slug_of(p)}{'-error' if loaded(p).locator('.govuk-error-summary').count() else ''}"
        findings[(name, width)] = (axe_violations(p), height(p))
        screenshot(p, f"axe-{name}-{width}px")

    person = {**PEOPLE["avon-and-somerset"], "email": f"axe.{width}@example.org", "equality": True}
    page.goto(f"{base_url}/forces/avon-and-somerset/apply")
    look(page)
    page.get_by_role("button", name="Start now").click()
    continue_(page)  # nothing chosen: the error state
    look(page)
    walk_to(page, person, stop="name", on_each=look)
    page.get_by_role("link", name="Save and come back later").click()
    look(page)
    page.get_by_role("button", name="Send me a link").click()  # no email address given yet: the error state
    look(page)
    page.get_by_label("Email address").fill(person["email"])
    page.get_by_role("button", name="Send me a link").click()
    look(page)
    page.get_by_role("link", name="carry on with your application").click()
    page.goto(mailed_link(live_stack, person["email"]))
    look(page, "resume")
    page.get_by_role("button", name="Continue your application").click()
    walk_to(page, person, on_each=look)
    look(page)
    send(page)
    look(page)
    page.goto(f"{base_url}/forces/greater-manchester/apply/group")
    look(page, "group-greater-manchester")  # ten groups: the longest choice
    start(page, base_url, "derbyshire")
    walk_to(page, PEOPLE["derbyshire"], stop="eligibility")
    answer(page, {**PEOPLE["derbyshire"], "year": "2012", "postcode": "M1 1AE"})
    continue_(page)
    look(page)


def test_every_page_has_no_serious_accessibility_violation_and_fits_3400px_at_320px(live_stack, browser):
    findings: dict = {}
    for width, options in ((1280, DESKTOP), (320, PHONE)):
        # axe itself needs JavaScript, and injecting it needs our Content-Security-Policy set aside
        context = browser.new_context(bypass_csp=True, **options)
        _every_page(context.new_page(), width, live_stack, findings)
        context.close()
    assert {key: found[0] for key, found in findings.items() if found[0]} == {}
    tall = {name: found[1] for (name, width), found in findings.items() if width == 320 and found[1] >= MAX_HEIGHT}
    assert tall == {}
    print("\nheight at 320 px:", {name: found[1] for (name, width), found in sorted(findings.items()) if width == 320})


def test_markup_typed_into_the_form_is_shown_as_text_on_every_page_and_in_the_email(live_stack, browser):
    context = browser.new_context()  # JavaScript on, so an injected script would run if it got through
    page = context.new_page()
    start(page, live_stack.api_url, "derbyshire")
    person = {**PEOPLE["derbyshire"], "email": "attacker@example.org", "given_name": ATTACK, "motivation": ATTACK}
    walk_to(page, person, stop="communities")
    page.get_by_role("link", name="Back", exact=True).click()
    assert page.locator("textarea").input_value() == ATTACK
    expect(page.locator("#injected")).to_have_count(0)
    assert loaded(page).evaluate("window.pwned") is None
    continue_(page)
    walk_to(page, person)
    assert ATTACK in page.locator(".govuk-summary-list").first.inner_text()
    expect(page.locator("#injected")).to_have_count(0)
    assert loaded(page).evaluate("window.pwned") is None
    reference = send(page)
    expect(page.locator("#injected")).to_have_count(0)
    assert loaded(page).evaluate("window.pwned") is None
    live_stack.send_announced("derbyshire", reference)
    [email] = [m for m in live_stack.emails() if reference in m["subject"]]
    assert "<script>" not in email["body"] and '<b id="injected">' not in email["body"]
    assert "pwned" not in email["body"] and "<p>Hello,</p>" in email["body"]  # not a name: not repeated at all
    context.close()


def test_a_person_asks_for_the_application_pack_in_large_print_and_the_force_contact_is_emailed(live_stack, page):
    page.goto(f"{live_stack.api_url}/forces/greater-manchester/apply")
    page.get_by_role("link", name="ask for it in the format you need").click()
    page.get_by_label("Large print").check()
    page.get_by_label("Your name").fill("Pat Jones")
    page.get_by_label("Postal address").fill("1 Example Street, Manchester M1 1AE")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("heading", name="Request sent")).to_be_visible()
    request_id = re.search(r"PACK-[0-9A-F]{8}", loaded(page).content()).group(0)
    [email] = [m for m in live_stack.emails() if request_id in m["subject"]]
    assert email["destinations"]["ToAddresses"] == ["dave.willetts@greater-manchester.police.example"]
    assert "large print" in email["body"] and "1 Example Street" not in email["body"]  # on the request's page only
    assert f"/admin/pages/forces/greater-manchester/pack-requests/{request_id}" in email["body"]
