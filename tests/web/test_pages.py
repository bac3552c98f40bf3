"""The web front door through the Chalice test client: fast checks of what the browser tests cannot easily force."""
from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from chalicelib.adapters.dynamodb.applications import ApplicationItem, EqualityItem
from chalicelib.adapters.dynamodb.base import Item
from chalicelib.adapters.dynamodb.drafts import DraftEqualityItem, DraftItem
from chalicelib.settings import LOCAL_FORM_SECRET
from chalicelib.web import csrf
from chalicelib.web.forms import field_id, payload_from_form
from tests.conftest import sent_emails
from tests.factories import application_payload

FORM = "application/x-www-form-urlencoded"


ANSWERS = {
    "group": {"group": "derbyshire-iag"},
    "eligibility": {"applicant.date_of_birth-day": "27", "applicant.date_of_birth-month": "3",
                    "applicant.date_of_birth-year": "1985", "connection_to_area": "lives",
                    "applicant.postcode": "DE5 3RS", "work_postcode": ""},
    "independence": {"declarations.police_employee": "no", "declarations.police_connection": "no",
                     "declarations.judiciary_connection": "no", "declarations.civic_role": "no",
                     "declarations.connection_details": ""},
    "name": {"applicant.given_name": "Amira", "applicant.family_name": "Khan"},
    "contact": {"applicant.email": "amira.khan@example.org", "applicant.phone": "01632 960 001"},
    "motivation": {"statements.motivation": "I want policing in my town to earn the trust of young people."},
    "communities": {"statements.communities": "I run a youth football club and volunteer at a food bank."},
    "engagement": {"statements.engagement": "Through the club's parents' group and the mosque's community evenings."},
    "convictions": {"declarations.convictions_or_police_contact": ""},
    "help": {"accessibility.needs": ""},
    "equality": {"equality_monitoring.answer": "no"},
    "privacy": {"consent.privacy_notice": "yes"},
}


class Applicant:
    """One browser's worth of state for the Chalice test client: the draft cookie, and a fresh form token
    read from each page before it is sent, as a browser would."""

    def __init__(self, api, force: str = "derbyshire"):
        self.api, self.force, self.cookie = api, force, ""

    def path(self, page: str) -> str:
        return f"/forces/{self.force}/apply/{page}" if page else f"/forces/{self.force}/apply"

    def get(self, page: str):
        return self.api.http.get(self.path(page), headers={"Cookie": self.cookie} if self.cookie else {})

    def send(self, page: str, fields: dict, headers=None, token=None):
        token = token if token is not None else token_in(self.get(page).body.decode())
        response = self.api.http.post(self.path(page), body=urlencode({"_token": token, "website": "", **fields},
                                                                       doseq=True),
                                      headers={"Content-Type": FORM, **({"Cookie": self.cookie} if self.cookie else {}),
                                               **(headers or {})})
        cookies = response.headers.get("Set-Cookie", [])
        for cookie in cookies if isinstance(cookies, list) else [cookies]:  # several come as a list
            if cookie.startswith("iag_draft="):
                self.cookie = cookie.split(";")[0] if "Max-Age=0" not in cookie else ""
        return response

    def answer_all(self, answers=ANSWERS, until=None):
        page = "group"
        while page != "check" and page != until:
            response = self.send(page, answers.get(page, {}))
            assert response.status_code == 303, (page, response.body.decode()[:3000])
            page = response.headers["Location"].rsplit("/", 1)[1]
        return page


def token_from(api, path: str) -> str:
    return token_in(api.http.get(path).body.decode())


def post_form(api, fields: dict, path: str, headers=None):
    return api.http.post(path, body=urlencode(fields, doseq=True), headers={"Content-Type": FORM, **(headers or {})})


def token_in(html: str) -> str:
    return re.search(r'name="_token" value="([^"]+)"', html).group(1)


def flat_answers() -> dict:
    return {k: [v] for page in ANSWERS.values() for k, v in page.items()}


def test_the_form_and_the_api_turn_the_same_answers_into_the_same_application():
    assert payload_from_form({**flat_answers(), **{"applicant.phone": ["01632 960 001"]}}) == application_payload()


def test_an_error_pointer_links_to_the_element_a_person_must_correct():
    assert field_id("/applicant/given_name") == "applicant-given_name"
    assert field_id("/applicant/date_of_birth") == "applicant-date_of_birth-day"
    assert field_id("/consent/privacy_notice") == "consent-privacy_notice"


