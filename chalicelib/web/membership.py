"""A member's own pages behind the links in their emails: step down (`/step-down/{token}`), see and update their
details and preferences or ask for their data (`/my-details/{token}`), ask to continue for another term
(`/continue/{token}`). GET only shows; the member's POST acts once (web/link_action.py)."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.links import LinkProblem, Purpose
from chalicelib.services.refusals import LinkRefused
from chalicelib.web.link_action import TOKEN, TOKEN_PAGE_HEADERS, act_on_link, done_page, refused_page
from chalicelib.web.responses import page

membership = Blueprint(__name__)
FORM = ["application/x-www-form-urlencoded"]
ERROR_TARGETS = {Purpose.STEP_DOWN: "reason", Purpose.RENEWAL: "main-content", Purpose.MEMBER_DETAILS: "email"}


def _page(token: str, purpose: Purpose, template: str, status: int = 200, error: str = "",
          values: dict | None = None) -> Response:
    if not TOKEN.match(token):
        return refused_page(LinkProblem.UNKNOWN)
    try:
        _, member, force = bootstrap.container().membership.open(token, purpose)
    except LinkRefused as refused:
        return refused_page(refused.problem)
    group = force.require_group(member.group_id)
    return page(template, status=status, force=force, group=group, member=member, error=error, values=values or {},
                error_target=ERROR_TARGETS[purpose],
                optional_series=[s.name for s in group.meetings if s.optional], headers=TOKEN_PAGE_HEADERS)


@membership.route("/step-down/{token}", methods=["GET"])
def step_down_page(token):
    return _page(token, Purpose.STEP_DOWN, "web/step_down.html")


@membership.route("/step-down/{token}", methods=["POST"], content_types=FORM)
def step_down(token):
    def act(fields):
        member = bootstrap.container().membership.step_down(token, fields.get("reason", ""))
        return done_page("You have stepped down", f"You are no longer a member of the group ({member.member_id}).",
                         "We have emailed you to confirm it. Thank you for your work with the group.")
    return act_on_link(membership.current_request, token, act,
                       lambda status, error, values: _page(token, Purpose.STEP_DOWN, "web/step_down.html", status,
                                                           error, values))


@membership.route("/continue/{token}", methods=["GET"])
def continue_page(token):
    return _page(token, Purpose.RENEWAL, "web/continue.html")


@membership.route("/continue/{token}", methods=["POST"], content_types=FORM)
def ask_to_continue(token):
    def act(fields):
        bootstrap.container().membership.ask_to_continue(token)
        return done_page("Your request has been sent", "The IAG coordinator will tell you whether you continue for "
                         "another term.")
    return act_on_link(membership.current_request, token, act,
                       lambda status, error, values: _page(token, Purpose.RENEWAL, "web/continue.html", status, error,
                                                           values))


@membership.route("/my-details/{token}", methods=["GET"])
def details_page(token):
    return _page(token, Purpose.MEMBER_DETAILS, "web/my_details.html")


@membership.route("/my-details/{token}", methods=["POST"], content_types=FORM)
def update_details(token):
    def act(fields):
        fields = {k: (v if k == "series" else v[0]) for k, v in fields.items()}
        service = bootstrap.container().membership
        if fields.get("action") == "data":
            service.request_data(token)
            return done_page("Your data is on its way", "We have emailed the data we hold about you to the address "
                             "we have for you.")
        service.update_details(token, fields)
        return done_page("Your details are updated", "We will use them from now on.")
    return act_on_link(membership.current_request, token, act,
                       lambda status, error, values: _page(token, Purpose.MEMBER_DETAILS, "web/my_details.html",
                                                           status, error, {k: (v if k == "series" else v[0])
                                                                           for k, v in values.items()}),
                       every_value=True)
