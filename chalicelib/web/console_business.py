"""The console's meetings, call-outs, elections and Strategic IAG pages (web/console.py is the frame).

The actions are services/business_admin.py's, which ask the role and record who did what; the frame checks every
POST (sign-in, form token, origin) and records each change. A form's page takes its own POST: what cannot be used
is shown beside its field (console.form_answer). Cancelling a meeting and closing a call-out are confirmed first.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Mapping, Optional
from urllib.parse import quote
from zoneinfo import ZoneInfo

from chalice import Response

from chalicelib import bootstrap
from chalicelib.domain.operators import Operator, Permission
from chalicelib.services.refusals import InvalidRequest, NotFound
from chalicelib.web.console import (
    NOTICES, PREFIX, SECTION_SHOWN, Form, FormProblem, SignedIn, confirmed, console_action, console_page, force_of, form_answer,
    query_params,
)
from chalicelib.web.responses import refusal_words

if TYPE_CHECKING:
    from chalicelib.domain.forces import ForceProfile, Group

LONDON = ZoneInfo("Europe/London")
REFRESH_SECONDS = 20  # the call-out page reloads itself when asked to (a meta refresh: no script)
NOTICES.update({
    "meetings-planned": "The next meetings are planned and members have been sent their invitations.",
    "meeting-added": "The extraordinary meeting is planned and every member has been sent it.",
    "meeting-moved": "The meeting is moved; members have been sent the update.",
    "meeting-cancelled": "The meeting is cancelled; members have been sent the cancellation.",
    "attendance": "Attendance is recorded.",
    "minutes": "The minutes are published and sent to members.",
    "papers": "The papers have been sent to members who had not had them.",
    "callout-raised": "The call-out is raised: members are being asked now.",
    "callout-closed": "The call-out is closed: members' links no longer work and the police lead gets the summary.",
    "election-opened": "The election is open: every active member has been sent a nomination link.",
    "voting": "Voting has started: every active member has been sent a ballot.",
    "declared": "The votes are counted and the result has been sent to the group.",
    "cycle-started": "The cycle is open: the local IAGs' chairs have been asked for nominees.",
    "cycle-dated": "The date is set: nominees are seated and everyone has been sent the invitation.",
})


def _admin():
    return bootstrap.container().business_admin


def _page(you: SignedIn, template: str, section: str, force: ForceProfile, status: int = 200,
          errors: Optional[dict[str, str]] = None, values: Optional[Mapping[str, str]] = None,
          **context: Any) -> Response:
    from chalicelib.services.joining_mail import day_at

    return you.page(template, section=section, force=force, status=status, when=day_at, errors=errors or {},
                    values=values or {}, **context)


def _group(force: ForceProfile, group_id: str) -> Group:
    """The group a page names; asked once the service has asked the role, so another force learns nothing."""
    group = force.group(group_id)
    if group is None:
        raise NotFound(f"no group {group_id} in {force.id}")
    return group


def _when(text: str, field: str = "starts_at") -> datetime:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=LONDON)
    except ValueError:
        raise FormProblem(field, "Enter a date and time like 2027-01-18 18:30") from None


def _number(text: str, field: str, default: int) -> int:
    text = text.strip()
    if not text:
        return default
    if not text.isdigit():
        raise FormProblem(field, "Enter a whole number")
    return int(text)


# --- meetings and elections belong to a group: /<section> chooses it, /<section>/<group>[/<one>] ---

GROUP_SECTIONS = {"meetings": "Meetings", "elections": "Elections"}


def _group_base(section: str, force_id: str, group_id: str) -> str:
    return f"{PREFIX}/{quote(force_id)}/{section}/{quote(group_id)}"


def _groups_chooser_page(section: str, heading: str) -> None:
    """The section's first page: the groups this operator may see, each a link to its own page."""
    def chooser(you: SignedIn, force_id: str) -> Response:
        force = force_of(force_id)
        visible = bootstrap.container().console.visible_groups(you.operator, force_id, Permission.VIEW)
        return _page(you, "console/groups.html", section, force, heading=heading,
                     groups=[g for g in force.groups if g.id in visible], base=f"{PREFIX}/{force_id}/{section}")
    chooser.__name__ = f"{section}_groups"  # the route's name
    console_page(f"{PREFIX}/{{force_id}}/{section}", section=section)(chooser)


