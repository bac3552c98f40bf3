"""The person's subject-access package behind an emailed link: GET says what it is; the POST shows it, once."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.links import LinkProblem
from chalicelib.services.refusals import LinkRefused
from chalicelib.web.link_action import TOKEN, TOKEN_PAGE_HEADERS, act_on_link, refused_page
from chalicelib.web.responses import page

subject_access = Blueprint(__name__)

# The package is a self-contained page (its styles inline): nothing may load, frame or cache it.
PACKAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    **TOKEN_PAGE_HEADERS,
}


def _notice_page(token: str, status: int = 200, error: str = "", values=None):
    from chalicelib.services.joining_mail import when

    try:
        notice = bootstrap.container().subject_access.notice(token)
    except LinkRefused as refused:
        return refused_page(refused.problem)
    return page("web/your_data.html", status=status, notice=notice, when=when, headers=TOKEN_PAGE_HEADERS)


@subject_access.route("/your-data/{token}", methods=["GET"])
def your_data_page(token):
    return _notice_page(token) if TOKEN.match(token) else refused_page(LinkProblem.UNKNOWN)


@subject_access.route("/your-data/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def your_data(token):
    def act(fields):
        return Response(body=bootstrap.container().subject_access.deliver(token), status_code=200,
                        headers=PACKAGE_HEADERS)
    return act_on_link(subject_access.current_request, token, act,
                       lambda status, error, values: _notice_page(token, status, error, values))
