"""Pages behind links in emails. GET only shows: a mail scanner that follows a link, or even
submits a page's form by script, finds nothing that acts without a person pressing a button
(no page submits itself). POST acts once, through the service's conditional writes."""
from __future__ import annotations

import re

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.links import LinkProblem, Purpose
from chalicelib.domain.review import Choice, Decision, InvalidDecision
from chalicelib.services.review import LinkRefused
from chalicelib.web.pages import _page, read_posted_fields

links = Blueprint(__name__)

TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
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
# The token is in the address: never send it to another site. Not "no-referrer": with it, browsers send
# "Origin: null" on the page's own POST, and the origin check would refuse every real person.
TOKEN_PAGE_HEADERS = {"Referrer-Policy": "same-origin"}
CHOICES = {"approve": Choice.APPROVE, "reject": Choice.REJECT, "redirect": Choice.REDIRECT, "discuss": Choice.DISCUSS}


def _refused(problem: LinkProblem) -> Response:
    status, heading, text = PROBLEM_PAGES[problem]
    return _page("web/message.html", status=status, heading=heading, paragraphs=[text], link=None)


def _review_page(token: str, status: int = 200, error: str = "", values: dict | None = None) -> Response:
    container = bootstrap.container()
    try:
        link, application, force = container.review.open_link(token, Purpose.REVIEW)
    except LinkRefused as refused:
        return _refused(refused.problem)
    screening = container.joining_store.latest_screening(application)
    group = force.group(application.group_id)
    others = [g for g in force.groups if g.accepts_applicants and g.id != group.id]
    return _page("web/review.html", status=status, force=force, group=group, application=application,
                 role=link.role.replace("_", " "), others=others, error=error, values=values or {},
                 panel_notes=application.eligibility.get("panel_notes", []), screening=screening,
                 headers=TOKEN_PAGE_HEADERS)


@links.route("/review/{token}", methods=["GET"])
def review_page(token):
    return _review_page(token) if TOKEN.match(token) else _refused(LinkProblem.UNKNOWN)


@links.route("/review/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def record_decision(token):
    if not TOKEN.match(token):
        return _refused(LinkProblem.UNKNOWN)
    fields, refused = read_posted_fields()
    if refused:
        return refused
    choice = CHOICES.get(fields.get("decision", ""))
    if choice is None:
        return _review_page(token, 422, "Choose a decision", fields)
    decision = Decision(role="", choice=choice, reason=fields.get("reason", ""),
                        target_group=fields.get("target_group") or None, note=fields.get("note", ""))
    try:
        application = bootstrap.container().review.decide(token, decision)
    except LinkRefused as refused:
        return _refused(refused.problem)
    except InvalidDecision as invalid:
        return _review_page(token, 422, str(invalid), fields)
    return _page("web/message.html", heading="Decision recorded", link=None, paragraphs=[
        f"Thank you. Your decision on application {application.reference} has been recorded.",
        "The applicant will be told once the panel's decision is complete."],
        headers=TOKEN_PAGE_HEADERS)


@links.route("/withdraw/{token}", methods=["GET"])
def withdraw_page(token):
    if not TOKEN.match(token):
        return _refused(LinkProblem.UNKNOWN)
    try:
        _, application, force = bootstrap.container().review.open_link(token, Purpose.WITHDRAW)
    except LinkRefused as refused:
        return _refused(refused.problem)
    return _page("web/withdraw.html", force=force, application=application, group=force.group(application.group_id),
                 headers=TOKEN_PAGE_HEADERS)


@links.route("/withdraw/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def withdraw(token):
    if not TOKEN.match(token):
        return _refused(LinkProblem.UNKNOWN)
    _, refused = read_posted_fields()
    if refused:
        return refused
    try:
        application = bootstrap.container().review.withdraw(token)
    except LinkRefused as refused:
        return _refused(refused.problem)
    return _page("web/message.html", heading="Application withdrawn", link=None, paragraphs=[
        f"Your application {application.reference} has been withdrawn. We have emailed you to confirm it.",
        "You are welcome to apply again at any time."], headers=TOKEN_PAGE_HEADERS)
