"""The applicant's form, one question (or one tight set) per page, on the GOV.UK Design System's patterns:
a start page, question pages with back links, an early and kind "you cannot join", check your answers
with Change links, and save and come back later by an emailed link.

State is kept server-side in a draft (DynamoDB, 28 days) found through a signed cookie, not in signed
hidden fields: a back link or the browser's Back button is a plain GET that must show the answers again,
and save-and-come-back needs the draft stored anyway. Every POST still carries the signed form token and
passes the origin check; the cookie is HttpOnly and SameSite=Lax.
"""
from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING
from urllib.parse import quote

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.adapters.schema_validation import load_schema
from chalicelib.api.problems import client_address
from chalicelib.domain.rate_limits import RateLimited
from chalicelib.domain.validation import FieldError
from chalicelib.web import apply_flow as flow
from chalicelib.web import csrf
from chalicelib.web.forms import DATE_FIELD, errors_by_field, field_id
from chalicelib.web.responses import (
    SECURITY_HEADERS, force_or_page, message as message_page, page as page_response, read_form, today_in_uk,
    too_many_page,
)
from chalicelib.web.receipts import receipt_cookie

if TYPE_CHECKING:
    from chalicelib.domain.forces import ForceProfile
    from chalicelib.services.drafts import Draft, LinkRefused

log = logging.getLogger(__name__)
apply_pages = Blueprint(__name__)

COOKIE = "iag_draft"
CHECK = "check"
FORM = ["application/x-www-form-urlencoded"]
SPECIAL = {CHECK, "save", "saved", "cannot-join"}


def _base(force: ForceProfile) -> str:
    return f"/forces/{force.id}/apply"


def _redirect(location: str, cookie: str | list[str] | None = None) -> Response:
    headers: dict[str, str | list[str]] = {"Location": location, **SECURITY_HEADERS}
    if cookie is not None:
        headers["Set-Cookie"] = cookie
    return Response(body="", status_code=303, headers=headers)


def _cookie_header(force: ForceProfile, value: str, clear: bool = False) -> str:
    secure = "; Secure" if bootstrap.container().settings.public_base_url.startswith("https://") else ""
    expiry = "; Max-Age=0" if clear else ""  # otherwise a session cookie: gone when the browser closes
    return f"{COOKIE}={value}; Path={_base(force)}; HttpOnly; SameSite=Lax{secure}{expiry}"


def _draft(force: ForceProfile) -> Draft | None:
    from http.cookies import CookieError, SimpleCookie  # imported by the pages that read cookies, not at the cold start

    cookies = SimpleCookie()
    try:
        cookies.load(apply_pages.current_request.headers.get("cookie", ""))
    except CookieError:  # a malformed cookie header is the same as none
        return None
    morsel = cookies.get(COOKIE)
    drafts = bootstrap.container().drafts
    return drafts.load(force.id, drafts.draft_id_from(morsel.value if morsel else None))


def _token(force: ForceProfile) -> str:
    return csrf.issue(bootstrap.container().settings.form_secret, f"apply:{force.id}")


def _wording(errors: list[FieldError]) -> list[FieldError]:
    messages = flow.catalogue()["errors"]
    return [FieldError(e.pointer, messages.get(e.pointer, e.message)) for e in errors]


# The start page ---------------------------------------------------------------------------------------------

@apply_pages.route("/forces/{force_id}/apply", methods=["GET"])
def start(force_id):
    force, missing = force_or_page(force_id)
    if missing:
        return missing
    draft = _draft(force)
    return page_response("web/apply/start.html", force=force, who_can_apply=flow.who_can_apply(force),
                         started=bool(draft and draft.done), base=_base(force))


# Question pages, check your answers, and the special pages on the same address pattern ----------------------

