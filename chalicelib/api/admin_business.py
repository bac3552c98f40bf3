"""Admin API routes for call-outs, meetings (plan, move, cancel, extraordinary), elections and Strategic IAG cycles,
registered on the admin blueprint: every route verifies the operator's token, and services/business_admin.py asks
their role for the force and group before anything is read, and records who did what."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable
from zoneinfo import ZoneInfo

from chalicelib import bootstrap
from chalicelib.api.admin import json_response, operator_route, request_json
from chalicelib.api.problems import problem
from chalicelib.domain.operators import Permission
from chalicelib.services.refusals import AdminConflict, InvalidRequest

if TYPE_CHECKING:
    from chalicelib.domain.callouts import Incident, Response
    from chalicelib.domain.elections import Election
    from chalicelib.domain.meeting_plans import PlannedMeeting
    from chalicelib.domain.strategic import Cycle

LONDON = ZoneInfo("Europe/London")


def business_refusals(handler: Callable) -> Callable:
    """The services' refusals in the admin API's terms (409 for the state of things, 400 for the request)."""
    def route(operator, *args, **kwargs):
        # Imported here, not at the Lambda's cold start: these services load when a request first calls them.
        from chalicelib.services.callouts import CalloutClosed
        from chalicelib.services.elections import ElectionRefused

        try:
            return handler(operator, *args, **kwargs)
        except (CalloutClosed, ElectionRefused) as error:
            raise AdminConflict(getattr(error, "message", str(error))) from None
        except ValueError as error:  # CalloutRefused, MeetingChangeRefused, StrategicRefused: nothing changed
            raise InvalidRequest(str(error)) from None

    route.__name__ = handler.__name__
    return route


def london_time(value: Any, name: str) -> datetime:
    """An ISO 8601 time; without an offset it is a London wall-clock time (as coordinators write them)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidRequest(f"{name} must be a time like 2027-01-18T18:30 (London) or with its offset") from None
    return moment.replace(tzinfo=LONDON) if moment.tzinfo is None else moment


def whole(value: Any, name: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"{name} must be a whole number")
    return value


def _admin():
    return bootstrap.container().business_admin


# --- shapes ---

def incident_shown(incident: Incident, now: datetime) -> dict[str, Any]:
    return {"id": incident.id, "title": incident.title, "summary": incident.summary, "groups": list(incident.groups),
            "raised_at": incident.raised_at.isoformat(), "respond_by": incident.respond_by.isoformat(),
            "open": incident.respond_by > now, "police_lead_name": incident.police_lead_name,
            "raised_by": incident.raised_by}


def response_shown(response: Response) -> dict[str, Any]:
    return {"member_id": response.member_id, "name": response.name, "group_id": response.group_id,
            "answer": response.answer.value if response.answer else None, "note": response.note,
            "answered_at": response.answered_at.isoformat() if response.answered_at else None}


def meeting_shown(planned: PlannedMeeting) -> dict[str, Any]:
    meeting = planned.meeting
    return {"uid_key": meeting.uid_key, "title": meeting.title, "starts_at": meeting.starts_at.isoformat(),
            "ends_at": meeting.ends_at.isoformat(), "venue": meeting.venue, "online_option": meeting.online_option,
            "sequence": planned.sequence, "cancelled": planned.cancelled, "note": planned.note}


def election_shown(election: Election) -> dict[str, Any]:
    return {"id": election.id, "group_id": election.group_id, "office": election.office.value,
            "status": election.status.value, "nominations_close": election.nominations_close.isoformat(),
            "voting_closes": election.voting_closes.isoformat()}


def followed_election(followed: dict[str, Any]) -> dict[str, Any]:
    return {**election_shown(followed["election"]), "phase": followed["phase"].value,
            "electorate": followed["electorate"],
            "candidates": [{"member_id": c.member_id, "name": c.name, "statement": c.statement}
                           for c in followed["candidates"]],
            "result": followed["result"] and {
                "counts": [{"name": name, "votes": votes} for name, votes in followed["result"]["counts"]],
                "winners": followed["result"]["winners"], "tie": followed["result"]["tie"]}}


