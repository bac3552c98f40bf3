"""Call-out pages: a member answers once (`/callout/{token}`); the police lead watches the answers arrive
(`/incident/{token}`, read-only, refreshing). GET only shows; a member's POST acts once."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.domain.links import LinkProblem
from chalicelib.services.refusals import LinkRefused
from chalicelib.web.link_action import TOKEN, TOKEN_PAGE_HEADERS, act_on_link, done_page, refused_page
from chalicelib.web.responses import page

callouts = Blueprint(__name__)


def _callout_page(token: str, status: int = 200, error: str = "", values=None):
    from chalicelib.domain.callouts import ANSWER_WORDS, Answer
    from chalicelib.services.joining_mail import day_at

    if not TOKEN.match(token):
        return refused_page(LinkProblem.UNKNOWN)
    try:
        _, incident, _ = bootstrap.container().callouts.open(token)
    except LinkRefused as refused:
        return refused_page(refused.problem)
    return page("web/callout.html", status=status, force=bootstrap.container().forces.get(incident.force_id),
                incident=incident, error=error, values=values or {}, when=day_at,
                answers=[(a.value, ANSWER_WORDS[a]) for a in Answer], headers=TOKEN_PAGE_HEADERS)


@callouts.route("/callout/{token}", methods=["GET"])
def callout_page(token):
    return _callout_page(token)


@callouts.route("/callout/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def answer_callout(token):
    from chalicelib.domain.callouts import Answer

    def act(fields):
        answer = {a.value: a for a in Answer}.get(fields.get("answer", ""))
        if answer is None:
            return _callout_page(token, 422, "Choose whether you can help", fields)
        incident = bootstrap.container().callouts.answer(token, answer, fields.get("note", ""))
        return done_page("Thank you", f"Your answer to the call-out about {incident.title} has been passed to "
                         f"{incident.police_lead_name}.")
    return act_on_link(callouts.current_request, token, act,
                       lambda status, error, values: _callout_page(token, status, error, values))


@callouts.route("/incident/{token}", methods=["GET"])
def incident_page(token):
    from chalicelib.domain.callouts import ANSWER_WORDS
    from chalicelib.services.joining_mail import day_at

    if not TOKEN.match(token):
        return refused_page(LinkProblem.UNKNOWN)
    container = bootstrap.container()
    try:
        _, incident, responses = container.callouts.open(token, lead=True)
    except LinkRefused as refused:
        return refused_page(refused.problem)
    force = container.forces.get(incident.force_id)
    return page("web/incident.html", force=force, incident=incident, responses=responses,
                counts=container.callouts.counts(responses), words=ANSWER_WORDS, when=day_at,
                closed=container.clock.now() >= incident.respond_by, groups={g.id: g.name for g in force.groups},
                headers={**TOKEN_PAGE_HEADERS, "Cache-Control": "no-store"})