@apply_pages.route("/forces/{force_id}/apply/{page}", methods=["GET"])
def show(force_id, page):
    force, missing = force_or_page(force_id)
    if missing:
        return missing
    draft = _draft(force)
    answers = draft.answers if draft else {}
    done = list(draft.done) if draft else []
    if page == CHECK:
        return _check_page(force, draft)
    if page == "cannot-join":
        return _cannot_join(force, draft)
    if page in ("save", "saved"):
        if draft is None:
            return _redirect(_base(force))
        came_from = _came_from(force, answers, (apply_pages.current_request.query_params or {}).get("from"))
        return _save_page(force, draft, came_from, {}, {}) if page == "save" else page_response(
            "web/apply/saved.html", force=force, base=_base(force), came_from=came_from, expires=draft.expires_at)
    question_page = flow.page_named(force, answers, page)
    if question_page is None:
        return message_page(404, "Page not found", "Check the address, or start your application again.",
                            force=force, link={"href": _base(force), "text": "Start your application"})
    if draft is None and page != "group":
        return _redirect(f"{_base(force)}/group")
    if draft and not question_page.eligibility and page != "group" \
            and flow.reasons_so_far(force, answers, done, today_in_uk()):
        return _redirect(f"{_base(force)}/cannot-join")  # only the answers that decided it can be changed
    if page != "group":
        unanswered = flow.first_unanswered(force, answers, done)
        order = [p.slug for p in flow.pages_for(force, answers)]
        if unanswered and order.index(unanswered.slug) < order.index(page):
            return _redirect(f"{_base(force)}/{unanswered.slug}")  # no skipping ahead past a question
    returning = apply_pages.current_request.query_params or {}
    return _question_page(force, question_page, answers, {}, draft, back_to_check=returning.get("return") == CHECK)


@apply_pages.route("/forces/{force_id}/apply/{page}", methods=["POST"], content_types=FORM)
def send(force_id, page):
    force, missing = force_or_page(force_id)
    if missing:
        return missing
    form, refused = read_form(apply_pages.current_request, force, f"apply:{force.id}")
    if refused:
        return refused
    draft = _draft(force)
    if page == CHECK:
        return _submit(force, draft, form)
    if page == "save":
        return _send_save_link(force, draft, form)
    answers = dict(draft.answers) if draft else {}
    question_page = flow.page_named(force, answers, page)
    if question_page is None or (draft is None and page != "group"):
        return _redirect(_base(force))
    back_to_check = (form.get("_return") or [""])[0] == CHECK
    posted = _posted_answers(question_page, form)
    if form.get("_token_problem"):
        return _question_page(force, question_page, {**answers, **posted}, {"main-content": (
            "This page had expired. Your answers are kept: check them and continue.")}, draft, back_to_check, 422)
    if page == "group" and answers.get("group") not in (None, posted.get("group")):
        answers.pop("group_requirements_met", None)  # another group's requirements do not carry over
        done = [d for d in (draft.done if draft else ()) if d != "requirements"]
    else:
        done = list(draft.done) if draft else []
    answers = {k: v for k, v in answers.items() if k not in _names_of(question_page)}
    answers.update(posted)
    today = today_in_uk()
    errors = _wording(flow.page_errors(question_page, answers, today))
    if errors:
        return _question_page(force, question_page, answers, errors_by_field(errors), draft, back_to_check, 422)
    drafts = bootstrap.container().drafts
    draft_id = draft.draft_id if draft else drafts.new_draft_id()
    if page not in done:
        done.append(page)
    saved = drafts.save(force.id, draft_id, answers, tuple(done))
    cookie = None if draft else _cookie_header(force, drafts.cookie_value(draft_id))
    if question_page.eligibility and flow.reasons_so_far(force, saved.answers, list(saved.done), today):
        return _redirect(f"{_base(force)}/cannot-join", cookie)
    unanswered = flow.first_unanswered(force, saved.answers, list(saved.done))
    if back_to_check or unanswered is None:
        # a changed answer may open a new question (another group's requirements): ask it, then go back
        target = f"{unanswered.slug}?return={CHECK}" if unanswered else CHECK
    else:
        following = flow.next_page(force, saved.answers, page)
        target = following.slug if following else CHECK
    return _redirect(f"{_base(force)}/{target}", cookie)


def _names_of(page: flow.Page) -> set[str]:
    names = set(page.fields)
    if DATE_FIELD in names:
        names |= {f"{DATE_FIELD}-{part}" for part in ("day", "month", "year")}
    return names


def _posted_answers(page: flow.Page, form: dict) -> dict:
    answers: dict = {}
    for name in page.fields:
        if name == DATE_FIELD:
            for part in ("day", "month", "year"):
                answers[f"{name}-{part}"] = (form.get(f"{name}-{part}") or [""])[0].strip()
        elif name == "group_requirements_met":
            answers[name] = sorted({v for v in form.get(name, []) if v})
        else:
            value = (form.get(name) or [""])[0]
            if value.strip():
                answers[name] = value.strip() if "\n" not in value else value.strip().replace("\r\n", "\n")
    return answers


