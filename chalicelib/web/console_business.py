"""The console's pages for meetings, call-outs, elections and Strategic IAG cycles: server-rendered, no script.

Same sign-in as operator_pages.py (the pool's ID token in an HttpOnly, SameSite=Strict cookie scoped to /admin).
Every change is a POST carrying a form token bound to that sign-in (a new sign-in, or another person's, makes it
fail) from this service's own origin; destructive changes (cancel a meeting, close a call-out) are confirmed on
a page of their own. The actions are services/business_admin.py's, which ask the role and record who did what.

Small pieces here (`console_route`, `_form_token`) follow operator_pages.py and csrf.py so the console's shared
frame can take them over later.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any, Callable, Optional
from urllib.parse import parse_qs, quote
from zoneinfo import ZoneInfo

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.adapters.templates import render
from chalicelib.domain.callouts import ANSWER_WORDS
from chalicelib.domain.elections import Phase
from chalicelib.domain.operators import Operator, OperatorRefused, Permission
from chalicelib.domain.strategic import Status as CycleStatus
from chalicelib.services.admin import AdminConflict, InvalidRequest, NotFound
from chalicelib.services.callouts import CalloutClosed
from chalicelib.services.elections import ElectionRefused
from chalicelib.services.joining_mail import day_at
from chalicelib.web import csrf
from chalicelib.web.operator_pages import COOKIE, SIGN_IN, signed_in_operator
from chalicelib.web.responses import SECURITY_HEADERS, foreign_origin, static_url

console_business = Blueprint(__name__)

LONDON = ZoneInfo("Europe/London")
MAX_FORM_BYTES = 64 * 1024  # minutes can be long
FORCE = "/admin/pages/forces/{force_id}"
GROUP = FORCE + "/groups/{group_id}"
REFRESH_SECONDS = 20  # the call-out page reloads itself when asked to (a meta refresh: no script)
DONE = {  # what the page says after a change (Post/Redirect/Get)
    "planned": "The next meetings are planned and members have been sent their invitations.",
    "extraordinary": "The extraordinary meeting is planned and every member has been sent it.",
    "moved": "The meeting is moved; members have been sent the update.",
    "cancelled": "The meeting is cancelled; members have been sent the cancellation.",
    "attendance": "Attendance is recorded.",
    "minutes": "The minutes are published and sent to members.",
    "papers": "The papers have been sent to members who had not had them.",
    "raised": "The call-out is raised: members are being asked now.",
    "closed": "The call-out is closed: members' links no longer work and the police lead gets the summary.",
    "opened": "The election is open: every active member has been sent a nomination link.",
    "voting": "Voting has started: every active member has been sent a ballot.",
    "declared": "The votes are counted and the result has been sent to the group.",
    "started": "The cycle is open: the local IAGs' chairs have been asked for nominees.",
    "dated": "The date is set: nominees are seated and everyone has been sent the invitation.",
}


class FormProblem(Exception):
    """What a person typed cannot be used; the page shows it next to the field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


class Console:
    """One request to a console page: who asks, what they sent, and how to answer."""

    def __init__(self, operator: Operator, form: Optional[dict[str, list[str]]]):
        self.operator = operator
        self.form = form

    def value(self, name: str) -> str:
        return ((self.form or {}).get(name) or [""])[0].strip()

    def values(self, name: str) -> list[str]:
        return (self.form or {}).get(name) or []

    def page(self, template: str, status: int = 200, **context) -> Response:
        query = console_business.current_request.query_params or {}
        html = render(template, service_name="IAG Back Office: console", static_url=static_url(), force=None,
                      operator=self.operator, token=_form_token(), done=DONE.get(query.get("done", "")),
                      when=day_at, errors=context.pop("errors", {}), values=context.pop("values", {}), **context)
        return Response(body=html, status_code=status,
                        headers={"Content-Type": "text/html; charset=utf-8", **SECURITY_HEADERS})


def _redirect(location: str) -> Response:
    return Response(body="", status_code=303, headers={"Location": location, "Cache-Control": "no-store"})


def _message(status: int, heading: str, *paragraphs: str) -> Response:
    html = render("operators/message.html", service_name="IAG Back Office: console", static_url=static_url(),
                  force=None, heading=heading, paragraphs=list(paragraphs), operator=None)
    return Response(body=html, status_code=status,
                    headers={"Content-Type": "text/html; charset=utf-8", **SECURITY_HEADERS})


