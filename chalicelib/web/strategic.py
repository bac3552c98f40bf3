"""Pages of the Strategic IAG cycle: a local IAG's chair names its nominees (`/nominate/{token}`), and each
person invited says which dates they can make (`/availability/{token}`). GET shows; POST acts once."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.domain.links import LinkProblem, Purpose
from chalicelib.services.refusals import LinkRefused
from chalicelib.web.link_action import TOKEN, TOKEN_PAGE_HEADERS, act_on_link, done_page, refused_page
from chalicelib.web.responses import page

strategic = Blueprint(__name__)


def _nominate_page(token: str, status: int = 200, error: str = "", chosen=()):
    service = bootstrap.container().strategic
    try:
        link, cycle = service.open(token, Purpose.NOMINATION)
    except LinkRefused as refused:
        return refused_page(refused.problem)
    force = bootstrap.container().forces.require(cycle.force_id)
    strategic_group = force.require_group(cycle.group_id)
    return page("web/nominate.html", status=status, force=force, group=force.group(link.role),
                strategic=strategic_group, members=service.group_members(link), error=error, chosen=set(chosen),
                count=strategic_group.composition["nominees_per_local_group"], headers=TOKEN_PAGE_HEADERS)


def _availability_page(token: str, status: int = 200, error: str = ""):
    from chalicelib.services.joining_mail import day_at

    try:
        _, cycle = bootstrap.container().strategic.open(token, Purpose.AVAILABILITY)
    except LinkRefused as refused:
        return refused_page(refused.problem)
    force = bootstrap.container().forces.require(cycle.force_id)
    return page("web/availability.html", status=status, force=force, group=force.require_group(cycle.group_id),
                cycle=cycle, error=error, when=day_at, headers=TOKEN_PAGE_HEADERS)


@strategic.route("/nominate/{token}", methods=["GET"])
def nominate_page(token):
    return _nominate_page(token) if TOKEN.match(token) else refused_page(LinkProblem.UNKNOWN)


@strategic.route("/nominate/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def nominate(token):
    def act(fields):
        cycle = bootstrap.container().strategic.nominate(token, fields.get("member", []))
        return done_page("Nominations sent", "Thank you. Your nominees will be asked which dates they can make.",
                         f"The meeting is planned for {cycle.meeting.starts_at:%B %Y}.")
    return act_on_link(strategic.current_request, token, act,
                       lambda status, error, values: _nominate_page(token, status, error, values.get("member", [])),
                       every_value=True)


@strategic.route("/availability/{token}", methods=["GET"])
def availability_page(token):
    return _availability_page(token) if TOKEN.match(token) else refused_page(LinkProblem.UNKNOWN)


@strategic.route("/availability/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def answer_availability(token):
    def act(fields):
        bootstrap.container().strategic.answer(token, fields.get("slot", []))
        return done_page("Thank you", "Your dates have been recorded. Everyone invited will be told the date chosen.")
    return act_on_link(strategic.current_request, token, act,
                       lambda status, error, values: _availability_page(token, status, error), every_value=True)
