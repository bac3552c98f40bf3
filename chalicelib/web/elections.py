"""Election pages: a member stands (`/stand/{token}`) and votes. GET shows; POST acts once.

Voting is two posts so that no request joins voter and choice: `POST /vote/{token}` spends the member's link
and answers with an anonymous ballot paper; `POST /ballot` carries only that paper (in the body, never the
address, so access logs hold neither) and the candidate. Nothing here logs request bodies."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.domain.links import LinkProblem
from chalicelib.services.refusals import LinkRefused
from chalicelib.web.link_action import (
    TOKEN, TOKEN_PAGE_HEADERS, act_on_form, act_on_link, done_page, not_now_page, refused_page,
)
from chalicelib.web.responses import page

elections = Blueprint(__name__)


def _stand_page(token: str, status: int = 200, error: str = "", values=None):
    from chalicelib.services.elections import ElectionRefused
    from chalicelib.services.joining_mail import when

    try:
        nomination = bootstrap.container().elections.nomination(token)
    except LinkRefused as refused:
        return refused_page(refused.problem)
    except ElectionRefused as refused:
        return not_now_page(str(refused))
    return page("web/stand.html", status=status, page=nomination, error=error, values=values or {}, when=when,
                force=bootstrap.container().forces.get(nomination.election.force_id), headers=TOKEN_PAGE_HEADERS)


def _vote_page(token: str, status: int = 200, error: str = ""):
    from chalicelib.services.elections import ElectionRefused
    from chalicelib.services.joining_mail import when

    try:
        ballot = bootstrap.container().elections.ballot(token)
    except LinkRefused as refused:
        return refused_page(refused.problem)
    except ElectionRefused as refused:
        return not_now_page(str(refused))
    return page("web/vote.html", status=status, ballot=ballot, error=error, when=when,
                force=bootstrap.container().forces.get(ballot.election.force_id), headers=TOKEN_PAGE_HEADERS)


@elections.route("/stand/{token}", methods=["GET"])
def stand_page(token):
    return _stand_page(token) if TOKEN.match(token) else refused_page(LinkProblem.UNKNOWN)


@elections.route("/stand/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def stand(token):
    def act(fields):
        candidate = bootstrap.container().elections.nominate(token, fields.get("statement", ""))
        return done_page("You are standing",
                         f"Thank you, {candidate.name}. Members will see your statement on their ballot.")
    return act_on_link(elections.current_request, token, act,
                       lambda status, error, values: _stand_page(token, status, error, values))


@elections.route("/vote/{token}", methods=["GET"])
def vote_page(token):
    return _vote_page(token) if TOKEN.match(token) else refused_page(LinkProblem.UNKNOWN)


@elections.route("/vote/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def take_paper(token):
    def act(fields):
        return _paper_page(bootstrap.container().elections.take_paper(token))
    return act_on_link(elections.current_request, token, act,
                       lambda status, error, values: _vote_page(token, status, error))


def _paper_page(paper, status: int = 200, error: str = ""):
    # The paper's token is in this page: never cached (page()), never sent to another site.
    from chalicelib.services.joining_mail import when

    return page("web/ballot_paper.html", status=status, paper=paper, error=error, when=when,
                force=bootstrap.container().forces.get(paper.election.force_id), headers=TOKEN_PAGE_HEADERS)


@elections.route("/ballot", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def cast():
    def act(fields):
        bootstrap.container().elections.cast(fields.get("paper", ""), fields.get("candidate", ""))
        return done_page("Your vote has been cast",
                         "Thank you. Votes are secret: the count records your vote, not who cast it.")

    def reshow(status, error, values):
        return _paper_page(bootstrap.container().elections.paper(values.get("paper", "")), status, error)
    return act_on_form(elections.current_request, act, reshow)
