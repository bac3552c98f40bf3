"""Admin API routes for members after joining and for meeting business (registered on the admin blueprint, so
every route verifies the operator's token and asks their role, force and group first)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Callable

from chalicelib import bootstrap
from chalicelib.api.admin import _body, json_response, operator_route
from chalicelib.domain.membership import Change, MemberChangeRefused
from chalicelib.domain.operators import Permission
from chalicelib.services.admin import AdminConflict, InvalidRequest, NotFound
from chalicelib.services.membership import MemberNotFound, shown
from chalicelib.services.ports import MemberConflict

CHANGES = {"suspend": Change.SUSPEND, "reinstate": Change.REINSTATE, "remove": Change.REMOVE}


def refusals_as_problems(handler: Callable) -> Callable:
    """This module's refusals in the admin API's terms (404, 400, 409): nothing was changed."""
    def route(operator, *args, **kwargs):
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


def _day(value, name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidRequest(f"{name} must be a date like 2026-11-25") from None


def _moment(value, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidRequest(f"{name} must be a date and time with its offset, like 2027-01-11T18:30:00+00:00")
    return moment


@operator_route("/admin/forces/{force_id}/groups/{group_id}/members/{member_id}", ["GET"])
@refusals_as_problems
def show_member(operator, force_id, group_id, member_id):
    operator.authorise(Permission.VIEW, force_id, group_id)
    return json_response(bootstrap.container().membership.member_record(force_id, group_id, member_id))


@operator_route("/admin/forces/{force_id}/groups/{group_id}/members/{member_id}/status", ["POST"])
@refusals_as_problems
def change_member(operator, force_id, group_id, member_id):
    operator.authorise(Permission.MEMBERSHIP, force_id, group_id)
    body = _body()
    change = CHANGES.get(str(body.get("change") or ""))
    if change is None:
        raise InvalidRequest(f"change is one of: {', '.join(CHANGES)}")
    member = bootstrap.container().membership.change(force_id, group_id, member_id, change,
                                                     str(body.get("reason") or ""), f"operator:{operator.id}")
    return json_response(shown(member))


@operator_route("/admin/forces/{force_id}/groups/{group_id}/members/{member_id}/renewal", ["POST"])
@refusals_as_problems
def decide_renewal(operator, force_id, group_id, member_id):
    operator.authorise(Permission.OPERATE, force_id, group_id)
    body = _body()
    if not isinstance(body.get("agree"), bool):
        raise InvalidRequest("agree must be true or false")
    member = bootstrap.container().membership.decide_renewal(force_id, group_id, member_id, body["agree"],
                                                             str(body.get("reason") or ""), f"operator:{operator.id}")
    return json_response(shown(member))


@operator_route("/admin/forces/{force_id}/groups/{group_id}/members/{member_id}/screening", ["POST"])
@refusals_as_problems
def record_screening(operator, force_id, group_id, member_id):
    operator.authorise(Permission.OPERATE, force_id, group_id)
    body = _body()
    member = bootstrap.container().membership.record_screening(
        force_id, group_id, member_id, str(body.get("outcome") or ""), str(body.get("level") or ""),
        _day(body.get("completed_on"), "completed_on"), f"operator:{operator.id}")
    return json_response(shown(member))