def _cookie_token() -> str:
    cookies = SimpleCookie()
    try:
        cookies.load(console_business.current_request.headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 (a malformed Cookie header is no sign-in)
        return ""
    return cookies[COOKIE].value if COOKIE in cookies else ""


def sign_in_binding(id_token: str) -> str:
    """The form token's purpose names the sign-in (its ID token): a token from another sign-in does not pass."""
    return "console|" + hashlib.sha256(id_token.encode()).hexdigest()[:32]


def _sign_in_binding() -> str:
    return sign_in_binding(_cookie_token())


def _form_token() -> str:
    return csrf.issue(bootstrap.container().settings.form_secret, _sign_in_binding())


def _posted() -> tuple[Optional[dict[str, list[str]]], Optional[Response]]:
    request = console_business.current_request
    raw = request.raw_body or b""
    if len(raw) > MAX_FORM_BYTES:
        return None, _message(413, "That was too long")
    if foreign_origin(request):
        return None, _message(403, "Use this service's own pages", "The form was sent from another site.")
    form = parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
    if csrf.check(bootstrap.container().settings.form_secret, _sign_in_binding(), (form.get("_token") or [""])[0]):
        return None, _message(403, "The page had expired", "Nothing was changed. Go back, reload the page and try "
                                                          "again.")
    return form, None


def console_route(path: str, post: bool = False):
    """A console page (GET), and when `post` its form's POST: signed in, role asked by the action, refusals as
    pages that say no more than the address already did."""
    def register(handler: Callable) -> Callable:
        def route(*args, **kwargs):
            operator = signed_in_operator()
            if operator is None:
                return _redirect(SIGN_IN)
            form = None
            if console_business.current_request.method == "POST":
                form, refused = _posted()
                if refused:
                    return refused
            try:
                return handler(Console(operator, form), *args, **kwargs)
            except OperatorRefused:
                return _message(403, "Your role does not allow this", "Nothing was changed.")
            except LookupError:  # NotFound, or a meeting, call-out or election that is not there
                return _message(404, "Page not found", "It may have been removed, or the address is wrong.")
        route.__name__ = handler.__name__
        console_business.route(path, methods=["GET"])(route)
        if post:
            console_business.route(path, methods=["POST"], content_types=["application/x-www-form-urlencoded"])(
                route)
        return route
    return register


def _refusal(error: Exception) -> str:
    return getattr(error, "message", None) or str(error)


def _attempt(console: Console, act: Callable[[], Any], again: Callable[..., Response], field: str = "action"):
    """Do the change; a refusal from a service or a form problem shows the same page again with it (400/409)."""
    try:
        return act()
    except FormProblem as problem:
        return again(status=400, errors={problem.field: problem.message}, values=_flat(console.form))
    except (AdminConflict, CalloutClosed, ElectionRefused) as error:
        return again(status=409, errors={field: _refusal(error)}, values=_flat(console.form))
    except (InvalidRequest, ValueError) as error:
        return again(status=400, errors={field: _refusal(error)}, values=_flat(console.form))


def _flat(form: Optional[dict[str, list[str]]]) -> dict[str, str]:
    return {k: v[0] for k, v in (form or {}).items() if k != "_token"}


def _when(text: str, field: str = "starts_at") -> datetime:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=LONDON)
    except ValueError:
        raise FormProblem(field, "Enter a date and time like 2027-01-18 18:30") from None


def _number(text: str, field: str, default: int) -> int:
    if not text:
        return default
    if not text.isdigit():
        raise FormProblem(field, "Enter a whole number")
    return int(text)


def _admin():
    return bootstrap.container().business_admin


def _force_and_group(force_id: str, group_id: Optional[str] = None):
    """Names for the page, once the action has already asked the role (so nothing is shown to another force)."""
    force = bootstrap.container().forces.get(force_id)
    if force is None:
        raise NotFound(force_id)
    group = force.group(group_id) if group_id else None
    if group_id and group is None:
        raise NotFound(group_id)
    return force, group


def _base(force_id: str, group_id: str = "") -> str:
    path = f"/admin/pages/forces/{quote(force_id)}"
    return f"{path}/groups/{quote(group_id)}" if group_id else path


# --- meetings ---

@console_route(GROUP + "/meetings", post=True)
def meetings_page(console: Console, force_id: str, group_id: str):
    return _meetings(console, force_id, group_id)


