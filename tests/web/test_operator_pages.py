"""The operators' pages: signing in with the pool, the cookie that carries the token, and who sees what."""
from __future__ import annotations

import re
from urllib.parse import urlencode


def _form(api, path, fields, origin=None):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if origin:
        headers["Origin"] = origin
    return api.http.post(path, body=urlencode(fields), headers=headers)


def _token(api) -> str:
    return re.search(r'name="_token" value="([^"]+)"', api.http.get("/admin/sign-in").body.decode())[1]


def signed_in(api, username, password="Operator-Pass-1"):
    return _form(api, "/admin/sign-in", {"_token": _token(api), "username": username, "password": password})


def test_pages_send_a_stranger_to_sign_in(operator_pool, api):
    answer = api.http.get("/admin/pages")
    assert (answer.status_code, answer.headers["Location"]) == (303, "/admin/sign-in")
    forged = api.http.get("/admin/pages", headers={"Cookie": "iag_operator=eyJhbGciOiJub25lIn0.e30."})
    assert forged.status_code == 303


def test_a_force_administrator_signs_in_and_sees_their_force_only(operator_pool, api):
    operator_pool.token("ann", "force_admin", "derbyshire")
    answer = signed_in(api, "ann")
    assert (answer.status_code, answer.headers["Location"]) == (303, "/admin/pages")
    cookie = answer.headers["Set-Cookie"]
    assert {"HttpOnly", "SameSite=Strict", "Path=/admin"} <= {part.strip() for part in cookie.split(";")}
    page = api.http.get("/admin/pages", headers={"Cookie": cookie.split(";")[0]})
    assert page.status_code == 200
    html = page.body.decode()
    assert "Derbyshire" in html and "Northamptonshire" not in html
    assert page.headers["Cache-Control"] == "no-store"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(operator_pool, api):
    operator_pool.token("ann", "force_admin", "derbyshire")
    for username, password in (("ann", "wrong-Pass-1"), ("nobody", "Operator-Pass-1")):
        answer = signed_in(api, username, password)
        assert answer.status_code == 401 and "Set-Cookie" not in answer.headers
        assert "The username, password or code is not right." in answer.body.decode()


def test_sign_in_from_another_site_or_without_the_pages_token_is_refused(operator_pool, api):
    operator_pool.token("ann", "force_admin", "derbyshire")
    fields = {"_token": _token(api), "username": "ann", "password": "Operator-Pass-1"}
    assert _form(api, "/admin/sign-in", fields, origin="https://evil.example").status_code == 403
    assert _form(api, "/admin/sign-in", {**fields, "_token": "1.2.3"}).status_code == 403


def test_signing_out_clears_the_cookie(operator_pool, api):
    answer = _form(api, "/admin/sign-out", {})
    assert answer.status_code == 303 and "Max-Age=0" in answer.headers["Set-Cookie"]


def test_signing_out_ends_the_sign_in_everywhere_so_a_copied_token_is_refused(operator_pool, api):
    import time

    operator_pool.token("sol", "force_admin", "derbyshire")
    cookie = _cookie(api, "sol")
    copied = "Bearer " + cookie["Cookie"].split("=", 1)[1]  # the same token, used from elsewhere
    assert api.http.get("/admin/me", headers={"Authorization": copied}).status_code == 200
    headers = {"Content-Type": "application/x-www-form-urlencoded", **cookie}
    assert api.http.post("/admin/sign-out", body="", headers=headers).status_code == 303
    assert api.http.get("/admin/pages", headers=cookie).status_code == 303  # back to sign in
    assert api.http.get("/admin/me", headers={"Authorization": copied}).status_code == 401
    time.sleep(1.1)  # issue times are whole seconds: a sign-in in the second of the sign-out would count as ended
    assert api.http.get("/admin/pages", headers=_cookie(api, "sol")).status_code == 200  # a new sign-in works


def _cookie(api, username) -> dict:
    return {"Cookie": signed_in(api, username).headers["Set-Cookie"].split(";")[0]}


def test_a_force_administrator_reads_the_recruitment_and_equality_pages_as_charts(operator_pool, api):
    from tests.factories import application_payload, post_json

    post_json(api, "/forces/derbyshire/applications", application_payload())
    operator_pool.token("ann", "force_admin", "derbyshire")
    cookie = _cookie(api, "ann")
    answer = api.http.get("/admin/pages/forces/derbyshire/recruitment", headers=cookie)
    assert answer.status_code == 200 and "<svg" in answer.body.decode() and "Amira" not in answer.body.decode()
    # Today's application is in a period still open: the page says the rule and shows no figure of it.
    answer = api.http.get("/admin/pages/forces/derbyshire/equality", headers=cookie)
    assert answer.status_code == 200 and 'id="publication-rule"' in answer.body.decode()
    assert 'id="withheld"' in answer.body.decode() and "Amira" not in answer.body.decode()
    assert api.http.get("/admin/pages/forces/derbyshire/equality?period=2999-Q1", headers=cookie).status_code == 404
    assert api.http.get("/admin/pages/forces/northamptonshire/equality", headers=cookie).status_code == 403
    assert api.http.get("/admin/pages/forces/derbyshire/equality?group=nope", headers=cookie).status_code == 404