def test_answering_every_page_then_sending_from_the_check_page_stores_the_application(api):
    person = Applicant(api)
    assert person.answer_all() == "check"
    check = person.get("check").body.decode()
    assert "Check your answers before sending your application" in check and "Amira" in check
    response = person.send("check", {})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert re.fullmatch(r"/forces/derbyshire/applications/DBY-2026-[0-9A-Z]{8}/confirmation", location)
    assert "Application received" in api.http.get(location).body.decode()


def test_the_draft_is_deleted_when_the_application_is_sent(api):
    person = Applicant(api)
    person.answer_all()
    assert [i for i in Item.scan() if isinstance(i, DraftItem)]
    person.send("check", {})
    assert [i for i in Item.scan() if isinstance(i, (DraftItem, DraftEqualityItem))] == []
    assert person.cookie == ""  # the browser forgets it too


def test_the_group_page_offers_only_groups_open_to_applicants(api):
    html = Applicant(api, "avon-and-somerset").get("group").body.decode()
    offered = re.findall(r'name="group" type="radio" value="([^"]+)"', html)
    assert "strategic" not in offered and {"bristol", "counter-terrorism"} <= set(offered)


def test_every_equality_question_has_its_own_page_with_prefer_not_to_say(api):
    person = Applicant(api)
    person.answer_all(until="equality")
    assert "people who review applications never see them" in person.get("equality").body.decode()
    response = person.send("equality", {"equality_monitoring.answer": "yes"})
    asked = []
    while (page := response.headers["Location"].rsplit("/", 1)[1]).startswith("equality-"):
        html = person.get(page).body.decode()
        [question] = set(re.findall(r'name="equality_monitoring\.([a-z_]+)"', html))
        assert f'name="equality_monitoring.{question}" type="radio" value="prefer_not_to_say"' in html
        asked.append(question)
        response = person.send(page, {})  # every one may be skipped
        assert response.status_code == 303
    assert len(asked) == 9 and page == "privacy"  # the nine protected characteristics of the Equality Act 2010


def test_equality_answers_are_kept_apart_in_the_draft_and_in_the_application(api):
    person = Applicant(api)
    person.answer_all({**ANSWERS, "equality": {"equality_monitoring.answer": "yes"},
                       "equality-religion": {"equality_monitoring.religion": "prefer_not_to_say"}})
    [draft] = [i for i in Item.scan() if isinstance(i, DraftItem)]
    [kept] = [i for i in Item.scan() if isinstance(i, DraftEqualityItem)]
    assert "equality_monitoring" not in draft.answers and "prefer_not_to_say" in kept.answers
    assert "#EQUALITY#" in kept.pk
    person.send("check", {})
    [application] = [i for i in Item.scan() if isinstance(i, ApplicationItem)]
    assert "religion" not in repr(application.attribute_values)
    [stored] = [i for i in Item.scan() if isinstance(i, EqualityItem)]
    assert stored.answers.as_dict() == {"religion": "prefer_not_to_say"}