def _question_page(force: ForceProfile, page: flow.Page, answers: dict, errors: dict, draft: Draft | None,
                   back_to_check: bool = False, status: int = 200) -> Response:
    today = today_in_uk()
    previous = flow.previous_page(force, answers, page.slug)
    back = f"{_base(force)}/{CHECK}" if back_to_check else (
        f"{_base(force)}/{previous.slug}" if previous else _base(force))
    questions = flow.questions(force, page, answers, today)
    common: list[str] = []
    if page.slug == "group":
        common, questions = flow.common_group_words(force, questions)
    group = force.group(answers.get("group", ""))
    return page_response(
        "web/apply/question.html", status=status, force=force, page=page, questions=questions, values=answers,
        errors=errors, token=_token(force), back=back, base=_base(force), back_to_check=back_to_check,
        can_save=draft is not None, common=common, group=group,
        privacy_url=f"/forces/{force.id}/privacy")


# Ineligible: said early, kindly, with every reason -----------------------------------------------------------

def _cannot_join(force: ForceProfile, draft: Draft | None) -> Response:
    if draft is None:
        return _redirect(_base(force))
    reasons = flow.reasons_so_far(force, draft.answers, list(draft.done), today_in_uk())
    if not reasons:
        unanswered = flow.first_unanswered(force, draft.answers, list(draft.done))
        return _redirect(f"{_base(force)}/{unanswered.slug if unanswered else CHECK}")
    group = force.group(draft.answers.get("group", ""))
    others = [g for g in force.groups if (group is None or g.id != group.id) and force.openness(g, today_in_uk()).open]
    return page_response("web/apply/cannot_join.html", force=force, group=group, reasons=reasons,
                         base=_base(force), others=others, contact=force.contacts["recruitment"])


# Check your answers, then send ---------------------------------------------------------------------------------

def _check_page(force: ForceProfile, draft: Draft | None, errors: dict | None = None, status: int = 200):
    if draft is None:
        return _redirect(_base(force))
    answers, done = draft.answers, list(draft.done)
    if flow.reasons_so_far(force, answers, done, today_in_uk()):
        return _redirect(f"{_base(force)}/cannot-join")
    unanswered = flow.first_unanswered(force, answers, done)
    if unanswered:
        return _redirect(f"{_base(force)}/{unanswered.slug}")
    rows = flow.answer_rows(force, answers, today_in_uk())

    return page_response("web/apply/check.html", status=status, force=force, rows=rows,
                         errors=errors or {}, token=_token(force), base=_base(force), check_url=CHECK,
                         proof=flow.proof_needed(force, answers), group=force.group(answers.get("group", "")))


def _submit(force: ForceProfile, draft: Draft | None, form: dict) -> Response:
    from chalicelib.services.intake import GroupClosed, InvalidApplication, UnknownGroup

    if draft is None:
        return message_page(410, "Your answers are no longer here",
                            "Saved answers are kept for 28 days, or until the application is sent.",
                            force=force, link={"href": _base(force), "text": "Start your application"})
    if form.get("_token_problem"):
        return _check_page(force, draft, {"main-content": "This page had expired. Check your answers and send "
                                                          "your application again."}, 422)
    answers = draft.answers
    try:
        submission = bootstrap.container().intake.submit(force.id, flow.payload(answers),
                                                         client_address=client_address(apply_pages.current_request))
    except InvalidApplication as invalid:
        return _check_page(force, draft, _errors_linking_to_pages(force, answers, _wording(invalid.errors)), 422)
    except (UnknownGroup, GroupClosed) as problem:
        message = str(problem) if isinstance(problem, GroupClosed) else "Choose one of the groups listed"
        return _check_page(force, draft, _errors_linking_to_pages(force, answers, [FieldError("/group", message)]), 422)
    except RateLimited as limited:
        return too_many_page(force, limited)
    bootstrap.container().drafts.discard(force.id, draft.draft_id)
    settings = bootstrap.container().settings
    receipt = receipt_cookie(settings.form_secret, force.id, submission.reference,
                             secure=settings.public_base_url.startswith("https://"))
    return _redirect(f"/forces/{force.id}/applications/{submission.reference}/confirmation",
                     [_cookie_header(force, "", clear=True), receipt])


