"""Meeting pages behind links in emails: a member answers attending or apologies (`/attend/{token}`), those the
profile names propose agenda items (`/agenda/{token}`), a member reads the agenda and papers (`/papers/{token}`,
each paper through a presigned link that works for minutes). GET only shows; a POST acts once."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.links import LinkProblem
from chalicelib.services.refusals import LinkRefused
from chalicelib.web.link_action import TOKEN, TOKEN_PAGE_HEADERS, act_on_link, done_page, refused_page
from chalicelib.web.responses import page

meeting_business = Blueprint(__name__)
FORM = ["application/x-www-form-urlencoded"]


def _attend_page(token: str, status: int = 200, error: str = "", values=None) -> Response:
    from chalicelib.domain.meeting_business import ANSWER_WORDS, Answer
    from chalicelib.services.joining_mail import day_at

    if not TOKEN.match(token):
        return refused_page(LinkProblem.UNKNOWN)
    try:
        _, planned, force = bootstrap.container().meeting_business.open_answer(token)
    except LinkRefused as refused:
        return refused_page(refused.problem)
    return page("web/attend.html", status=status, force=force, planned=planned, when=day_at, error=error,
                values=values or {}, answers=[(a.value, ANSWER_WORDS[a]) for a in Answer], headers=TOKEN_PAGE_HEADERS)


@meeting_business.route("/attend/{token}", methods=["GET"])
def attend_page(token):
    return _attend_page(token)


@meeting_business.route("/attend/{token}", methods=["POST"], content_types=FORM)
def answer(token):
    from chalicelib.domain.meeting_business import ANSWER_WORDS, Answer
    from chalicelib.services.joining_mail import day_at

    def act(fields):
        chosen = {a.value: a for a in Answer}.get(fields.get("answer", ""))
        if chosen is None:
            return _attend_page(token, 422, "Choose whether you will attend", fields)
        planned = bootstrap.container().meeting_business.answer(token, chosen)
        return done_page("Thank you", f"Your answer for {planned.meeting.title} on "
                         f"{day_at(planned.meeting.starts_at)} is recorded: {ANSWER_WORDS[chosen].lower()}.")
    return act_on_link(meeting_business.current_request, token, act,
                       lambda status, error, values: _attend_page(token, status, error, values))


def _agenda_page(token: str, status: int = 200, error: str = "", values=None) -> Response:
    from chalicelib.services.joining_mail import day_at
    from chalicelib.domain.role_titles import role_words

    if not TOKEN.match(token):
        return refused_page(LinkProblem.UNKNOWN)
    try:
        link, planned, force, items = bootstrap.container().meeting_business.open_agenda(token)
    except LinkRefused as refused:
        return refused_page(refused.problem)
    return page("web/agenda.html", status=status, force=force, planned=planned, items=items, when=day_at,
                role=role_words(link.role), deadline=link.expires_at, error=error, error_target="items",
                values=values or {}, role_words=role_words, headers=TOKEN_PAGE_HEADERS)


@meeting_business.route("/agenda/{token}", methods=["GET"])
def agenda_page(token):
    return _agenda_page(token)


@meeting_business.route("/agenda/{token}", methods=["POST"], content_types=FORM)
def propose(token):
    def act(fields):
        items = bootstrap.container().meeting_business.propose(token, fields.get("items", ""))
        return done_page("Agenda items received", f"{len(items)} item{'s' if len(items) != 1 else ''} will go on "
                         "the agenda, which members receive with the papers.")
    return act_on_link(meeting_business.current_request, token, act,
                       lambda status, error, values: _agenda_page(token, status, error, values))


@meeting_business.route("/papers/{token}", methods=["GET"])
def papers_page(token):
    from chalicelib.services.joining_mail import day_at
    from chalicelib.domain.role_titles import role_words

    if not TOKEN.match(token):
        return refused_page(LinkProblem.UNKNOWN)
    try:
        planned, force, agenda, papers = bootstrap.container().meeting_business.open_papers(token)
    except LinkRefused as refused:
        return refused_page(refused.problem)
    return page("web/papers.html", force=force, planned=planned, agenda=agenda, papers=papers, when=day_at,
                token=token, role_words=role_words, headers={**TOKEN_PAGE_HEADERS, "Cache-Control": "no-store"})


@meeting_business.route("/papers/{token}/{number}", methods=["GET"])
def open_paper(token, number):
    """A redirect to a presigned link that works for minutes; opening it changes nothing."""
    if not TOKEN.match(token) or not number.isdigit():
        return refused_page(LinkProblem.UNKNOWN)
    try:
        url = bootstrap.container().meeting_business.paper_url(token, int(number))
    except LinkRefused as refused:
        return refused_page(refused.problem)
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store",
                                                       **TOKEN_PAGE_HEADERS})