for _section, _heading in GROUP_SECTIONS.items():
    _groups_chooser_page(_section, _heading)


# --- meetings: /meetings/<group>, /meetings/<group>/<meeting> ---

def _meetings_base(force_id: str, group_id: str) -> str:
    return _group_base("meetings", force_id, group_id)


@console_page(PREFIX + "/{force_id}/meetings/{group_id}", section="meetings")
def meetings(you: SignedIn, force_id: str, group_id: str):
    return _meetings(you, force_id, group_id)


def _meetings(you: SignedIn, force_id: str, group_id: str, **shown: Any) -> Response:
    listed = _admin().recent_meetings(you.operator, force_id, group_id)
    force = force_of(force_id)
    shown.setdefault("values", {"minutes": "120"})
    return _page(you, "console/meetings.html", "meetings", force, group=_group(force, group_id), meetings=listed,
                 now=bootstrap.container().clock.now(), base=_meetings_base(force_id, group_id),
                 may_change=you.operator.may(Permission.OPERATE, force_id, group_id), **shown)


@console_action(PREFIX + "/{force_id}/meetings/{group_id}", section="meetings")
def change_meetings(you: SignedIn, form: Form, force_id: str, group_id: str):
    def change() -> Response:
        base = _meetings_base(force_id, group_id)
        if form.get("action") == "plan":
            _admin().plan_meetings(you.operator, force_id, group_id)
            return you.done(base, "meetings-planned")
        if form.get("action") == "extraordinary":
            planned = _admin().extraordinary_meeting(
                you.operator, force_id, group_id, _when(form.get("starts_at", "")),
                _number(form.get("minutes", ""), "minutes", 120), form.get("venue", "").strip(),
                form.get("online") == "yes", form.get("purpose", "").strip())
            return you.done(f"{base}/{quote(planned.meeting.uid_key)}", "meeting-added")
        raise FormProblem("action", "Choose what to do")
    return form_answer(form, change, lambda **shown: _meetings(you, force_id, group_id, **shown))


@console_page(PREFIX + "/{force_id}/meetings/{group_id}/{uid_key}", section="meetings")
def meeting(you: SignedIn, force_id: str, group_id: str, uid_key: str):
    return _meeting(you, force_id, group_id, uid_key)


def _meeting(you: SignedIn, force_id: str, group_id: str, uid_key: str, **shown: Any) -> Response:
    container = bootstrap.container()
    you.operator.authorise(Permission.VIEW, force_id, group_id)
    force = force_of(force_id)
    group = _group(force, group_id)
    planned = container.meeting_store.get(force_id, group_id, uid_key)
    if planned is None:
        raise NotFound(f"no meeting {uid_key}")
    you.record(force_id, "view_meeting", reference=uid_key, group_id=group_id)
    return _page(you, "console/meeting.html", "meetings", force, group=group, planned=planned,
                 record=container.meeting_business.meeting_record(force_id, group_id, uid_key),
                 members=sorted(container.joining_store.members(force_id, group_id), key=lambda m: m.name),
                 started=planned.meeting.starts_at <= container.clock.now(), base=_meetings_base(force_id, group_id),
                 may_change=you.operator.may(Permission.OPERATE, force_id, group_id),
                 answer_words={"attending": "Attending", "apologies": "Apologies"}, **shown)


