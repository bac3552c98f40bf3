"""Pages behind links in emails. GET only shows: a mail scanner that follows a link, or even
submits a page's form by script, finds nothing that acts without a person pressing a button
(no page submits itself). POST acts once, through the service's conditional writes."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.links import LinkProblem, Purpose
from chalicelib.domain.role_titles import role_words
from chalicelib.services.refusals import LinkRefused
from chalicelib.web.link_action import TOKEN, TOKEN_PAGE_HEADERS, act_on_link, done_page, refused_page
from chalicelib.web.responses import page

links = Blueprint(__name__)

CHOICES = ("approve", "reject", "redirect", "discuss")  # a review's choices (domain/review.py's Choice); appeals have more


def _review_page(token: str, status: int = 200, error: str = "", values: dict | None = None) -> Response:
    container = bootstrap.container()
    try:
        link, application, force = container.review.open_link(token, Purpose.REVIEW)
    except LinkRefused as refused:
        return refused_page(refused.problem)
    screening = container.joining_store.latest_screening(application)
    group = force.require_group(application.group_id)
    others = [g for g in force.groups if g.accepts_applicants and g.id != group.id]
    return page("web/review.html", status=status, force=force, group=group, application=application,
                role=role_words(link.role), others=others, error=error, values=values or {},
                panel_notes=application.eligibility.get("panel_notes", []), screening=screening,
                headers=TOKEN_PAGE_HEADERS)


@links.route("/review/{token}", methods=["GET"])
def review_page(token):
    return _review_page(token) if TOKEN.match(token) else refused_page(LinkProblem.UNKNOWN)


@links.route("/review/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def record_decision(token):
    def act(fields):
        from chalicelib.domain.review import Choice, Decision  # the review's domain, imported by its requests

        if fields.get("decision", "") not in CHOICES:
            return _review_page(token, 422, "Choose a decision", fields)
        application = bootstrap.container().review.decide(token, Decision(
            role="", choice=Choice(fields["decision"]), reason=fields.get("reason", ""),
            target_group=fields.get("target_group") or None, note=fields.get("note", "")))
        return done_page("Decision recorded",
                         f"Thank you. Your decision on application {application.reference} has been recorded.",
                         "The applicant will be told once the panel's decision is complete.")
    return act_on_link(links.current_request, token, act,
                       lambda status, error, values: _review_page(token, status, error, values))


@links.route("/withdraw/{token}", methods=["GET"])
def withdraw_page(token):
    if not TOKEN.match(token):
        return refused_page(LinkProblem.UNKNOWN)
    try:
        _, application, force = bootstrap.container().review.open_link(token, Purpose.WITHDRAW)
    except LinkRefused as refused:
        return refused_page(refused.problem)
    return page("web/withdraw.html", force=force, application=application, group=force.group(application.group_id),
                headers=TOKEN_PAGE_HEADERS)


@links.route("/withdraw/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def withdraw(token):
    def act(fields):
        application = bootstrap.container().review.withdraw(token)
        return done_page("Application withdrawn", f"Your application {application.reference} has been withdrawn. "
                         "We have emailed you to confirm it.", "You are welcome to apply again at any time.")
    return act_on_link(links.current_request, token, act, lambda status, error, values: withdraw_page(token))
