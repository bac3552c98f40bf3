"""The operators' pages: sign in with the pool, then read-only pages (recruitment, equality monitoring).

A browser cannot send the admin API's Authorization header from a link, so after sign-in the ID token is kept in
an HttpOnly, SameSite=Strict cookie scoped to /admin. These pages only read: every change goes through the admin
API or the CLI with the token in a header. API Gateway's Cognito authorizer reads headers only, so these routes
have none; the token is verified here in every stage, exactly as for the API.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable, Optional
from urllib.parse import parse_qs

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.adapters.templates import render
from chalicelib.domain.operators import Operator, OperatorRefused
from chalicelib.domain.role_titles import SCOPE_TITLES, operator_title, role_title
from chalicelib.services.refusals import Unauthenticated
from chalicelib.web import csrf
from chalicelib.web.responses import SECURITY_HEADERS, body_bytes, foreign_origin, static_url

if TYPE_CHECKING:
    from chalicelib.adapters.cognito_sign_in import CognitoSignIn

operator_pages = Blueprint(__name__)

COOKIE = "iag_operator"
MAX_FORM_BYTES = 8 * 1024
SIGN_IN = "/admin/sign-in"
HOME = "/admin/pages"


# What every page in the console's frame (operators/console.html) may call, here and in web/console.py: one list,
# so a page rendered by either has them (the frame once named a helper only the console passed, and the sign-in
# landing page failed).
FRAME_HELPERS = {"role_words": role_title, "scope_words": SCOPE_TITLES, "operator_title": operator_title}


def _page(template: str, status: int = 200, headers: Optional[dict] = None, **context) -> Response:
    # The console's frame without a force's navigation: these pages come before one.
    html = render(template, service_name="IAG Back Office: operators", static_url=static_url(), force=None,
                  console_force=None, sections=[], section="", form_token=None, notice=None, **FRAME_HELPERS,
                  **context)
    return Response(body=html, status_code=status,
                    headers={"Content-Type": "text/html; charset=utf-8", **SECURITY_HEADERS, **(headers or {})})


def _redirect(location: str, cookie: Optional[str] = None) -> Response:
    headers: dict[str, str | list[str]] = {"Location": location, "Cache-Control": "no-store"}
    if cookie is not None:
        headers["Set-Cookie"] = cookie
    return Response(body="", status_code=303, headers=headers)


def _cookie(value: str, max_age: int) -> str:
    secure = "" if bootstrap.container().settings.public_base_url.startswith("http://") else "; Secure"
    return f"{COOKIE}={value}; Path=/admin; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"


def _cookie_token() -> Optional[str]:
    return cookie_token(operator_pages.current_request)


def cookie_token(request) -> Optional[str]:
    """The sign-in's token from the pages' cookie (the console reads it the same way)."""
    from http.cookies import SimpleCookie  # imported by the pages that read cookies, not at the cold start

    cookies = SimpleCookie()
    try:
        cookies.load(request.headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 (a malformed Cookie header is simply no sign-in)
        return None
    return cookies[COOKIE].value if COOKIE in cookies and cookies[COOKIE].value else None


def signed_in_operator() -> Optional[Operator]:
    token = _cookie_token()
    if token is None:
        return None
    try:
        return bootstrap.container().operators().operator(token)
    except (Unauthenticated, OperatorRefused):
        return None


def operator_page(path: str):
    """A read-only page for a signed-in operator; others are sent to sign in, a refused role gets 403."""
    def register(handler: Callable) -> Callable:
        def route(*args, **kwargs):
            operator = signed_in_operator()
            if operator is None:
                return _redirect(SIGN_IN)
            try:
                return handler(operator, *args, **kwargs)
            except OperatorRefused as error:
                return _page("operators/message.html", 403, heading="Your role does not allow this",
                             paragraphs=[str(error)], operator=operator)
        route.__name__ = handler.__name__
        return operator_pages.route(path, methods=["GET"])(route)
    return register


def _form() -> tuple[dict, Optional[Response]]:
    request = operator_pages.current_request
    raw = body_bytes(request)
    if len(raw) > MAX_FORM_BYTES:
        return {}, _page("operators/message.html", 413, heading="That was too long", paragraphs=[], operator=None)
    if foreign_origin(request):  # the public pages' origin rule
        return {}, _page("operators/message.html", 403, heading="Sign in from this service's own page",
                         paragraphs=[], operator=None)
    form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True).items()}
    if csrf.check(bootstrap.container().settings.form_secret, "operator-sign-in", form.get("_token", "")):
        return {}, _sign_in_page(error="The page had expired. Sign in again.", status=403)
    return form, None


def _sign_in_page(error: str = "", status: int = 200, step: Optional[dict] = None) -> Response:
    token = csrf.issue(bootstrap.container().settings.form_secret, "operator-sign-in")
    return _page("operators/sign_in.html", status, token=token, error=error, step=step, operator=None)


def _signer() -> CognitoSignIn:
    from chalicelib.adapters.cognito_sign_in import CognitoSignIn  # on signing in only: not at the cold start

    settings = bootstrap.container().settings
    return CognitoSignIn(settings.operator_client_id or "", settings.region, settings.aws_endpoint)


@operator_pages.route(SIGN_IN, methods=["GET"])
def sign_in_form():
    return _sign_in_page()


@operator_pages.route(SIGN_IN, methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def sign_in():
    from chalicelib.adapters.cognito_sign_in import CognitoSignIn, SignInRefused

    form, refused = _form()
    if refused:
        return refused
    username = form.get("username", "").strip()
    try:
        if form.get("challenge"):
            step = _signer().answer(form["challenge"], username, form.get("session", ""), form.get("answer", ""))
        else:
            step = _signer().sign_in(username, form.get("password", ""))
    except SignInRefused as error:
        return _sign_in_page(error=str(error), status=401)
    if step.challenge == "MFA_SETUP":
        try:
            step = _signer().start_mfa_setup(step.session)
        except Exception:  # noqa: BLE001 (botocore errors: the session expired or the pool refused)
            return _sign_in_page(error="Setting up your authenticator app did not start. Sign in again.", status=401)
    if step.challenge:
        if step.challenge not in (*CognitoSignIn.ANSWERED, "MFA_SETUP"):
            return _sign_in_page(error="This account needs a sign-in step these pages do not offer: ask your "
                                       "force administrator.", status=401)
        return _sign_in_page(step={"challenge": step.challenge, "session": step.session, "username": username,
                                   "secret": step.secret})
    try:
        claims = bootstrap.container().operators().claims(step.id_token)
        bootstrap.container().operators().operator(step.id_token)
    except (Unauthenticated, OperatorRefused) as error:
        return _sign_in_page(error=f"You cannot use these pages: {error}", status=403)
    return _redirect(HOME, _cookie(step.id_token, max(0, int(claims["exp"] - time.time()))))


@operator_pages.route("/admin/sign-out", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def sign_out():
    token = _cookie_token()
    if token:
        try:
            bootstrap.container().operators().sign_out(token)
        except (Unauthenticated, OperatorRefused):
            pass  # already ended, disabled or forged: there is nothing left to end
    return _redirect(SIGN_IN, _cookie("", 0))


@operator_page(HOME)
def home(operator: Operator):
    forces = [f for f in bootstrap.container().forces.all()
              if operator.force_id in (None, f.id)]
    return _page("operators/home.html", operator=operator, forces=forces,
                 groups={f.id: operator.groups_in(f.id, [g.id for g in f.groups]) for f in forces},
                 operator_force_name=next((f.name for f in forces if f.id == operator.force_id), operator.force_id))


# The recruitment and equality pages are the console's (web/console_pages.py), at their old addresses too.


@operator_page("/admin/pages/forces/{force_id}/pack-requests/{request_id}")
def pack_request_page(operator: Operator, force_id: str, request_id: str):
    from chalicelib.services.refusals import NotFound
    from chalicelib.services.pack_requests import FORMAT_WORDS

    force, missing = _force_page(operator, force_id)
    if missing:
        return missing
    try:
        found = bootstrap.container().admin.pack_request(operator, force_id, request_id)
    except NotFound:
        return _page("operators/message.html", 404, heading="No such request", paragraphs=[], operator=operator)
    return _page("operators/pack_request.html", operator=operator, requested_of=force, found=found,
                 format_words=FORMAT_WORDS.get(found["details"].get("format"), "another format"))


def _force_page(operator: Operator, force_id: str):
    force = bootstrap.container().forces.get(force_id)
    if force is None:
        return None, _page("operators/message.html", 404, heading="No such force", paragraphs=[], operator=operator)
    return force, None


def _html(html: str) -> Response:
    return Response(body=html, status_code=200, headers={"Content-Type": "text/html; charset=utf-8",
                                                         **SECURITY_HEADERS})