@console_action(PREFIX + "/{force_id}/meetings/{group_id}/{uid_key}", section="meetings")
def change_meeting(you: SignedIn, form: Form, force_id: str, group_id: str, uid_key: str):
    def change() -> Response:
        page = f"{_meetings_base(force_id, group_id)}/{quote(uid_key)}"
        action = form.get("action")
        if action == "move":
            _admin().move_meeting(you.operator, force_id, group_id, uid_key, _when(form.get("starts_at", "")),
                                  form.get("note", "").strip())
            return you.done(page, "meeting-moved")
        you.operator.authorise(Permission.OPERATE, force_id, group_id)  # the meeting's business, as the API asks
        business, by = bootstrap.container().meeting_business, f"operator:{you.operator.id}"
        if action == "attendance":
            business.confirm_attendance(force_id, group_id, uid_key, form.every("present"), by)
        elif action == "minutes":
            business.publish_minutes(force_id, group_id, uid_key, form.get("minutes_text", "").strip(), [], by)
        elif action == "send_papers":
            business.send_papers(force_id, group_id, uid_key)
            action = "papers"
        else:
            raise FormProblem("action", "Choose what to do")
        return you.done(page, action)
    return form_answer(form, change, lambda **shown: _meeting(you, force_id, group_id, uid_key, **shown))


@console_action(PREFIX + "/{force_id}/meetings/{group_id}/{uid_key}/cancel", section="meetings")
def cancel_meeting(you: SignedIn, form: Form, force_id: str, group_id: str, uid_key: str):
    from chalicelib.services.joining_mail import day_at

    you.operator.authorise(Permission.OPERATE, force_id, group_id)  # a refused operator is not asked to confirm
    force = force_of(force_id)
    planned = bootstrap.container().meeting_store.get(force_id, group_id, uid_key)
    if planned is None:
        raise NotFound(f"no meeting {uid_key}")
    page = f"{_meetings_base(force_id, group_id)}/{quote(uid_key)}"

    def ask(error: str = "") -> Response:
        return you.confirm(force, action=f"{page}/cancel", section="meetings", back=page,
                           heading=f"Cancel the meeting on {day_at(planned.meeting.starts_at)}?",
                           consequences=["Every member it is for is sent the cancellation at once.",
                                         "It leaves their calendars."],
                           warning="It cannot be undone: plan an extraordinary meeting if it is needed after all.",
                           button="Yes, cancel the meeting", error=error, fields=dict(form.typed()),
                           ask={"name": "note", "label": "Why it is cancelled (members read this)",
                                "value": form.get("note", "").strip()})
    if not confirmed(form):
        return ask()
    try:
        _admin().cancel_meeting(you.operator, force_id, group_id, uid_key, form.get("note", "").strip())
    except (InvalidRequest, ValueError) as problem:
        return ask(refusal_words(problem))
    return you.done(page, "meeting-cancelled")


# --- call-outs: /callouts, /callouts/<call-out> ---

def _callouts_base(force_id: str) -> str:
    return f"{PREFIX}/{quote(force_id)}/callouts"


@console_page(PREFIX + "/{force_id}/callouts", section="callouts")
def callouts(you: SignedIn, force_id: str):
    return _callouts(you, force_id)


def _callouts(you: SignedIn, force_id: str, **shown: Any) -> Response:
    incidents = _admin().incidents(you.operator, force_id)
    force = force_of(force_id)
    callable_groups = [g for g in force.groups
                       if g.called_for_incidents and you.operator.may(Permission.OPERATE, force_id, g.id)]
    shown.setdefault("values", {"within": "120"})
    shown.setdefault("chosen", [])
    return _page(you, "console/incidents.html", "callouts", force, incidents=incidents,
                 now=bootstrap.container().clock.now(), callable_groups=callable_groups,
                 whole_force=you.operator.may(Permission.OPERATE, force_id), base=_callouts_base(force_id), **shown)


@console_action(PREFIX + "/{force_id}/callouts", section="callouts")
def raise_callout(you: SignedIn, form: Form, force_id: str):
    def change() -> Response:
        incident = _admin().raise_incident(
            you.operator, force_id, title=form.get("title", "").strip(), summary=form.get("summary", "").strip(),
            respond_within=timedelta(minutes=_number(form.get("within", ""), "within", 0)),
            police_lead_name=form.get("lead_name", "").strip(), police_lead_email=form.get("lead_email", "").strip(),
            groups=form.every("groups") or None)
        return you.done(f"{_callouts_base(force_id)}/{quote(incident.id)}", "callout-raised")
    return form_answer(form, change, lambda **shown: _callouts(you, force_id, chosen=form.every("groups"), **shown))