def _meetings(console: Console, force_id: str, group_id: str, status: int = 200, errors=None,
              values=None) -> Response:
    operator = console.operator
    if console.form is not None and status == 200:
        return _attempt(console, lambda: _meetings_change(console, force_id, group_id),
                        lambda **shown: _meetings(console, force_id, group_id, **shown))
    meetings = _admin().recent_meetings(operator, force_id, group_id)
    force, group = _force_and_group(force_id, group_id)
    now = bootstrap.container().clock.now()
    return console.page("console/meetings.html", status, force_of=force, group=group, meetings=meetings, now=now,
                        base=_base(force_id, group_id), may_change=operator.may(Permission.OPERATE, force_id, group_id),
                        errors=errors or {}, values=values or {"minutes": "120"})


def _meetings_change(console: Console, force_id: str, group_id: str) -> Response:
    base = _base(force_id, group_id)
    if console.value("action") == "plan":
        _admin().plan_meetings(console.operator, force_id, group_id)
        return _redirect(f"{base}/meetings?done=planned")
    if console.value("action") == "extraordinary":
        starts_at = _when(console.value("starts_at"))
        planned = _admin().extraordinary_meeting(
            console.operator, force_id, group_id, starts_at, _number(console.value("minutes"), "minutes", 120),
            console.value("venue"), console.value("online") == "yes", console.value("purpose"))
        return _redirect(f"{base}/meetings/{quote(planned.meeting.uid_key)}?done=extraordinary")
    raise FormProblem("action", "Choose what to do")


@console_route(GROUP + "/meetings/{uid_key}", post=True)
def meeting_page(console: Console, force_id: str, group_id: str, uid_key: str):
    return _meeting(console, force_id, group_id, uid_key)


def _meeting(console: Console, force_id: str, group_id: str, uid_key: str, status: int = 200, errors=None,
             values=None) -> Response:
    operator = console.operator
    if console.form is not None and status == 200:
        return _attempt(console, lambda: _meeting_change(console, force_id, group_id, uid_key),
                        lambda **shown: _meeting(console, force_id, group_id, uid_key, **shown))
    container = bootstrap.container()
    operator.authorise(Permission.VIEW, force_id, group_id)
    force, group = _force_and_group(force_id, group_id)
    planned = container.meeting_store.get(force_id, group_id, uid_key)
    if planned is None:
        raise NotFound(uid_key)
    container.access_log.record(operator, force_id, "view_meeting", container.clock.now(), reference=uid_key,
                                group_id=group_id)
    record = container.meeting_business.meeting_record(force_id, group_id, uid_key)
    members = sorted(container.joining_store.members(force_id, group_id), key=lambda m: m.name)
    started = planned.meeting.starts_at <= container.clock.now()
    return console.page("console/meeting.html", status, force_of=force, group=group, planned=planned, record=record,
                        members=members, started=started, base=_base(force_id, group_id),
                        may_change=operator.may(Permission.OPERATE, force_id, group_id),
                        answer_words={"attending": "Attending", "apologies": "Apologies"},
                        errors=errors or {}, values=values or {})


def _meeting_change(console: Console, force_id: str, group_id: str, uid_key: str) -> Response:
    operator, container = console.operator, bootstrap.container()
    page = f"{_base(force_id, group_id)}/meetings/{quote(uid_key)}"
    action = console.value("action")
    if action == "move":
        _admin().move_meeting(operator, force_id, group_id, uid_key, _when(console.value("starts_at")),
                              console.value("note"))
        return _redirect(f"{page}?done=moved")
    operator.authorise(Permission.OPERATE, force_id, group_id)  # the meeting's business, as the admin API asks
    by = f"operator:{operator.id}"
    if action == "attendance":
        container.meeting_business.confirm_attendance(force_id, group_id, uid_key, console.values("present"), by)
        done = "attendance"
    elif action == "minutes":
        container.meeting_business.publish_minutes(force_id, group_id, uid_key, console.value("minutes_text"), [], by)
        done = "minutes"
    elif action == "send_papers":
        container.meeting_business.send_papers(force_id, group_id, uid_key)
        done = "papers"
    else:
        raise FormProblem("action", "Choose what to do")
    container.access_log.record(operator, force_id, f"meeting_{done}", container.clock.now(), reference=uid_key,
                                group_id=group_id)
    return _redirect(f"{page}?done={done}")