def _errors_linking_to_pages(force: ForceProfile, answers: dict, errors: list[FieldError]) -> dict:
    """Error summary entries on the check page, keyed by the address of the question to correct."""
    linked = {}
    for error in errors:
        page = flow.page_of_field(force, answers, error.pointer)
        target = f"{_base(force)}/{page.slug}?return={CHECK}#{field_id(error.pointer)}" if page else "#main-content"
        linked[target] = error.message
    return linked


# Save and come back later --------------------------------------------------------------------------------------

def _came_from(force: ForceProfile, answers: dict, slug: str | None) -> str:
    """The page a person left to save: where Back and "carry on" take them (only a page of this form)."""
    return slug if slug and (slug == CHECK or flow.page_named(force, answers, slug)) else "group"


def _save_page(force: ForceProfile, draft: Draft, came_from: str, values: dict, errors: dict,
               status: int = 200) -> Response:
    return page_response("web/apply/save.html", status=status, force=force, draft=draft, errors=errors,
                         came_from=came_from,
                         values=values or {"email": draft.answers.get("applicant.email", "")},
                         token=_token(force), base=_base(force), expires=draft.expires_at)


def _send_save_link(force: ForceProfile, draft: Draft | None, form: dict) -> Response:
    if draft is None:
        return _redirect(_base(force))
    email = (form.get("email") or [""])[0].strip()
    came_from = _came_from(force, draft.answers, (form.get("_from") or [""])[0])
    if form.get("_token_problem"):
        return _save_page(force, draft, came_from, {"email": email},
                          {"main-content": "This page had expired. Send it again."}, 422)
    pattern = load_schema("application")["properties"]["applicant"]["properties"]["email"]
    if not re.match(pattern["pattern"], email) or len(email) > pattern["maxLength"]:
        return _save_page(force, draft, came_from, {"email": email}, {"email": pattern["x-message"]}, 422)
    try:
        # Keyed by the form's one-time token: the same form sent twice (a double click, a reload) emails once.
        bootstrap.container().drafts.send_link(force, draft, email, request=(form.get("_token") or [""])[0])
    except Exception:  # whatever the transport's failure, the person's next step is the same; the draft is kept
        log.exception("could not send a resume link for a draft of %s", force.id)
        return _save_page(force, draft, came_from, {"email": email}, {"email": (
            "We could not send the email just now. Your answers are saved: try again in a few minutes")}, 503)
    return _redirect(f"{_base(force)}/saved?from={came_from}")


@apply_pages.route("/forces/{force_id}/apply/resume/{token}", methods=["GET"])
def resume_page(force_id, token):
    """A GET never spends the link (mail scanners fetch links): it shows a button that does."""
    force, missing = force_or_page(force_id)
    if missing:
        return missing
    from chalicelib.services.drafts import LinkRefused

    try:
        bootstrap.container().drafts.check_link(force.id, token)
    except LinkRefused as refused:
        return _link_problem(force, refused)
    return page_response("web/apply/resume.html", force=force, token=_token(force),
                         action=f"{_base(force)}/resume/{quote(token, safe='')}")


@apply_pages.route("/forces/{force_id}/apply/resume/{token}", methods=["POST"], content_types=FORM)
def resume(force_id, token):
    force, missing = force_or_page(force_id)
    if missing:
        return missing
    form, refused = read_form(apply_pages.current_request, force, f"apply:{force.id}")
    if refused:
        return refused
    if form.get("_token_problem"):
        return resume_page(force_id, token)  # the page again, with a fresh token; nothing spent
    from chalicelib.services.drafts import LinkRefused

    drafts = bootstrap.container().drafts
    try:
        draft = drafts.resume(force.id, token)
    except LinkRefused as refused_link:
        return _link_problem(force, refused_link)
    unanswered = flow.first_unanswered(force, draft.answers, list(draft.done))
    return _redirect(f"{_base(force)}/{unanswered.slug if unanswered else CHECK}",
                     _cookie_header(force, drafts.cookie_value(draft.draft_id)))


def _link_problem(force: ForceProfile, refused: LinkRefused) -> Response:
    return message_page(410 if refused.problem.value != "unknown" else 404,
                        "This link cannot be used",
                        "A link to come back to your application works once, and only until your saved answers "
                        "expire, 28 days after you last saved them. If you have already sent your application, "
                        "check your email for its reference.",
                        "You can ask for a new link from the application form, or start again.",
                        force=force, link={"href": _base(force), "text": "Go to the application form"})
