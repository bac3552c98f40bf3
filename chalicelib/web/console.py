"""The coordinators' console: one frame for every /admin/console page and one way to take a change from a form.

A page module registers its routes with the two decorators below, and app.py imports it (before the blueprint is
registered: the routes are added at import):

    @console_page("/admin/console/{force_id}/meetings", section="meetings")
    def meetings(you: SignedIn, force_id): ...            # GET: return you.page("operators/x.html", force=..., ...)

    @console_action("/admin/console/{force_id}/meetings/{uid_key}/cancel", section="meetings")
    def cancel(you: SignedIn, form: dict, force_id, uid_key):
        if not confirmed(form):                           # destructive: a separate page confirms it first
            return you.confirm(force, action=<this path>, section="meetings", heading=..., consequences=[...],
                               button="Cancel the meeting")
        bootstrap.container().meetings.cancel(...)        # the SAME service call the admin API makes
        return you.done(f"/admin/console/{force_id}/meetings", "meeting-cancelled")

Every POST is checked before the handler runs: a signed-in operator (the pages' cookie), a form no larger than
MAX_FORM_BYTES, our own Origin, and a form token bound to this sign-in (a token from another sign-in, or none,
is refused 403). A change ends with `you.done(location, notice)` (303): that, and only that, is written to the
access log with who made it (`console:<handler name>`), so no handler can forget to. Roles, forces and groups
are asked by the services the handler calls; their refusals become pages by exception type (refusals()): a
refused operator learns nothing of the target.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional
from urllib.parse import parse_qs, quote

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.adapters.templates import render
from chalicelib.domain.operators import Operator, OperatorRefused, Permission
from chalicelib.services.refusals import AdminConflict, InvalidRequest, NotFound, Unauthenticated
from chalicelib.web import csrf
from chalicelib.web.operator_pages import FRAME_HELPERS, SIGN_IN, cookie_token
from chalicelib.web.responses import (
    SECURITY_HEADERS, body_bytes, foreign_origin, read_posted_upload, refusal_words, static_url)

if TYPE_CHECKING:
    from chalicelib.domain.forces import ForceProfile

console = Blueprint(__name__)

PREFIX = "/admin/console"
MAX_FORM_BYTES = 1_100_000  # a member import's CSV (1 MB, domain/member_import.py) and its form
CONFIRMED = "confirmed"

# The console's sections: (key, label, path under /admin/console/<force>, what the role must hold somewhere in
# the force to see it). Pages of other modules name their section by key.
SECTIONS: tuple[tuple[str, str, str, Permission], ...] = (
    ("dashboard", "Dashboard", "", Permission.LIST),
    ("applications", "Applications", "/applications", Permission.LIST),
    ("people", "People", "/people", Permission.VIEW),
    ("meetings", "Meetings", "/meetings", Permission.VIEW),
    ("callouts", "Call-outs", "/callouts", Permission.VIEW),
    ("elections", "Elections", "/elections", Permission.VIEW),
    ("strategic", "Strategic IAG", "/strategic", Permission.VIEW),
    ("reports", "Reports", "/reports", Permission.REPORT),
    ("data-requests", "Data requests", "/data-requests", Permission.AUDIT),
)

# A section that only some holders of its permission may open (e.g. one group's pages): its key, and the test
# of (operator, force) that a page module adds; the navigation leaves it out for anyone it refuses.
SECTION_SHOWN: dict[str, Callable[[Operator, str], bool]] = {}

# What a page says after a change sent the browser back to it (`?done=<key>`): keys, never text from the URL.
NOTICES: dict[str, str] = {}

# Refusals as pages, by exception type: (status, heading, whether the service's own words may be shown).
# The services authorise before they look anything up, so a message they raise after that names only what the
# operator may see; a refusal is never explained (it would name the force or group asked about).
# Built on the first refusal, not at the Lambda's cold start: importing the services behind them is what costs.
@cache
def refusals() -> tuple[tuple[type[BaseException], int, str, bool], ...]:
    from chalicelib.domain.membership import MemberChangeRefused
    from chalicelib.services.callouts import CalloutClosed
    from chalicelib.services.elections import ElectionRefused
    from chalicelib.services.membership import MemberNotFound
    from chalicelib.services.ports import MemberConflict

    return (
        (OperatorRefused, 403, "Your role does not allow this", False),
        (MemberNotFound, 404, "Not found", False),
        (NotFound, 404, "Not found", False),
        (MemberConflict, 409, "Someone else changed this meanwhile", False),
        (AdminConflict, 409, "That cannot be done now", True),
        (CalloutClosed, 409, "That cannot be done now", True),
        (ElectionRefused, 409, "That cannot be done now", True),
        (InvalidRequest, 400, "That cannot be done as asked", True),
        (MemberChangeRefused, 400, "That cannot be done as asked", True),
    )


# Path parameters that name what a change was made to, as the access log's reference (the first one present).
REFERENCES = ("reference", "member_id", "uid_key", "incident_id", "election_id", "cycle_id")


class Form(dict[str, str]):
    """The posted fields (each name's first value); `every(name)` gives all of a repeated one (checkboxes)."""

    def __init__(self, lists: Mapping[str, list[str]]):
        super().__init__({name: values[0] for name, values in lists.items() if values})
        self._lists = dict(lists)

    def every(self, name: str) -> list[str]:
        return list(self._lists.get(name, []))

    def typed(self) -> dict[str, str]:
        """What the person typed, to show again beside a problem (never the form token)."""
        return {name: value.strip() for name, value in self.items() if name not in ("_token", CONFIRMED)}


class FormProblem(Exception):
    """What a person typed cannot be used: the form's page is shown again with this beside the field (400)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


# Refusals of a change as asked that a form's page shows beside its field, by exception type (status); any other
# refusal is a page of its own (refusals()).
@cache
def field_refusals() -> tuple[tuple[type[BaseException], int], ...]:
    from chalicelib.services.callouts import CalloutClosed
    from chalicelib.services.elections import ElectionRefused

    return (
        (AdminConflict, 409), (CalloutClosed, 409), (ElectionRefused, 409), (InvalidRequest, 400), (ValueError, 400),
    )


def form_answer(form: Form, change: Callable[[], Response], again: Callable[..., Response],
                field: str = "action") -> Response:
    """Make the change; when what was typed cannot be used, or the change is refused as asked, `again(status=,
    errors=, values=)` shows the form's page again with the message beside `field` and what was typed kept."""
    try:
        return change()
    except FormProblem as problem:
        return again(status=400, errors={problem.field: problem.message}, values=form.typed())
    except tuple(kind for kind, _ in field_refusals()) as error:
        status = next(s for kind, s in field_refusals() if isinstance(error, kind))
        return again(status=status, errors={field: refusal_words(error)}, values=form.typed())


@dataclass(frozen=True)
class SignedIn:
    """The operator behind this request, and the sign-in their form tokens are bound to."""

    operator: Operator
    session: str  # a digest of the sign-in's token: never the token itself

    def form_token(self) -> str:
        return csrf.issue(bootstrap.container().settings.form_secret, _purpose(self.session))

    def sections(self, force_id: str) -> list[dict[str, str]]:
        return [{"key": key, "label": label, "href": f"{PREFIX}/{force_id}{path}"}
                for key, label, path, permission in SECTIONS if self.operator.may_in_force(permission, force_id)
                and SECTION_SHOWN.get(key, lambda *_: True)(self.operator, force_id)]

    def page(self, template: str, *, section: str, force: Optional[ForceProfile] = None, status: int = 200,
             **context: Any) -> Response:
        """A page in the console's frame: navigation for this role in this force, and a fresh form token."""
        query = query_params()
        html = render(template, service_name="IAG Back Office: console", static_url=static_url(), force=None,
                      console_force=force, section=section, operator=self.operator,
                      sections=self.sections(force.id) if force else [], form_token=self.form_token(),
                      notice=NOTICES.get(query.get("done", "")), **FRAME_HELPERS, **context)
        return _html(html, status)

    def message(self, status: int, heading: str, *paragraphs: str, force: Optional[ForceProfile] = None,
                section: str = "dashboard") -> Response:
        return self.page("operators/console_message.html", section=section, force=force, status=status,
                         heading=heading, paragraphs=list(paragraphs))

    def confirm(self, force: ForceProfile, *, action: str, section: str, heading: str, consequences: list[str],
                button: str, fields: Optional[dict[str, str]] = None, back: str = "", warning: str = "",
                ask: Optional[dict[str, str]] = None, error: str = "") -> Response:
        """The separate page a destructive action shows first: what will happen, and one button that posts the
        form again to `action` with `confirmed=yes` (and the fields it was given). `ask` adds one text answer
        (name, label, value), e.g. the reason a member is told; `error` says what was wrong with it (status 400)."""
        kept = {k: v for k, v in (fields or {}).items() if not ask or k != ask["name"]}
        return self.page("operators/console_confirm.html", section=section, force=force, heading=heading,
                         consequences=consequences, button=button, warning=warning, action=action, ask=ask,
                         error=error, status=400 if error else 200, fields={**kept, CONFIRMED: "yes"},
                         back=back or f"{PREFIX}/{force.id}")

    def done(self, location: str, notice: str = "") -> Response:
        """Back to a page after a change (post, redirect, get): a reload never sends the change twice."""
        if notice:
            location += ("&" if "?" in location else "?") + f"done={quote(notice)}"
        return Response(body="", status_code=303, headers={"Location": location, "Cache-Control": "no-store"})

    def record(self, force_id: str, action: str, *, reference: Optional[str] = None,
               group_id: Optional[str] = None) -> None:
        container = bootstrap.container()
        container.access_log.record(self.operator, force_id, action, container.clock.now(), reference=reference,
                                    group_id=group_id)


def query_params() -> Mapping[str, str]:
    """This request's query string (Chalice gives None when there is none)."""
    return console.current_request.query_params or {}


def confirmed(form: Mapping[str, str]) -> bool:
    return form.get(CONFIRMED) == "yes"


def signed_in() -> Optional[SignedIn]:
    token = cookie_token(console.current_request)
    if token is None:
        return None
    try:
        operator = bootstrap.container().operators().operator(token)
    except (Unauthenticated, OperatorRefused):
        return None
    return SignedIn(operator, hashlib.sha256(token.encode()).hexdigest()[:32])


def force_of(force_id: str) -> ForceProfile:
    """The force a page is about; NotFound (a 404 page) when there is none."""
    force = bootstrap.container().forces.get(force_id)
    if force is None:
        raise NotFound(f"there is no force '{force_id}'")
    return force


def console_page(path: str, *, section: str):
    """A GET page for a signed-in operator: `handler(you, *path_params)`; strangers are sent to sign in."""
    def register(handler: Callable) -> Callable:
        def route(*args, **kwargs):
            you = signed_in()
            if you is None:
                return _to_sign_in()
            return _refusals_as_pages(you, section, kwargs.get("force_id"), lambda: handler(you, *args, **kwargs))
        route.__name__, route.__module__ = handler.__name__, handler.__module__  # the page module's own
        return console.route(path, methods=["GET"])(route)
    return register


def console_action(path: str, *, section: str):
    """A POST for a signed-in operator: `handler(you, form, *path_params)`, run only after the sign-in, size,
    origin and form-token checks; a change that succeeds is recorded in the access log with who made it."""
    def register(handler: Callable) -> Callable:
        def route(*args, **kwargs):
            you = signed_in()
            if you is None:
                return _to_sign_in()
            form, refused = _checked_form(you)
            if refused is not None:
                return refused
            answer = _refusals_as_pages(you, section, kwargs.get("force_id"),
                                        lambda: handler(you, form, *args, **kwargs))
            if answer.status_code == 303 and kwargs.get("force_id"):  # a change ends with you.done()
                you.record(kwargs["force_id"], f"console:{handler.__name__}",
                           reference=next((kwargs[k] for k in REFERENCES if kwargs.get(k)), None),
                           group_id=kwargs.get("group_id"))
            return answer
        route.__name__, route.__module__ = handler.__name__, handler.__module__  # the page module's own
        return console.route(path, methods=["POST"], content_types=[
            "application/x-www-form-urlencoded", "multipart/form-data"])(route)
    return register


def _checked_form(you: SignedIn) -> tuple[Form, Optional[Response]]:
    """The posted fields; an uploaded file (multipart) is read as text into the field of its input's name."""
    request = console.current_request
    raw = body_bytes(request)
    nothing = Form({})
    if len(raw) > MAX_FORM_BYTES:
        return nothing, you.message(413, "That was too long", "Send less at once (a file of up to 1 MB).")
    if foreign_origin(request):
        return nothing, you.message(403, "Send this from the console's own page")
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        fields, files, refused = read_posted_upload(request)
        if refused is not None:
            return nothing, refused
        form = Form({**{name: [value] for name, value in fields.items()},
                     **{name: [upload.data.decode("utf-8-sig", errors="replace")] for name, upload in files.items()}})
    else:
        form = Form(parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
    if csrf.check(bootstrap.container().settings.form_secret, _purpose(you.session), form.get("_token", "")):
        return nothing, you.message(403, "The page had expired", "Nothing was changed. Open the page again and repeat.")
    return form, None


def _refusals_as_pages(you: SignedIn, section: str, force_id: Optional[str], call: Callable[[], Response]) -> Response:
    try:
        return call()
    except tuple(kind for kind, *_ in refusals()) as error:
        status, heading, say = next((s, h, say) for kind, s, h, say in refusals() if isinstance(error, kind))
        # The frame shows the operator's own force only: a refused request must not name the one asked about.
        own = bootstrap.container().forces.get(force_id) if force_id and you.operator.may_in_force(
            Permission.LIST, force_id) else None
        paragraphs = [str(error)] if say else (
            ["Nothing was changed."] if console.current_request.method == "POST" else [])
        return you.message(status, heading, *paragraphs, force=own, section=section)


def _purpose(session: str) -> str:
    return f"console|{session}"


def _to_sign_in() -> Response:
    return Response(body="", status_code=303, headers={"Location": SIGN_IN, "Cache-Control": "no-store"})


def _html(html: str, status: int = 200) -> Response:
    return Response(body=html, status_code=status,
                    headers={"Content-Type": "text/html; charset=utf-8", **SECURITY_HEADERS})
