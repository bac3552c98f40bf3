"""People using the application form in a real browser (headless Chromium, JavaScript off)."""
from __future__ import annotations

import re

import pytest

from tests.web.conftest import ROOT, screenshot

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ATTACK = '<script>window.pwned=1</script><b id="injected">bold</b>'


def fill_application(page, *, group: str, email: str, postcode: str, given_name="Amira", requirements=()):
    page.get_by_label(group, exact=True).check()
    for requirement in requirements:
        page.get_by_label(requirement).check()
    page.get_by_label("First name").fill(given_name)
    page.get_by_label("Last name").fill("Khan")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Day").fill("27")
    page.get_by_label("Month").fill("3")
    page.get_by_label("Year").fill("1985")
    page.get_by_label("Home postcode").fill(postcode)
    page.get_by_label("I live there").check()
    page.get_by_label("Why do you want to join").fill("I want policing here to earn young people's trust.")
    page.get_by_label("What communities and experience").fill("I run a youth football club.")
    page.get_by_label("How would you engage").fill("Through the club's parents' group.")
    for question in ("Are you employed by the police?", "Are you substantially connected to the police?",
                     "Are you linked to the judiciary?", "Do you hold a civic role?"):
        page.get_by_role("group", name=question).get_by_label("No").check()
    page.get_by_label("I have read the privacy notice").check()


def submit(page):
    page.get_by_role("button", name="Submit application").click()


def reference_on(page) -> str:
    return re.search(r"[A-Z]{3}-\d{4}-[0-9A-Z]{8}", page.locator(".govuk-panel__body").inner_text()).group(0)


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the page as it stands."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in results["violations"] if v["impact"] in ("serious", "critical")]


def fits_width(page) -> bool:
    """Nothing wider than the screen: no sideways scrolling at the viewport's width."""
    width = page.viewport_size["width"]
    return page.evaluate(f"Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) <= {width}")


def test_a_person_applies_to_derbyshire_and_gets_a_reference_an_email_and_a_stored_application(live_stack, page):
    page.goto(f"{live_stack.api_url}/forces/derbyshire/apply")
    screenshot(page, "form-desktop")
    fill_application(page, group="Derbyshire Independent Advisory Group", email="amira.derby@example.org",
                     postcode="DE5 3RS")
    submit(page)
    assert page.get_by_role("heading", name="Application received").is_visible()
    reference = reference_on(page)
    screenshot(page, "confirmation-desktop")
    stored = live_stack.application("derbyshire", reference)
    assert stored.stage.value == "awaiting_review"
    assert stored.applicant["email"] == "amira.derby@example.org"
    [email] = [m for m in live_stack.emails() if reference in m["subject"]]
    assert email["destinations"]["ToAddresses"] == ["amira.derby@example.org"]


def test_a_person_on_a_320px_phone_applies_to_an_avon_and_somerset_specialist_iag(live_stack, phone):
    phone.goto(f"{live_stack.api_url}/forces/avon-and-somerset/apply")
    assert fits_width(phone)
    screenshot(phone, "form-320px")
    assert phone.get_by_label("Strategic IAG").count() == 0  # closed to applicants: not offered
    fill_application(phone, group="Counter Terrorism IAG", email="sam.bristol@example.org", postcode="BS1 4DJ",
                     requirements=("I agree to the limited screening", "I can offer insight"))
    submit(phone)
    assert phone.get_by_role("heading", name="Application received").is_visible()
    assert "limited security screening" in phone.content()
    assert fits_width(phone)
    screenshot(phone, "confirmation-320px")
    reference = reference_on(phone)
    assert live_stack.application("avon-and-somerset", reference).eligibility["screening"] == "limited"