def test_a_post_from_another_site_is_refused_and_stores_nothing(api):
    response = Applicant(api).send("group", ANSWERS["group"], headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert list(Item.scan()) == []


def test_a_forged_or_missing_token_is_refused_on_a_question_page_and_on_the_check_page(api):
    person = Applicant(api)
    forged = csrf.issue(b"not our secret", "apply:derbyshire")
    assert person.send("group", ANSWERS["group"], token=forged).status_code == 403
    assert person.send("group", ANSWERS["group"], token="").status_code == 403
    assert list(Item.scan()) == []
    person.answer_all()
    assert person.send("check", {}, token=forged).status_code == 403
    assert [i for i in Item.scan() if isinstance(i, ApplicationItem)] == []


def test_a_token_for_another_force_form_is_refused(api):
    other = token_in(Applicant(api, "thames-valley").get("group").body.decode())
    assert Applicant(api).send("group", ANSWERS["group"], token=other).status_code == 403


def test_an_expired_page_comes_back_with_its_answers_kept_and_a_fresh_token(api):
    person = Applicant(api)
    person.answer_all(until="name")
    old = csrf.issue(LOCAL_FORM_SECRET.encode(), "apply:derbyshire", now=time.time() - 5 * 3600)
    response = person.send("name", ANSWERS["name"], token=old)
    html = response.body.decode()
    assert response.status_code == 422
    assert "This page had expired" in html and 'value="Amira"' in html
    assert person.send("name", ANSWERS["name"], token=token_in(html)).status_code == 303


def test_the_spam_trap_refuses_a_filled_hidden_field_and_stores_nothing(api):
    response = Applicant(api).send("group", {**ANSWERS["group"], "website": "http://spam.example"})
    assert response.status_code == 400
    assert list(Item.scan()) == []


def test_a_draft_cookie_that_was_tampered_with_finds_nothing(api):
    person = Applicant(api)
    person.send("group", ANSWERS["group"])
    draft_id, mac = person.cookie.split("=", 1)[1].split(".")
    person.cookie = f"iag_draft={draft_id}.{'0' * len(mac)}"
    assert person.get("eligibility").headers["Location"] == "/forces/derbyshire/apply/group"


def test_a_person_cannot_skip_ahead_past_an_unanswered_question(api):
    person = Applicant(api)
    person.send("group", ANSWERS["group"])
    assert person.get("motivation").headers["Location"] == "/forces/derbyshire/apply/eligibility"
    assert person.get("check").headers["Location"] == "/forces/derbyshire/apply/eligibility"


def test_applying_twice_is_answered_like_a_first_application_so_the_page_never_tells_who_has_applied(api):
    first = Applicant(api)
    first.answer_all()
    sent = first.send("check", {})
    again = Applicant(api)
    again.answer_all()
    repeated = again.send("check", {})
    assert (repeated.status_code, sorted(repeated.headers)) == (sent.status_code, sorted(sent.headers))
    assert repeated.headers["Location"].endswith("/confirmation") and repeated.headers["Location"] != sent.headers[
        "Location"]


def test_a_mistake_is_shown_on_its_own_page_and_nothing_moves_on(api):
    person = Applicant(api)
    person.send("group", ANSWERS["group"])
    response = person.send("eligibility", {**ANSWERS["eligibility"], "applicant.date_of_birth-year": "19",
                                           "applicant.postcode": "nowhere"})
    html = response.body.decode()
    assert response.status_code == 422 and "<title>Error: " in html
    assert re.findall(r'<li><a href="#([^"]+)">', html) == ["applicant-date_of_birth-day", "applicant-postcode"]
    assert "Enter your date of birth as a real date, for example 27 3 1985" in html
    assert 'value="nowhere"' in html  # kept


def test_pages_forbid_framing_and_inline_scripts_and_are_not_cached(api):
    headers = api.http.get("/forces/derbyshire/apply/group").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"


def test_the_styles_are_served_with_a_versioned_address_and_long_caching(api):
    html = api.http.get("/forces/derbyshire/apply").body.decode()
    href = re.search(r'href="(/static/[0-9a-f]{12}/govuk-frontend.css)"', html).group(1)
    response = api.http.get(href)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/css")
    assert "immutable" in response.headers["Cache-Control"]
    assert api.http.get("/static/abc/app.py").status_code == 404  # only the listed files are served


@pytest.mark.parametrize("path", ["/forces/atlantis/apply", "/forces/derbyshire/applications/NOPE/confirmation"])
def test_a_wrong_address_is_a_helpful_404_page(api, path):
    response = api.http.get(path)
    assert response.status_code == 404 and "text/html" in response.headers["Content-Type"]


def test_a_pack_request_for_a_format_the_force_does_not_offer_is_an_error(api):
    token = token_from(api, "/forces/derbyshire/application-pack")
    response = post_form(api, {"_token": token, "format": "braille", "name": "Pat", "email": "pat@example.org"},
                         path="/forces/derbyshire/application-pack")
    assert response.status_code == 422
    assert "does not offer the pack in braille" in response.body.decode()


def test_a_pack_request_needs_a_way_to_reach_the_person(api):
    token = token_from(api, "/forces/derbyshire/application-pack")
    response = post_form(api, {"_token": token, "format": "audio", "name": "Pat"},
                         path="/forces/derbyshire/application-pack")
    assert response.status_code == 422
    assert 'href="#email">Give an email address, a phone number or a postal address' in response.body.decode()


def test_the_email_to_the_force_repeats_nothing_a_stranger_typed_but_a_name_and_takes_no_reply_to_from_them(api):
    from chalicelib import bootstrap

    real, messages = bootstrap.container().mailer, []

    class Recording:
        def send(self, message):
            messages.append(message)
            return real.send(message)

    bootstrap.override(mailer=Recording())
    token = token_from(api, "/forces/derbyshire/application-pack")
    lure = "Urgent: confirm your account at https://evil.example/login"
    post_form(api, {"_token": token, "format": "audio", "name": "<script>alert(1)</script>", "email": "pat@evil.example",
                    "details": lure, "postal_address": lure}, path="/forces/derbyshire/application-pack")
    [email] = sent_emails()
    assert "evil.example" not in email.body and "script" not in email.body and "Urgent" not in email.body
    assert "/admin/pages/forces/derbyshire/pack-requests/PACK-" in email.body
    [message] = messages
    assert message.reply_to is None


def test_a_name_that_looks_like_a_name_is_kept_in_the_email_to_the_force(api):
    token = token_from(api, "/forces/derbyshire/application-pack")
    post_form(api, {"_token": token, "format": "audio", "name": "Siân O'Connor", "email": "sian@example.org"},
              path="/forces/derbyshire/application-pack")
    [email] = sent_emails()
    assert "Siân O&#39;Connor" in email.body or "Siân O'Connor" in email.body


@pytest.mark.parametrize("force_id, titles", [
    ("derbyshire", ["IAG Job Description"]),
    ("northamptonshire", ["IAG roles and responsibilities"]),
    ("greater-manchester", ["IAG information and application pack"]),
    ("avon-and-somerset", ["IAG application form", "Equality monitoring form"]),
])
def test_the_start_page_offers_each_pack_document_the_seed_names_and_each_is_served(api, force_id, titles):
    html = api.http.get(f"/forces/{force_id}/apply").body.decode()
    links = re.findall(rf'href="(/forces/{force_id}/application-pack/documents/[^"]+)">([^<]+)<', html)
    assert [title for _, title in links] == titles
    assert f'href="/forces/{force_id}/application-pack?format=standard"' in html
    for href, _ in links:
        document = api.http.get(href)
        assert document.status_code == 200 and document.headers["Content-Type"].startswith("text/html")
        assert "TEMPLATE" in document.body.decode()  # the seed names it without its text: marked for the force


def test_only_a_document_the_profile_lists_is_served(api):
    for name in ("terms-of-reference.html", "..%2F..%2Fforces%2Fderbyshire.json", "iag-application-pack.html"):
        assert api.http.get(f"/forces/derbyshire/application-pack/documents/{name}").status_code == 404


def test_greater_manchesters_standard_pack_is_emailed_on_request_not_only_accessible_formats(api):
    form = api.http.get("/forces/greater-manchester/application-pack?format=standard").body.decode()
    assert re.search(r'value="standard"\s+checked', form)
    token = token_in(form)
    response = post_form(api, {"_token": token, "format": "standard", "name": "Pat", "email": "pat@example.org"},
                         path="/forces/greater-manchester/application-pack")
    assert response.status_code == 303 and response.headers["Location"].endswith("?sent=standard")
    assert "We have emailed the application pack" in api.http.get(response.headers["Location"]).body.decode()
    [email] = sent_emails()  # with attachments, so a raw message
    assert set(email.destinations) == {"pat@example.org"}  # moto lists the header and the envelope
    assert 'filename="iag-application-pack.html"' in email.raw_data


def resume_link_in(email) -> str:
    return re.search(r'href="http[^"]*(/forces/[^"]+/apply/resume/[^"]+)"', email.body).group(1)


def test_a_saved_draft_comes_back_once_through_the_emailed_link_in_another_browser(api):
    person = Applicant(api)
    person.answer_all(until="name")
    page = person.get("save?from=name").body.decode()
    assert 'value="amira' not in page  # no email given yet: nothing to fill in
    response = person.send("save", {"email": "amira.later@example.org", "_from": "name"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/saved?from=name")
    [email] = sent_emails()
    assert email.destinations["ToAddresses"] == ["amira.later@example.org"]
    link = resume_link_in(email)
    other = Applicant(api)  # another browser: no cookie
    assert "Continue your application" in api.http.get(link).body.decode()
    assert api.http.get(link).status_code == 200  # a GET spends nothing (mail scanners fetch links)
    token = token_in(api.http.get(link).body.decode())
    response = api.http.post(link, body=urlencode({"_token": token, "website": ""}), headers={"Content-Type": FORM})
    assert response.status_code == 303 and response.headers["Location"] == "/forces/derbyshire/apply/name"
    other.cookie = response.headers["Set-Cookie"].split(";")[0]
    assert "Amira" not in other.get("name").body.decode() and other.get("name").status_code == 200
    assert other.answer_all() == "check"
    assert other.send("check", {}).status_code == 303
    again = api.http.post(link, body=urlencode({"_token": token, "website": ""}), headers={"Content-Type": FORM})
    assert again.status_code == 410 and "This link cannot be used" in again.body.decode()


def test_the_save_form_sent_twice_emails_one_link_and_its_record_goes_with_the_draft(api, clock):
    person = Applicant(api)
    person.send("group", ANSWERS["group"])
    token = token_in(person.get("save").body.decode())
    for _ in range(2):  # a double click
        response = person.send("save", {"email": "amira.later@example.org"}, token=token)
        assert response.status_code == 303 and response.headers["Location"].endswith("/saved?from=group")
    [email] = sent_emails()
    resume_link_in(email)
    [record] = [i for i in Item.scan() if i.sk.startswith("EMAIL#resume#")]
    assert record.status == "sent" and record.expires_at == clock.moment + timedelta(days=28)
    assert "amira" not in str(record.attribute_values)


def test_a_resume_link_post_needs_the_form_token_and_our_origin(api):
    person = Applicant(api)
    person.send("group", ANSWERS["group"])
    person.send("save", {"email": "amira.later@example.org"})
    link = resume_link_in(sent_emails()[0])
    token = token_in(api.http.get(link).body.decode())
    assert api.http.post(link, body=urlencode({"_token": "", "website": ""}),
                         headers={"Content-Type": FORM}).status_code == 403
    assert api.http.post(link, body=urlencode({"_token": token, "website": ""}),
                         headers={"Content-Type": FORM, "Origin": "https://evil.example"}).status_code == 403
    assert api.http.post(link, body=urlencode({"_token": token, "website": ""}),
                         headers={"Content-Type": FORM}).status_code == 303  # still unspent until then


def test_a_draft_and_its_link_expire_28_days_after_the_last_save(api, clock):
    person = Applicant(api)
    person.send("group", ANSWERS["group"])
    person.send("save", {"email": "amira.later@example.org"})
    link = resume_link_in(sent_emails()[0])
    [draft] = [i for i in Item.scan() if isinstance(i, DraftItem)]
    assert draft.expires_at == clock.moment + timedelta(days=28)  # DynamoDB's TTL removes it
    clock.moment += timedelta(days=28, seconds=1)
    assert api.http.get(link).status_code == 410
    assert person.get("eligibility").headers["Location"] == "/forces/derbyshire/apply/group"  # gone for the cookie too


def test_a_person_who_cannot_join_learns_every_reason_on_the_first_eligibility_page(api):
    person = Applicant(api)
    person.send("group", ANSWERS["group"])
    response = person.send("eligibility", {**ANSWERS["eligibility"], "applicant.date_of_birth-year": "2012",
                                           "applicant.postcode": "M1 1AE"})
    assert response.headers["Location"] == "/forces/derbyshire/apply/cannot-join"
    html = person.get("cannot-join").body.decode()
    assert "You cannot join the Derbyshire Independent Advisory Group" in html
    assert "You must be 18 or over" in html and "the postcode you gave is outside the area" in html
    assert "Nothing has been sent" in html
    assert person.get("check").headers["Location"].endswith("/cannot-join")
    assert person.get("name").headers["Location"].endswith("/cannot-join")  # no way round it but changing answers
    assert person.get("eligibility").status_code == 200
    assert [i for i in Item.scan() if isinstance(i, ApplicationItem)] == []


def test_group_descriptions_never_put_a_placeholder_inside_a_sentence(api):
    html = Applicant(api, "thames-valley").get("group").body.decode()
    assert "Set by" not in html
    assert "At least 4 times a year. The force will confirm where meetings are held." in html
    derbyshire = Applicant(api).get("group").body.decode()
    assert "at Force Headquarters, Ripley" in derbyshire  # the seed names it (Force HQ Ripley)
    avon = Applicant(api, "avon-and-somerset").get("group").body.decode()
    assert "at Police premises or Microsoft Teams" in avon  # so does this one


def thames_valley_answers(connection: str) -> dict:
    return {**ANSWERS, "group": {"group": "reading"},
            "eligibility": {**ANSWERS["eligibility"], "connection_to_area": connection, "applicant.postcode":
                            "M1 1AE" if connection == "works" else "RG1 1AA", "work_postcode": "RG1 2LU"}}


@pytest.mark.parametrize("connection, told", [("lives", True), ("both", True), ("works", False)])
def test_only_people_who_live_in_thames_valley_are_told_to_show_where_they_live(api, connection, told):
    person = Applicant(api, "thames-valley")
    assert person.answer_all(thames_valley_answers(connection)) == "check"
    assert ("show where you live" in person.get("check").body.decode()) is told
    assert "show where you live" not in Applicant(api, "thames-valley").get("").body.decode()


def test_a_change_from_the_check_page_returns_to_the_check_page(api):
    person = Applicant(api)
    person.answer_all()
    check = person.get("check").body.decode()
    assert 'href="/forces/derbyshire/apply/name?return=check#applicant-given_name"' in check
    page = person.get("name?return=check").body.decode()
    assert 'href="/forces/derbyshire/apply/check" class="govuk-back-link"' in page
    response = person.send("name", {**ANSWERS["name"], "applicant.given_name": "Amina", "_return": "check"})
    assert response.headers["Location"] == "/forces/derbyshire/apply/check"
    assert "Amina" in person.get("check").body.decode()


@pytest.mark.parametrize("force_id", ["derbyshire", "thames-valley", "northamptonshire", "greater-manchester",
                                      "avon-and-somerset"])
def test_no_group_page_puts_a_venue_the_profile_marks_as_assumed_into_a_sentence(api, force_id):
    from chalicelib import bootstrap
    from chalicelib.web.apply_flow import is_assumed

    force = bootstrap.container().forces.get(force_id)
    html = Applicant(api, force_id).get("group").body.decode()
    for g, group in enumerate(force.groups):
        for m, meeting in enumerate(group.meetings):
            if group.accepts_applicants and is_assumed(force, f"/groups/{g}/meetings/{m}/venue"):
                assert f"at {meeting.venue}" not in html
    assert "Set by" not in html


def test_changing_to_a_group_with_requirements_from_the_check_page_asks_them_then_returns(api):
    person = Applicant(api, "avon-and-somerset")
    person.answer_all({**ANSWERS, "group": {"group": "bristol"},
                       "eligibility": {**ANSWERS["eligibility"], "applicant.postcode": "BS1 4DJ"}})
    response = person.send("group", {"group": "counter-terrorism", "_return": "check"})
    assert response.headers["Location"] == "/forces/avon-and-somerset/apply/requirements?return=check"
    response = person.send("requirements?return=check", {
        "group_requirements_met": ["ct-screening-consent", "ct-community-insight"], "_return": "check"})
    assert response.headers["Location"] == "/forces/avon-and-somerset/apply/check"


def test_ineligibility_reasons_show_only_to_the_browser_that_submitted_never_to_a_reference_alone(api):
    from chalicelib.web.receipts import receipt_cookie
    from tests.factories import post_json

    answer = post_json(api, "/forces/derbyshire/applications", application_payload(applicant={"postcode": "M1 1AE"}))
    reference = answer.json_body["reference"]
    location = f"/forces/derbyshire/applications/{reference}/confirmation"
    stranger = api.http.get(location).body.decode()
    assert "We cannot take your application forward" in stranger and "This is because" not in stranger
    assert "emailed the reasons" in stranger
    receipt = receipt_cookie(LOCAL_FORM_SECRET.encode(), "derbyshire", reference, secure=False).split(";")[0]
    submitter = api.http.get(location, headers={"Cookie": receipt}).body.decode()
    assert "This is because" in submitter and "Derbyshire" in submitter.split("This is because")[1]
    other = receipt_cookie(LOCAL_FORM_SECRET.encode(), "derbyshire", "DBY-2026-AAAAAAAA", secure=False).split(";")[0]
    assert "This is because" not in api.http.get(location, headers={"Cookie": other}).body.decode()


def test_sending_from_the_check_page_hands_the_browser_a_receipt_for_its_own_application(api):
    person = Applicant(api)
    person.answer_all()
    response = person.send("check", {})
    assert response.status_code == 303
    cookies = response.headers["Set-Cookie"]
    cookies = cookies if isinstance(cookies, list) else [cookies]
    [receipt] = [c for c in cookies if c.startswith("iag_receipt=")]
    assert {"HttpOnly", "SameSite=Strict"} <= {part.strip() for part in receipt.split(";")}
    assert f"Path={response.headers['Location'].rsplit('/', 1)[0]}" in receipt