def test_a_coordinator_is_not_shown_the_force_wide_pages(operator_pool, api):
    operator_pool.token("cole", "coordinator", "derbyshire", "derbyshire-iag")
    cookie = _cookie(api, "cole")
    assert "reports/recruitment?group=" in api.http.get("/admin/pages", headers=cookie).body.decode()
    assert api.http.get("/admin/pages/forces/derbyshire/recruitment", headers=cookie).status_code == 403


def test_a_first_sign_in_sets_a_password_then_an_authenticator_app_as_the_deployed_pool_asks(
        operator_pool, api, monkeypatch):
    """moto's pools ask for neither step, so Cognito's answers are stubbed here, in the order AWS gives them."""
    import boto3
    from botocore.stub import Stubber

    from chalicelib.adapters.cognito_sign_in import CognitoSignIn
    from chalicelib.web import operator_pages

    id_token = operator_pool.token("newbie", "auditor", "derbyshire")
    S1, S2, S3, S4 = (f"session-{n}-" + "x" * 20 for n in range(1, 5))  # Cognito's sessions are long
    client = boto3.client("cognito-idp", region_name="eu-west-2")
    stub = Stubber(client)
    stub.add_response("initiate_auth", {"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": S1})
    stub.add_response("respond_to_auth_challenge", {"ChallengeName": "MFA_SETUP", "Session": S2},
                      {"ClientId": operator_pool.client_id, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": S1,
                       "ChallengeResponses": {"USERNAME": "newbie", "NEW_PASSWORD": "A-much-longer-pass-1"}})
    stub.add_response("associate_software_token", {"SecretCode": "JBSWY3DPEHPK3PXP", "Session": S3},
                      {"Session": S2})
    stub.add_response("verify_software_token", {"Status": "SUCCESS", "Session": S4},
                      {"Session": S3, "UserCode": "123456", "FriendlyDeviceName": "IAG Back Office"})
    stub.add_response("respond_to_auth_challenge", {"AuthenticationResult": {"IdToken": id_token}},
                      {"ClientId": operator_pool.client_id, "ChallengeName": "MFA_SETUP", "Session": S4,
                       "ChallengeResponses": {"USERNAME": "newbie"}})
    signer = CognitoSignIn(operator_pool.client_id, "eu-west-2")
    signer.__dict__["_cognito"] = client  # the cached client, stubbed
    monkeypatch.setattr(operator_pages, "_signer", lambda: signer)
    with stub:
        first = signed_in(api, "newbie", "Temporary-1")
        assert "Choose a new password" in first.body.decode()
        second = _form(api, "/admin/sign-in", {"_token": _token(api), "username": "newbie",
                                               "challenge": "NEW_PASSWORD_REQUIRED", "session": S1,
                                               "answer": "A-much-longer-pass-1"})
        assert "JBSWY3DPEHPK3PXP" in second.body.decode()
        done = _form(api, "/admin/sign-in", {"_token": _token(api), "username": "newbie", "challenge": "MFA_SETUP",
                                             "session": S3, "answer": "123456"})
        assert (done.status_code, done.headers["Location"]) == (303, "/admin/pages")
        stub.assert_no_pending_responses()


def test_the_force_reads_a_pack_request_on_its_page_and_the_read_is_logged(operator_pool, api):
    from chalicelib import bootstrap
    from tests.web.test_pages import post_form, token_from

    token = token_from(api, "/forces/derbyshire/application-pack")
    sent = post_form(api, {"_token": token, "format": "audio", "name": "Pat", "email": "pat@example.org",
                           "details": "Please post it, I have no internet at home"},
                     path="/forces/derbyshire/application-pack")
    request_id = sent.headers["Location"].rsplit("/", 1)[1]
    operator_pool.token("ann", "force_admin", "derbyshire")
    page = api.http.get(f"/admin/pages/forces/derbyshire/pack-requests/{request_id}", headers=_cookie(api, "ann"))
    assert page.status_code == 200 and "I have no internet at home" in page.body.decode()
    assert [r for r in bootstrap.container().access_log.reads_of("derbyshire", request_id) if r["action"] == "view"]
    operator_pool.token("nora", "force_admin", "northamptonshire")
    other = api.http.get(f"/admin/pages/forces/derbyshire/pack-requests/{request_id}", headers=_cookie(api, "nora"))
    assert other.status_code == 403 and "internet" not in other.body.decode()
    assert api.http.get("/admin/pages/forces/derbyshire/pack-requests/PACK-00000000",
                        headers=_cookie(api, "ann")).status_code == 404