def cycle_shown(cycle: Cycle) -> dict[str, Any]:
    return {"id": cycle.id, "group_id": cycle.group_id, "status": cycle.status.value,
            "slots": [s.isoformat() for s in cycle.slots], "nominations_close": cycle.nominations_close.isoformat(),
            "poll_close": cycle.poll_close.isoformat(), "chosen": cycle.chosen.isoformat() if cycle.chosen else None}


def followed_cycle(followed: dict[str, Any]) -> dict[str, Any]:
    return {**cycle_shown(followed["cycle"]), "answered": followed["answered"],
            "groups": [{"group_id": g.id, "name": g.name, "nominees": names} for g, names in followed["groups"]],
            "availability": [{"slot": s.isoformat(), "available": n} for s, n in followed["slots"]]}


def _now() -> datetime:
    return bootstrap.container().clock.now()


# --- call-outs ---

@operator_route("/admin/forces/{force_id}/incidents", ["GET"])
@business_refusals
def list_incidents(operator, force_id):
    now = _now()
    return json_response({"incidents": [incident_shown(i, now) for i in _admin().incidents(operator, force_id)]})


@operator_route("/admin/forces/{force_id}/incidents", ["POST"])
@business_refusals
def raise_incident(operator, force_id):
    body = request_json()
    groups = body.get("groups")
    if groups is not None and (not isinstance(groups, list) or not all(isinstance(g, str) for g in groups)):
        raise InvalidRequest("groups must be a list of group ids")
    incident = _admin().raise_incident(
        operator, force_id, title=str(body.get("title") or ""), summary=str(body.get("summary") or ""),
        respond_within=timedelta(minutes=whole(body.get("respond_within_minutes"), "respond_within_minutes", 0)),
        police_lead_name=str(body.get("police_lead_name") or ""),
        police_lead_email=str(body.get("police_lead_email") or ""), groups=groups)
    return json_response(incident_shown(incident, _now()), 201)


@operator_route("/admin/forces/{force_id}/incidents/{incident_id}", ["GET"])
@business_refusals
def show_incident(operator, force_id, incident_id):
    incident, responses = _admin().incident(operator, force_id, incident_id)
    counts = bootstrap.container().callouts.counts(responses)
    return json_response({**incident_shown(incident, _now()), "counts": counts,
                          "responses": [response_shown(r) for r in responses]})


@operator_route("/admin/forces/{force_id}/incidents/{incident_id}/close", ["POST"])
@business_refusals
def close_incident(operator, force_id, incident_id):
    return json_response(incident_shown(_admin().close_incident(operator, force_id, incident_id), _now()))


# --- meetings ---

@operator_route("/admin/forces/{force_id}/groups/{group_id}/meetings", ["GET"])
@business_refusals
def list_meetings(operator, force_id, group_id):
    return json_response({"meetings": [meeting_shown(p) for p in _admin().meetings(operator, force_id, group_id)]})


@operator_route("/admin/forces/{force_id}/groups/{group_id}/meeting-plan", ["POST"])
@business_refusals
def plan_meetings(operator, force_id, group_id):
    planned, sent = _admin().plan_meetings(operator, force_id, group_id)
    return json_response({"meetings": [meeting_shown(p) for p in planned], "sent": sent})


@operator_route("/admin/forces/{force_id}/groups/{group_id}/extraordinary-meetings", ["POST"])
@business_refusals
def add_extraordinary_meeting(operator, force_id, group_id):
    body = request_json()
    planned = _admin().extraordinary_meeting(
        operator, force_id, group_id, london_time(body.get("starts_at"), "starts_at"),
        whole(body.get("minutes"), "minutes", 120), str(body.get("venue") or ""), body.get("online") is True,
        str(body.get("purpose") or ""))
    return json_response(meeting_shown(planned), 201)


@operator_route("/admin/forces/{force_id}/groups/{group_id}/meetings/{uid_key}/move", ["POST"])
@business_refusals
def move_meeting(operator, force_id, group_id, uid_key):
    body = request_json()
    return json_response(meeting_shown(_admin().move_meeting(
        operator, force_id, group_id, uid_key, london_time(body.get("starts_at"), "starts_at"),
        str(body.get("note") or ""))))


@operator_route("/admin/forces/{force_id}/groups/{group_id}/meetings/{uid_key}/cancel", ["POST"])
@business_refusals
def cancel_meeting(operator, force_id, group_id, uid_key):
    body = request_json()
    return json_response(meeting_shown(_admin().cancel_meeting(operator, force_id, group_id, uid_key,
                                                               str(body.get("note") or ""))))