@console_page(PREFIX + "/{force_id}/callouts/{incident_id}", section="callouts")
def callout(you: SignedIn, force_id: str, incident_id: str):
    from chalicelib.domain.callouts import ANSWER_WORDS

    incident, responses = _admin().incident(you.operator, force_id, incident_id)
    force = force_of(force_id)
    now = bootstrap.container().clock.now()
    # Reloading by itself is the person's choice (WCAG 2.2.1: a timed refresh they can turn off); else a link.
    watching = query_params().get("watch") == "on"
    return _page(you, "console/incident.html", "callouts", force, incident=incident, responses=responses,
                 counts=bootstrap.container().callouts.counts(responses), words=ANSWER_WORDS,
                 open=incident.respond_by > now, refresh=REFRESH_SECONDS if incident.respond_by > now and watching
                 else None, groups={g.id: g.name for g in force.groups}, base=_callouts_base(force_id),
                 may_change=all(you.operator.may(Permission.OPERATE, force_id, g) for g in incident.groups))


@console_action(PREFIX + "/{force_id}/callouts/{incident_id}/close", section="callouts")
def close_callout(you: SignedIn, form: Form, force_id: str, incident_id: str):
    incident, responses = _admin().incident(you.operator, force_id, incident_id)
    for group_id in incident.groups:  # a refused operator is not asked to confirm
        you.operator.authorise(Permission.OPERATE, force_id, group_id)
    page = f"{_callouts_base(force_id)}/{quote(incident_id)}"
    if not confirmed(form):
        counts = bootstrap.container().callouts.counts(responses)
        answered = counts["available"] + counts["available_later"] + counts["not_available"]
        return you.confirm(force_of(force_id), action=f"{page}/close", section="callouts", back=page,
                           heading=f"Close the call-out “{incident.title}” now?",
                           consequences=[f"{answered} members have answered; {counts['no_answer']} have not.",
                                         "Members who have not answered can no longer answer.",
                                         "The police lead is sent the summary."],
                           warning="It cannot be reopened.", button="Yes, close the call-out")
    _admin().close_incident(you.operator, force_id, incident_id)
    return you.done(page, "callout-closed")


# --- elections: /elections/<group>, /elections/<group>/<election> ---

def _elections_base(force_id: str, group_id: str) -> str:
    return _group_base("elections", force_id, group_id)


@console_page(PREFIX + "/{force_id}/elections/{group_id}", section="elections")
def elections(you: SignedIn, force_id: str, group_id: str):
    return _elections(you, force_id, group_id)


def _elections(you: SignedIn, force_id: str, group_id: str, **shown: Any) -> Response:
    listed = _admin().elections(you.operator, force_id, group_id)
    force = force_of(force_id)
    shown.setdefault("values", {"nominations_days": "14", "voting_days": "14"})
    return _page(you, "console/elections.html", "elections", force, group=_group(force, group_id),
                 elections=listed, base=_elections_base(force_id, group_id),
                 may_change=you.operator.may(Permission.OPERATE, force_id, group_id), **shown)


@console_action(PREFIX + "/{force_id}/elections/{group_id}", section="elections")
def open_election(you: SignedIn, form: Form, force_id: str, group_id: str):
    def change() -> Response:
        office = form.get("office", "")
        if office not in ("chair", "vice_chair"):
            raise FormProblem("office", "Choose the office the election is for")
        election = _admin().open_election(
            you.operator, force_id, group_id, office, _number(form.get("nominations_days", ""), "nominations_days", 14),
            _number(form.get("voting_days", ""), "voting_days", 14))
        return you.done(f"{_elections_base(force_id, group_id)}/{quote(election.id)}", "election-opened")
    return form_answer(form, change, lambda **shown: _elections(you, force_id, group_id, **shown), field="office")


@console_page(PREFIX + "/{force_id}/elections/{group_id}/{election_id}", section="elections")
def election(you: SignedIn, force_id: str, group_id: str, election_id: str):
    return _election(you, force_id, group_id, election_id)


