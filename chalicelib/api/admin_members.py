"""Admin API routes for members after joining and for meeting business (registered on the admin blueprint, so
every route verifies the operator's token and asks their role, force and group first)."""
from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Callable

from chalicelib import bootstrap
from chalicelib.api.admin import json_response, operator_route, request_json
from chalicelib.domain.operators import Permission
from chalicelib.services.refusals import AdminConflict, InvalidRequest, NotFound

CHANGES = ("suspend", "reinstate", "remove")  # the membership Change values an operator may make


def refusals_as_problems(handler: Callable) -> Callable:
    """This module's refusals in the admin API's terms (404, 400, 409): nothing was changed."""
    def route(operator, *args, **kwargs):
        # Imported here, not at the Lambda's cold start: these services load when a request first calls them.
        from chalicelib.domain.membership import MemberChangeRefused
        from chalicelib.services.membership import MemberNotFound
        from chalicelib.services.ports import MemberConflict

        try:
            return handler(operator, *args, **kwargs)
        except (MemberNotFound, LookupError) as error:
            raise NotFound(str(error)) from None
        except MemberConflict:
            raise AdminConflict("the member was changed by someone else meanwhile; look again") from None
        except (MemberChangeRefused, ValueError) as error:
            raise InvalidRequest(str(error)) from None

    route.__name__ = handler.__name__
    return route


def _read(operator, force_id: str, action: str, **about) -> None:
    """Every read of personal data is recorded before it is answered (as the admin service's reads are)."""
    container = bootstrap.container()
    container.access_log.record(operator, force_id, action, container.clock.now(), **about)


def _shown(member) -> dict:
    from chalicelib.services.membership import shown

    return shown(member)


def _day(value, name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidRequest(f"{name} must be a date like 2026-11-25") from None


@operator_route("/admin/forces/{force_id}/groups/{group_id}/members/{member_id}", ["GET"])
@refusals_as_problems
def show_member(operator, force_id, group_id, member_id):
    operator.authorise(Permission.VIEW, force_id, group_id)
    _read(operator, force_id, "view_member", reference=member_id, group_id=group_id)
    return json_response(bootstrap.container().membership.member_record(force_id, group_id, member_id))


@operator_route("/admin/forces/{force_id}/groups/{group_id}/members/{member_id}/status", ["POST"])
@refusals_as_problems
def change_member(operator, force_id, group_id, member_id):
    operator.authorise(Permission.MEMBERSHIP, force_id, group_id)
    body = request_json()
    from chalicelib.domain.membership import Change

    change = str(body.get("change") or "")
    if change not in CHANGES:
        raise InvalidRequest(f"change is one of: {', '.join(CHANGES)}")
    member = bootstrap.container().membership.change(force_id, group_id, member_id, Change(change),
                                                     str(body.get("reason") or ""), f"operator:{operator.id}")
    return json_response(_shown(member))


@operator_route("/admin/forces/{force_id}/groups/{group_id}/members/{member_id}/renewal", ["POST"])
@refusals_as_problems
def decide_renewal(operator, force_id, group_id, member_id):
    operator.authorise(Permission.OPERATE, force_id, group_id)
    body = request_json()
    if not isinstance(body.get("agree"), bool):
        raise InvalidRequest("agree must be true or false")
    member = bootstrap.container().membership.decide_renewal(force_id, group_id, member_id, body["agree"],
                                                             str(body.get("reason") or ""), f"operator:{operator.id}")
    return json_response(_shown(member))


@operator_route("/admin/forces/{force_id}/groups/{group_id}/members/{member_id}/screening", ["POST"])
@refusals_as_problems
def record_screening(operator, force_id, group_id, member_id):
    operator.authorise(Permission.OPERATE, force_id, group_id)
    body = request_json()
    member = bootstrap.container().membership.record_screening(
        force_id, group_id, member_id, str(body.get("outcome") or ""), str(body.get("level") or ""),
        _day(body.get("completed_on"), "completed_on"), f"operator:{operator.id}")
    return json_response(_shown(member))


# --- meeting business ---

def _business():
    return bootstrap.container().meeting_business


@operator_route("/admin/forces/{force_id}/groups/{group_id}/meetings/{uid_key}", ["GET"])
@refusals_as_problems
def show_meeting(operator, force_id, group_id, uid_key):
    operator.authorise(Permission.VIEW, force_id, group_id)
    _read(operator, force_id, "view_meeting", group_id=group_id)
    return json_response(_business().meeting_record(force_id, group_id, uid_key))


@operator_route("/admin/forces/{force_id}/groups/{group_id}/online-link", ["PUT"])
@refusals_as_problems
def set_online_link(operator, force_id, group_id):
    operator.authorise(Permission.OPERATE, force_id, group_id)
    body = request_json()
    changed = bootstrap.container().meetings.set_online_link(
        force_id, group_id, str(body.get("url") or ""), uid_key=str(body.get("meeting") or ""),
        series=str(body.get("series") or ""))
    return json_response({"meetings": [p.meeting.uid_key for p in changed]})


@operator_route("/admin/forces/{force_id}/groups/{group_id}/meetings/{uid_key}/papers", ["POST"])
@refusals_as_problems
def upload_paper(operator, force_id, group_id, uid_key):
    operator.authorise(Permission.OPERATE, force_id, group_id)
    body = request_json()
    try:
        data = base64.b64decode(str(body.get("content_base64") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest("content_base64 must be the file in base64") from None
    paper = _business().upload_paper(force_id, group_id, uid_key, str(body.get("filename") or ""),
                                     str(body.get("title") or ""), data)
    return json_response({"filename": paper.filename, "title": paper.title}, 201)


@operator_route("/admin/forces/{force_id}/groups/{group_id}/meetings/{uid_key}/send-papers", ["POST"])
@refusals_as_problems
def send_papers(operator, force_id, group_id, uid_key):
    operator.authorise(Permission.OPERATE, force_id, group_id)
    return json_response({"sent": _business().send_papers(force_id, group_id, uid_key)})


@operator_route("/admin/forces/{force_id}/groups/{group_id}/meetings/{uid_key}/attendance", ["POST"])
@refusals_as_problems
def confirm_attendance(operator, force_id, group_id, uid_key):
    operator.authorise(Permission.OPERATE, force_id, group_id)
    return json_response(_business().confirm_attendance(force_id, group_id, uid_key, request_json().get("present"),
                                                        f"operator:{operator.id}"))


@operator_route("/admin/forces/{force_id}/groups/{group_id}/meetings/{uid_key}/minutes", ["POST"])
@refusals_as_problems
def publish_minutes(operator, force_id, group_id, uid_key):
    operator.authorise(Permission.OPERATE, force_id, group_id)
    body = request_json()
    return json_response(_business().publish_minutes(force_id, group_id, uid_key, str(body.get("text") or ""),
                                                     body.get("actions", []), f"operator:{operator.id}"))


@operator_route("/admin/forces/{force_id}/groups/{group_id}/actions/{action_id}/close", ["POST"])
@refusals_as_problems
def close_action(operator, force_id, group_id, action_id):
    operator.authorise(Permission.OPERATE, force_id, group_id)
    return json_response(_business().close_action(force_id, group_id, action_id, f"operator:{operator.id}"))