def test_mistakes_are_summarised_linked_to_their_fields_and_answers_are_kept(live_stack, page):
    page.goto(f"{live_stack.api_url}/forces/northamptonshire/apply")
    fill_application(page, group="Northampton IAG", email="not an email", postcode="NN1 1DT")
    page.get_by_label("First name").fill("")
    page.get_by_label("Year").fill("19")
    submit(page)
    assert page.title().startswith("Error: ")
    summary = page.locator(".govuk-error-summary")
    assert summary.get_by_role("link").all_inner_texts() == [
        "Enter your first name",
        "Enter an email address in the correct format, like name@example.com",
        "Enter your date of birth as a real date, for example 27 3 1985",
    ]
    screenshot(page, "errors-desktop")
    summary.get_by_role("link", name="Enter your first name").click()
    assert page.url.endswith("#applicant-given_name")
    assert page.get_by_label("Last name").input_value() == "Khan"  # kept
    assert page.get_by_label("Northampton IAG", exact=True).is_checked()
    page.get_by_label("First name").fill("Amira")
    page.get_by_label("Email address").fill("amira.northants@example.org")
    page.get_by_label("Year").fill("1985")
    page.get_by_label("I have read the privacy notice").check()  # a checkbox is not kept: consent is given afresh
    submit(page)
    assert page.get_by_role("heading", name="Application received").is_visible()
    assert "basic police check" in page.content()


def test_errors_on_a_phone_fit_the_screen(live_stack, phone):
    phone.goto(f"{live_stack.api_url}/forces/thames-valley/apply")
    submit(phone)
    assert phone.locator(".govuk-error-summary").is_visible()
    assert fits_width(phone)
    screenshot(phone, "errors-320px")


@pytest.mark.parametrize("force", ["derbyshire", "avon-and-somerset"])
def test_the_form_the_error_state_and_the_confirmation_have_no_serious_accessibility_violations(
        live_stack, browser, force):
    # axe itself needs JavaScript, and injecting it needs our Content-Security-Policy set aside
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{live_stack.api_url}/forces/{force}/apply")
    assert axe_violations(page) == []
    submit(page)
    assert page.title().startswith("Error: ")
    assert axe_violations(page) == []
    group = "Derbyshire Independent Advisory Group" if force == "derbyshire" else "Bristol IAG"
    fill_application(page, group=group, email=f"axe.{force}@example.org",
                     postcode="DE5 3RS" if force == "derbyshire" else "BS1 4DJ")
    submit(page)
    assert page.get_by_role("heading", name="Application received").is_visible()
    assert axe_violations(page) == []
    context.close()


def test_markup_typed_into_the_form_is_shown_as_text_on_every_page_and_in_the_email(live_stack, browser):
    context = browser.new_context()  # JavaScript on, so an injected script would run if it got through
    page = context.new_page()
    page.goto(f"{live_stack.api_url}/forces/derbyshire/apply")
    fill_application(page, group="Derbyshire Independent Advisory Group", email="not an email",
                     postcode="DE5 3RS", given_name=ATTACK)
    page.get_by_label("Why do you want to join").fill(ATTACK)
    submit(page)  # the bad email brings the answers back on the error page
    assert page.title().startswith("Error: ")
    assert page.get_by_label("First name").input_value() == ATTACK
    assert page.get_by_label("Why do you want to join").input_value() == ATTACK
    assert page.locator("#injected").count() == 0 and page.evaluate("window.pwned") is None
    page.get_by_label("Email address").fill("attacker@example.org")
    page.get_by_label("I have read the privacy notice").check()
    submit(page)
    assert page.get_by_role("heading", name="Application received").is_visible()
    assert page.locator("#injected").count() == 0 and page.evaluate("window.pwned") is None
    reference = reference_on(page)
    [email] = [m for m in live_stack.emails() if reference in m["subject"]]
    assert "<script>" not in email["body"] and '<b id="injected">' not in email["body"]
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in email["body"]
    context.close()


def test_a_person_asks_for_the_application_pack_in_large_print_and_the_force_contact_is_emailed(live_stack, page):
    page.goto(f"{live_stack.api_url}/forces/greater-manchester/apply")
    page.get_by_role("link", name="ask for it in the format you need").click()
    page.get_by_label("Large print").check()
    page.get_by_label("Your name").fill("Pat Jones")
    page.get_by_label("Postal address").fill("1 Example Street, Manchester M1 1AE")
    page.get_by_role("button", name="Send request").click()
    assert page.get_by_role("heading", name="Request sent").is_visible()
    request_id = re.search(r"PACK-[0-9A-F]{8}", page.content()).group(0)
    [email] = [m for m in live_stack.emails() if request_id in m["subject"]]
    assert email["destinations"]["ToAddresses"] == ["dave.willetts@gmp.police.uk"]
    assert "large print" in email["body"] and "1 Example Street" in email["body"]