def _election(you: SignedIn, force_id: str, group_id: str, election_id: str, **shown: Any) -> Response:
    from chalicelib.domain.elections import Phase

    followed = _admin().election(you.operator, force_id, group_id, election_id)
    force = force_of(force_id)
    return _page(you, "console/election.html", "elections", force, group=_group(force, group_id), followed=followed,
                 phases=Phase, base=_elections_base(force_id, group_id),
                 may_change=you.operator.may(Permission.OPERATE, force_id, group_id), **shown)


@console_action(PREFIX + "/{force_id}/elections/{group_id}/{election_id}", section="elections")
def change_election(you: SignedIn, form: Form, force_id: str, group_id: str, election_id: str):
    def change() -> Response:
        page = f"{_elections_base(force_id, group_id)}/{quote(election_id)}"
        if form.get("action") == "start_voting":
            _admin().start_voting(you.operator, force_id, group_id, election_id)
            return you.done(page, "voting")
        if form.get("action") == "declare":
            _admin().declare(you.operator, force_id, group_id, election_id)
            return you.done(page, "declared")
        raise FormProblem("action", "Choose what to do")
    return form_answer(form, change, lambda **shown: _election(you, force_id, group_id, election_id, **shown))


# --- the Strategic IAG: /strategic, /strategic/<cycle> ---

def _may_see_strategic(operator: Operator, force_id: str) -> bool:
    """Only where the force has a Strategic IAG, for a role that may see its group (as the service asks)."""
    from chalicelib.domain.strategic import strategic_group

    force = bootstrap.container().forces.get(force_id)
    group = strategic_group(force) if force else None
    return group is not None and operator.may(Permission.VIEW, force_id, group.id)


SECTION_SHOWN["strategic"] = _may_see_strategic


def _strategic_base(force_id: str) -> str:
    return f"{PREFIX}/{quote(force_id)}/strategic"


@console_page(PREFIX + "/{force_id}/strategic", section="strategic")
def cycles(you: SignedIn, force_id: str):
    return _cycles(you, force_id)


def _cycles(you: SignedIn, force_id: str, **shown: Any) -> Response:
    listed = _admin().cycles(you.operator, force_id)
    return _page(you, "console/cycles.html", "strategic", force_of(force_id), cycles=listed,
                 base=_strategic_base(force_id), **shown)


@console_action(PREFIX + "/{force_id}/strategic", section="strategic")
def start_cycle(you: SignedIn, form: Form, force_id: str):
    def change() -> Response:
        cycle, _ = _admin().start_cycle(you.operator, force_id)
        return you.done(f"{_strategic_base(force_id)}/{quote(cycle.id)}", "cycle-started")
    return form_answer(form, change, lambda **shown: _cycles(you, force_id, **shown))


@console_page(PREFIX + "/{force_id}/strategic/{cycle_id}", section="strategic")
def cycle(you: SignedIn, force_id: str, cycle_id: str):
    return _cycle(you, force_id, cycle_id)


def _cycle(you: SignedIn, force_id: str, cycle_id: str, **shown: Any) -> Response:
    from chalicelib.domain.strategic import Status as CycleStatus

    followed = _admin().cycle(you.operator, force_id, cycle_id)
    return _page(you, "console/cycle.html", "strategic", force_of(force_id), followed=followed,
                 base=_strategic_base(force_id), no_quorum=followed["cycle"].status is CycleStatus.NO_QUORUM,
                 **shown)


@console_action(PREFIX + "/{force_id}/strategic/{cycle_id}", section="strategic")
def set_cycle_date(you: SignedIn, form: Form, force_id: str, cycle_id: str):
    def change() -> Response:
        try:
            slot = datetime.fromisoformat(form.get("slot", ""))
        except ValueError:
            raise FormProblem("slot", "Choose one of the dates") from None
        _admin().set_cycle_date(you.operator, force_id, cycle_id, slot)
        return you.done(f"{_strategic_base(force_id)}/{quote(cycle_id)}", "cycle-dated")
    return form_answer(form, change, lambda **shown: _cycle(you, force_id, cycle_id, **shown), field="slot")