# --- elections ---

@operator_route("/admin/forces/{force_id}/groups/{group_id}/elections", ["GET"])
@business_refusals
def list_elections(operator, force_id, group_id):
    return json_response({"elections": [election_shown(e) for e in _admin().elections(operator, force_id, group_id)]})


@operator_route("/admin/forces/{force_id}/groups/{group_id}/elections", ["POST"])
@business_refusals
def open_election(operator, force_id, group_id):
    body = request_json()
    election = _admin().open_election(operator, force_id, group_id, str(body.get("office") or ""),
                                      whole(body.get("nominations_days"), "nominations_days", 14),
                                      whole(body.get("voting_days"), "voting_days", 14))
    return json_response(election_shown(election), 201)


@operator_route("/admin/forces/{force_id}/groups/{group_id}/elections/{election_id}", ["GET"])
@business_refusals
def show_election(operator, force_id, group_id, election_id):
    return json_response(followed_election(_admin().election(operator, force_id, group_id, election_id)))


@operator_route("/admin/forces/{force_id}/groups/{group_id}/elections/{election_id}/start-voting", ["POST"])
@business_refusals
def start_voting(operator, force_id, group_id, election_id):
    return json_response(followed_election(_admin().start_voting(operator, force_id, group_id, election_id)))


@operator_route("/admin/forces/{force_id}/groups/{group_id}/elections/{election_id}/declare", ["POST"])
@business_refusals
def declare_election(operator, force_id, group_id, election_id):
    return json_response(followed_election(_admin().declare(operator, force_id, group_id, election_id)))


# --- the Strategic IAG ---

@operator_route("/admin/forces/{force_id}/strategic-cycles", ["GET"])
@business_refusals
def list_cycles(operator, force_id):
    return json_response({"cycles": [cycle_shown(c) for c in _admin().cycles(operator, force_id)]})


@operator_route("/admin/forces/{force_id}/strategic-cycles", ["POST"])
@business_refusals
def start_cycle(operator, force_id):
    cycle, status = _admin().start_cycle(operator, force_id)
    return json_response({**cycle_shown(cycle), "status": status}, 201)


@operator_route("/admin/forces/{force_id}/strategic-cycles/{cycle_id}", ["GET"])
@business_refusals
def show_cycle(operator, force_id, cycle_id):
    return json_response(followed_cycle(_admin().cycle(operator, force_id, cycle_id)))


@operator_route("/admin/forces/{force_id}/strategic-cycles/{cycle_id}/date", ["POST"])
@business_refusals
def set_cycle_date(operator, force_id, cycle_id):
    slot = london_time(request_json().get("starts_at"), "starts_at")
    return json_response(cycle_shown(_admin().set_cycle_date(operator, force_id, cycle_id, slot)))


# --- one member, added or corrected ---

MEMBER_FIELDS = ("name", "email", "phone", "role", "joined_on", "term_ends_on", "screening_outcome", "screening_level",
                 "screening_date", "screening_expires", "agreement_signed_on")


@operator_route("/admin/forces/{force_id}/groups/{group_id}/members", ["POST"])
def add_or_edit_member(operator, force_id, group_id):
    """One member as one row of the member import (docs/people.md): the same checks, and the same matching by email,
    so a known member's details are corrected and a new one is added. Nothing is written when a check fails (422)."""
    operator.authorise(Permission.OPERATE, force_id, group_id)  # before the row is read: another group learns nothing
    body = request_json()
    unknown = sorted(set(body) - set(MEMBER_FIELDS) - {"dry_run"})
    if unknown or not isinstance(body.get("dry_run", False), bool):
        raise InvalidRequest(f"send the member's fields ({', '.join(MEMBER_FIELDS)}) and optionally dry_run")
    row = {name: str(body.get(name) or "") for name in MEMBER_FIELDS} | {"group": group_id}
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=[*MEMBER_FIELDS, "group"])
    writer.writeheader()
    writer.writerow(row)
    report = bootstrap.container().member_import.run(operator, force_id, text.getvalue(),
                                                     dry_run=body.get("dry_run", False))
    if report["problems"]:
        return problem(422, "import-refused", f"{len(report['problems'])} problems; see 'report'", report=report)
    return json_response(report, 201 if report["created"] else 200)
