"""Pages behind the links members get outside an application: an imported member signs the current agreement.
As everywhere, GET only shows and the person's POST acts, once."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.links import LinkProblem
from chalicelib.services.refusals import LinkRefused
from chalicelib.web.joining import DOCUMENT_PAGE_SECONDS
from chalicelib.web.link_action import TOKEN, TOKEN_PAGE_HEADERS, act_on_link, done_page, refused_page
from chalicelib.web.responses import page

members = Blueprint(__name__)


def _agreement_page(token: str, status: int = 200, error: str = "", values=None) -> Response:
    if not TOKEN.match(token):
        return refused_page(LinkProblem.UNKNOWN)
    container = bootstrap.container()
    try:
        _, member, force = container.member_import.open_agreement(token)
    except LinkRefused as refused:
        return refused_page(refused.problem)
    return page("web/agreement.html", status=status, force=force, group=force.group(member.group_id), error=error,
                values=values or {}, headers=TOKEN_PAGE_HEADERS, agreement=force.onboarding.agreement,
                documents=container.joining.document_links(force, DOCUMENT_PAGE_SECONDS))


@members.route("/members/agreement/{token}", methods=["GET"])
def member_agreement_page(token):
    return _agreement_page(token)


@members.route("/members/agreement/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def sign_member_agreement(token):
    def act(fields):
        request = members.current_request
        member = bootstrap.container().member_import.sign_agreement(
            token, signed_name=fields.get("signed_name", ""), confirmed=fields.get("confirm") == "yes",
            source_ip=(request.context.get("identity") or {}).get("sourceIp", ""),
            user_agent=request.headers.get("user-agent", ""))
        group = bootstrap.container().forces.get(member.force_id).group(member.group_id)
        return done_page("Thank you", f"You have signed the agreement. Your membership of the {group.name} "
                                      "carries on as before.")
    return act_on_link(members.current_request, token, act,
                       lambda status, error, values: _agreement_page(token, status, error, values))