@console_route(GROUP + "/meetings/{uid_key}/cancel", post=True)
def cancel_meeting_page(console: Console, force_id: str, group_id: str, uid_key: str):
    """The confirmation page: what cancelling does, then the POST that does it."""
    def ask(status: int = 200, errors=None, values=None) -> Response:
        console.operator.authorise(Permission.OPERATE, force_id, group_id)
        force, group = _force_and_group(force_id, group_id)
        planned = bootstrap.container().meeting_store.get(force_id, group_id, uid_key)
        if planned is None:
            raise NotFound(uid_key)
        return console.page("console/cancel_meeting.html", status, force_of=force, group=group, planned=planned,
                            base=_base(force_id, group_id), errors=errors or {}, values=values or {})
    if console.form is None:
        return ask()

    def cancel() -> Response:
        _admin().cancel_meeting(console.operator, force_id, group_id, uid_key, console.value("note"))
        return _redirect(f"{_base(force_id, group_id)}/meetings/{quote(uid_key)}?done=cancelled")
    return _attempt(console, cancel, ask)


# --- call-outs ---

@console_route(FORCE + "/incidents", post=True)
def incidents_page(console: Console, force_id: str):
    return _incidents(console, force_id)


def _incidents(console: Console, force_id: str, status: int = 200, errors=None, values=None) -> Response:
    operator = console.operator
    if console.form is not None and status == 200:
        return _attempt(console, lambda: _raise(console, force_id),
                        lambda **shown: _incidents(console, force_id, **shown))
    incidents = _admin().incidents(operator, force_id)
    force, _ = _force_and_group(force_id)
    callable_groups = [g for g in force.groups if g.called_for_incidents and operator.may(Permission.OPERATE, force_id,
                                                                                          g.id)]
    return console.page("console/incidents.html", status, force_of=force, incidents=incidents,
                        now=bootstrap.container().clock.now(), callable_groups=callable_groups,
                        whole_force=operator.may(Permission.OPERATE, force_id), base=_base(force_id),
                        errors=errors or {}, values=values or {"within": "120"})


def _raise(console: Console, force_id: str) -> Response:
    groups = console.values("groups")
    incident = _admin().raise_incident(
        console.operator, force_id, title=console.value("title"), summary=console.value("summary"),
        respond_within=timedelta(minutes=_number(console.value("within"), "within", 0)),
        police_lead_name=console.value("lead_name"), police_lead_email=console.value("lead_email"),
        groups=groups or None)
    return _redirect(f"{_base(force_id)}/incidents/{quote(incident.id)}?done=raised")


@console_route(FORCE + "/incidents/{incident_id}")
def incident_page(console: Console, force_id: str, incident_id: str):
    incident, responses = _admin().incident(console.operator, force_id, incident_id)
    force, _ = _force_and_group(force_id)
    now = bootstrap.container().clock.now()
    # Reloading by itself is the person's choice (WCAG 2.2.1: a timed refresh they can turn off); else a link.
    watching = (console_business.current_request.query_params or {}).get("watch") == "on"
    return console.page("console/incident.html", force_of=force, incident=incident, responses=responses,
                        counts=bootstrap.container().callouts.counts(responses), words=ANSWER_WORDS,
                        open=incident.respond_by > now,
                        refresh=REFRESH_SECONDS if incident.respond_by > now and watching else None,
                        groups={g.id: g.name for g in force.groups}, base=_base(force_id),
                        may_change=all(console.operator.may(Permission.OPERATE, force_id, g) for g in incident.groups))


@console_route(FORCE + "/incidents/{incident_id}/close", post=True)
def close_incident_page(console: Console, force_id: str, incident_id: str):
    def ask(status: int = 200, errors=None, values=None) -> Response:
        incident, responses = _admin().incident(console.operator, force_id, incident_id)
        for group_id in incident.groups:
            console.operator.authorise(Permission.OPERATE, force_id, group_id)
        force, _ = _force_and_group(force_id)
        return console.page("console/close_incident.html", status, force_of=force, incident=incident,
                            counts=bootstrap.container().callouts.counts(responses), base=_base(force_id),
                            errors=errors or {}, values=values or {})
    if console.form is None:
        return ask()

    def close() -> Response:
        _admin().close_incident(console.operator, force_id, incident_id)
        return _redirect(f"{_base(force_id)}/incidents/{quote(incident_id)}?done=closed")
    return _attempt(console, close, ask)


# --- elections ---

@console_route(GROUP + "/elections", post=True)
def elections_page(console: Console, force_id: str, group_id: str):
    return _elections(console, force_id, group_id)


