"""The web front door through the Chalice test client: fast checks of what the browser tests cannot easily force."""
from __future__ import annotations

import re
import time
from urllib.parse import urlencode

import pytest

from chalicelib.adapters.dynamodb import ApplicationItem, Item
from chalicelib.settings import LOCAL_FORM_SECRET
from chalicelib.web import csrf
from chalicelib.web.forms import field_id, payload_from_form
from tests.conftest import sent_emails
from tests.factories import application_payload

FORM = "application/x-www-form-urlencoded"


def form_fields(**changes) -> dict:
    fields = {
        "group": "derbyshire-iag", "applicant.given_name": "Amira", "applicant.family_name": "Khan",
        "applicant.email": "amira.khan@example.org", "applicant.phone": "01632 960 001",
        "applicant.date_of_birth-day": "27", "applicant.date_of_birth-month": "3",
        "applicant.date_of_birth-year": "1985", "applicant.postcode": "DE5 3RS", "connection_to_area": "lives",
        "work_postcode": "",
        "statements.motivation": "I want policing in my town to earn the trust of young people.",
        "statements.communities": "I run a youth football club and volunteer at a food bank.",
        "statements.engagement": "Through the club's parents' group and the mosque's community evenings.",
        "declarations.police_employee": "no", "declarations.police_connection": "no",
        "declarations.judiciary_connection": "no", "declarations.civic_role": "no",
        "declarations.connection_details": "", "declarations.convictions_or_police_contact": "",
        "consent.privacy_notice": "yes", "website": "",
    }
    fields.update(changes)
    return fields


def token_from(api, path="/forces/derbyshire/apply") -> str:
    return re.search(r'name="_token" value="([^"]+)"', api.http.get(path).body.decode()).group(1)


def post_form(api, fields: dict, path="/forces/derbyshire/apply", headers=None):
    return api.http.post(path, body=urlencode(fields, doseq=True), headers={"Content-Type": FORM, **(headers or {})})


def test_the_form_and_the_api_turn_the_same_answers_into_the_same_application():
    assert payload_from_form({k: [v] for k, v in form_fields().items()}) == application_payload()


def test_an_error_pointer_links_to_the_element_a_person_must_correct():
    assert field_id("/applicant/given_name") == "applicant-given_name"
    assert field_id("/applicant/date_of_birth") == "applicant-date_of_birth-day"
    assert field_id("/consent/privacy_notice") == "consent-privacy_notice"


def test_a_posted_form_is_stored_and_redirects_to_the_confirmation(api):
    response = post_form(api, form_fields(_token=token_from(api)))
    assert response.status_code == 303
    location = response.headers["Location"]
    assert re.fullmatch(r"/forces/derbyshire/applications/DBY-2026-[0-9A-Z]{8}/confirmation", location)
    page = api.http.get(location)
    assert page.status_code == 200 and "Application received" in page.body.decode()


def test_the_form_offers_only_groups_open_to_applicants(api):
    html = api.http.get("/forces/avon-and-somerset/apply").body.decode()
    offered = re.findall(r'name="group" type="radio" value="([^"]+)"', html)
    assert "strategic" not in offered and {"bristol", "counter-terrorism"} <= set(offered)


def test_every_equality_question_offers_prefer_not_to_say_and_says_reviewers_never_see_it(api):
    html = api.http.get("/forces/derbyshire/apply").body.decode()
    questions = set(re.findall(r'name="equality_monitoring\.([a-z_]+)"', html))
    assert len(questions) == 7
    for question in questions:
        assert f'name="equality_monitoring.{question}" type="radio" value="prefer_not_to_say"' in html
    assert "people who review applications never see them" in html


def test_equality_answers_from_the_form_are_stored_apart(api):
    post_form(api, form_fields(_token=token_from(api), **{"equality_monitoring.religion": "prefer_not_to_say"}))
    [application] = [i for i in Item.scan() if isinstance(i, ApplicationItem)]
    assert "religion" not in repr(application.attribute_values)


def test_a_post_from_another_site_is_refused_and_stores_nothing(api):
    response = post_form(api, form_fields(_token=token_from(api)), headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert list(Item.scan()) == []


def test_a_forged_token_is_refused(api):
    forged = csrf.issue(b"not our secret", "apply:derbyshire")
    assert post_form(api, form_fields(_token=forged)).status_code == 403
    assert post_form(api, form_fields(_token="")).status_code == 403
    assert list(Item.scan()) == []


def test_a_token_for_another_force_form_is_refused(api):
    other = token_from(api, "/forces/thames-valley/apply")
    assert post_form(api, form_fields(_token=other)).status_code == 403


def test_an_expired_form_comes_back_with_every_answer_kept_and_a_fresh_token(api):
    old = csrf.issue(LOCAL_FORM_SECRET.encode(), "apply:derbyshire", now=time.time() - 5 * 3600)
    response = post_form(api, form_fields(_token=old))
    html = response.body.decode()
    assert response.status_code == 422
    assert "This form had expired" in html and 'value="Amira"' in html
    fresh = re.search(r'name="_token" value="([^"]+)"', html).group(1)
    assert post_form(api, form_fields(_token=fresh)).status_code == 303


def test_the_spam_trap_refuses_a_filled_hidden_field_and_stores_nothing(api):
    response = post_form(api, form_fields(_token=token_from(api), website="http://spam.example"))
    assert response.status_code == 400
    assert list(Item.scan()) == []


def test_applying_twice_through_the_form_explains_it_on_the_email_field(api):
    post_form(api, form_fields(_token=token_from(api)))
    response = post_form(api, form_fields(_token=token_from(api)))
    assert response.status_code == 422
    assert '<a href="#applicant-email">You have already applied to this group' in response.body.decode()


def test_pages_forbid_framing_and_inline_scripts_and_are_not_cached(api):
    headers = api.http.get("/forces/derbyshire/apply").headers
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


def test_ineligibility_reasons_show_only_to_the_browser_that_submitted_never_to_a_reference_alone(api):
    posted = post_form(api, form_fields(_token=token_from(api), **{"applicant.postcode": "M1 1AA"}))
    location, receipt = posted.headers["Location"], posted.headers["Set-Cookie"].split(";")[0]
    assert "HttpOnly" in posted.headers["Set-Cookie"] and "SameSite=Strict" in posted.headers["Set-Cookie"]
    reason = "Derbyshire"  # the area rule names the force's area
    submitter = api.http.get(location, headers={"Cookie": receipt}).body.decode()
    assert "We cannot take your application forward" in submitter and "This is because" in submitter
    assert reason in submitter.split("This is because")[1]
    stranger = api.http.get(location).body.decode()
    assert "We cannot take your application forward" in stranger and "This is because" not in stranger
    assert "emailed the reasons" in stranger
    other = post_form(api, form_fields(_token=token_from(api), **{"applicant.email": "someone.else@example.org",
                                                                  "applicant.postcode": "M1 1AA"}))
    borrowed = api.http.get(other.headers["Location"], headers={"Cookie": receipt}).body.decode()
    assert "This is because" not in borrowed  # a receipt opens its own application only
