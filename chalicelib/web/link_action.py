"""How a page behind an emailed link acts on a POST, for every such page: check the token, read the form,
call the service, and show the result. A refusal becomes its page by the exception's type, in refusals()
(never by its text): a link that cannot act, a step that cannot be taken now, or an answer to correct."""
from __future__ import annotations

import logging
import re
from functools import cache
from typing import Callable, cast

from chalice import Response
from chalice.app import Request

from chalicelib.domain.links import LinkProblem
from chalicelib.services.refusals import LinkRefused
from chalicelib.web.responses import page, read_posted_fields, read_posted_upload, refusal_words

log = logging.getLogger(__name__)

TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
# The token is in the address: never send it to another site. Not "no-referrer": with it, browsers send
# "Origin: null" on the page's own POST, and the origin check would refuse every real person.
TOKEN_PAGE_HEADERS = {"Referrer-Policy": "same-origin"}
PROBLEM_PAGES = {
    LinkProblem.UNKNOWN: (404, "This link does not work",
                          "Check that you copied the whole link from the email. If it still does not work, "
                          "ask the IAG coordinator to send a new one."),
    LinkProblem.EXPIRED: (410, "This link has expired", "Ask the IAG coordinator to send a new link."),
    LinkProblem.USED: (409, "This link has already been used",
                       "A decision has been recorded with it. Each link works once."),
    LinkProblem.SUPERSEDED: (409, "The application has moved on",
                             "The application changed after this link was sent, so it no longer works. "
                             "If your decision is still needed, a new link has been emailed to you."),
}

# (status, error, values) -> the page's form again, showing the error and what the person typed
Reshow = Callable[[int, str, dict], Response]


def refused_page(problem: LinkProblem) -> Response:
    status, heading, text = PROBLEM_PAGES[problem]
    return page("web/message.html", status=status, heading=heading, paragraphs=[text], link=None)


def done_page(heading: str, *paragraphs: str) -> Response:
    return page("web/message.html", heading=heading, link=None, paragraphs=list(paragraphs),
                headers=TOKEN_PAGE_HEADERS)


def not_now_page(why: str) -> Response:
    return page("web/message.html", status=409, heading="This cannot be done now", paragraphs=[why], link=None,
                headers=TOKEN_PAGE_HEADERS)


def _document_missing(error: Exception, reshow: Reshow, fields: dict) -> Response:
    log.exception("a document to sign is missing from storage")
    return page("web/message.html", status=503, heading="Sorry, you cannot sign just now", link=None,
                paragraphs=["The agreement could not be found. We have been told; please try again later or "
                            "contact the IAG coordinator. Nothing has been recorded."], headers=TOKEN_PAGE_HEADERS)


def _answer_again(error: Exception, reshow: Reshow, fields: dict) -> Response:
    return reshow(422, refusal_words(error), fields)


@cache
def refusals() -> dict[type[Exception], Callable[[Exception, Reshow, dict], Response]]:
    """Each service's refusal and its page. Built on the first refusal, not at the Lambda's cold start: importing
    every service behind these pages is most of what they would load."""
    from chalicelib.domain.meeting_business import BusinessRefused
    from chalicelib.domain.membership import MemberChangeRefused
    from chalicelib.domain.review import InvalidDecision
    from chalicelib.services.callouts import CalloutRefused
    from chalicelib.services.elections import ElectionNotNow, ElectionRefused
    from chalicelib.services.joining import InvalidAnswer
    from chalicelib.services.ports import DocumentUnavailable
    from chalicelib.services.strategic import StrategicRefused

    return {
        LinkRefused: lambda error, reshow, fields: refused_page(cast(LinkRefused, error).problem),
        ElectionNotNow: lambda error, reshow, fields: not_now_page(str(error)),
        DocumentUnavailable: _document_missing,
        # Answers the person can correct: the form again, with what they typed.
        InvalidAnswer: _answer_again, InvalidDecision: _answer_again, CalloutRefused: _answer_again,
        ElectionRefused: _answer_again, StrategicRefused: _answer_again, MemberChangeRefused: _answer_again,
        BusinessRefused: _answer_again,
    }


def act_on_link(request: Request, token: str, act: Callable[[dict], Response], reshow: Reshow, *,
                every_value: bool = False, upload: bool = False) -> Response:
    """`act(fields)` for a good post with a well-formed token, else the refusal's page; a service's
    refusal maps by its type (the most specific entry of refusals()). With `upload` the form is multipart and
    `fields` also holds each file (an UploadedFile) under its field's name."""
    if not TOKEN.match(token):
        return refused_page(LinkProblem.UNKNOWN)
    return act_on_form(request, act, reshow, every_value=every_value, upload=upload)


def act_on_form(request: Request, act: Callable[[dict], Response], reshow: Reshow, *,
                every_value: bool = False, upload: bool = False) -> Response:
    """As act_on_link, for a page whose secret is in its form rather than its address (a ballot paper)."""
    if upload:
        fields, files, refused = read_posted_upload(request)
        fields = {**fields, **files}
    else:
        fields, refused = read_posted_fields(request, every_value)
    if refused:
        return refused
    try:
        return act(fields)
    except Exception as error:
        known = refusals()
        respond = next((known[kind] for kind in type(error).__mro__ if kind in known), None)
        if respond is None:
            raise
        return respond(error, reshow, fields)