def _elections(console: Console, force_id: str, group_id: str, status: int = 200, errors=None,
               values=None) -> Response:
    if console.form is not None and status == 200:
        return _attempt(console, lambda: _open_election(console, force_id, group_id),
                        lambda **shown: _elections(console, force_id, group_id, **shown), field="office")
    elections = _admin().elections(console.operator, force_id, group_id)
    force, group = _force_and_group(force_id, group_id)
    return console.page("console/elections.html", status, force_of=force, group=group, elections=elections,
                        base=_base(force_id, group_id),
                        may_change=console.operator.may(Permission.OPERATE, force_id, group_id),
                        errors=errors or {}, values=values or {"nominations_days": "14", "voting_days": "14"})


def _open_election(console: Console, force_id: str, group_id: str) -> Response:
    if console.value("office") not in ("chair", "vice_chair"):
        raise FormProblem("office", "Choose the office the election is for")
    election = _admin().open_election(
        console.operator, force_id, group_id, console.value("office"),
        _number(console.value("nominations_days"), "nominations_days", 14),
        _number(console.value("voting_days"), "voting_days", 14))
    return _redirect(f"{_base(force_id, group_id)}/elections/{quote(election.id)}?done=opened")


@console_route(GROUP + "/elections/{election_id}", post=True)
def election_page(console: Console, force_id: str, group_id: str, election_id: str):
    return _election(console, force_id, group_id, election_id)


def _election(console: Console, force_id: str, group_id: str, election_id: str, status: int = 200, errors=None,
              values=None) -> Response:
    if console.form is not None and status == 200:
        return _attempt(console, lambda: _election_change(console, force_id, group_id, election_id),
                        lambda **shown: _election(console, force_id, group_id, election_id, **shown))
    followed = _admin().election(console.operator, force_id, group_id, election_id)
    force, group = _force_and_group(force_id, group_id)
    return console.page("console/election.html", status, force_of=force, group=group, followed=followed,
                        phases=Phase, base=_base(force_id, group_id),
                        may_change=console.operator.may(Permission.OPERATE, force_id, group_id),
                        errors=errors or {}, values=values or {})


def _election_change(console: Console, force_id: str, group_id: str, election_id: str) -> Response:
    page = f"{_base(force_id, group_id)}/elections/{quote(election_id)}"
    if console.value("action") == "start_voting":
        _admin().start_voting(console.operator, force_id, group_id, election_id)
        return _redirect(f"{page}?done=voting")
    if console.value("action") == "declare":
        _admin().declare(console.operator, force_id, group_id, election_id)
        return _redirect(f"{page}?done=declared")
    raise FormProblem("action", "Choose what to do")


# --- the Strategic IAG ---

@console_route(FORCE + "/strategic", post=True)
def cycles_page(console: Console, force_id: str):
    return _cycles(console, force_id)


def _cycles(console: Console, force_id: str, status: int = 200, errors=None, values=None) -> Response:
    if console.form is not None and status == 200:
        def start() -> Response:
            cycle, _ = _admin().start_cycle(console.operator, force_id)
            return _redirect(f"{_base(force_id)}/strategic/{quote(cycle.id)}?done=started")
        return _attempt(console, start, lambda **shown: _cycles(console, force_id, **shown))
    cycles = _admin().cycles(console.operator, force_id)
    force, _ = _force_and_group(force_id)
    return console.page("console/cycles.html", status, force_of=force, cycles=cycles, base=_base(force_id),
                        errors=errors or {}, values=values or {})


@console_route(FORCE + "/strategic/{cycle_id}", post=True)
def cycle_page(console: Console, force_id: str, cycle_id: str):
    return _cycle(console, force_id, cycle_id)


def _cycle(console: Console, force_id: str, cycle_id: str, status: int = 200, errors=None, values=None) -> Response:
    if console.form is not None and status == 200:
        return _attempt(console, lambda: _set_date(console, force_id, cycle_id),
                        lambda **shown: _cycle(console, force_id, cycle_id, **shown), field="slot")
    followed = _admin().cycle(console.operator, force_id, cycle_id)
    force, _ = _force_and_group(force_id)
    return console.page("console/cycle.html", status, force_of=force, followed=followed, base=_base(force_id),
                        no_quorum=followed["cycle"].status is CycleStatus.NO_QUORUM,
                        errors=errors or {}, values=values or {})


def _set_date(console: Console, force_id: str, cycle_id: str) -> Response:
    try:
        slot = datetime.fromisoformat(console.value("slot"))
    except ValueError:
        raise FormProblem("slot", "Choose one of the dates") from None
    _admin().set_cycle_date(console.operator, force_id, cycle_id, slot)
    return _redirect(f"{_base(force_id)}/strategic/{quote(cycle_id)}?done=dated")

