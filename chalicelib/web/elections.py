"""Election pages: a member stands (`/stand/{token}`) and votes (`/vote/{token}`). GET shows; POST acts once.
The vote's body names a candidate: nothing here logs request bodies (ballot secrecy)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.domain.links import LinkProblem
from chalicelib.services.elections import ElectionRefused
from chalicelib.services.joining_mail import when
from chalicelib.services.review import LinkRefused
from chalicelib.web.links import TOKEN, TOKEN_PAGE_HEADERS, _refused
from chalicelib.web.pages import _page, read_posted_fields

elections = Blueprint(__name__)


def _stand_page(token: str, status: int = 200, error: str = "", values=None):
    try:
        page = bootstrap.container().elections.nomination(token)
    except LinkRefused as refused:
        return _refused(refused.problem)
    except ElectionRefused as refused:
        return _closed(str(refused))
    return _page("web/stand.html", status=status, page=page, error=error, values=values or {}, when=when,
                 force=bootstrap.container().forces.get(page.election.force_id), headers=TOKEN_PAGE_HEADERS)


def _vote_page(token: str, status: int = 200, error: str = ""):
    try:
        ballot = bootstrap.container().elections.ballot(token)
    except LinkRefused as refused:
        return _refused(refused.problem)
    except ElectionRefused as refused:
        return _closed(str(refused))
    return _page("web/vote.html", status=status, ballot=ballot, error=error, when=when,
                 force=bootstrap.container().forces.get(ballot.election.force_id), headers=TOKEN_PAGE_HEADERS)


def _closed(message: str):
    return _page("web/message.html", status=409, heading="This cannot be done now", paragraphs=[message], link=None,
                 headers=TOKEN_PAGE_HEADERS)


@elections.route("/stand/{token}", methods=["GET"])
def stand_page(token):
    return _stand_page(token) if TOKEN.match(token) else _refused(LinkProblem.UNKNOWN)


@elections.route("/stand/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def stand(token):
    if not TOKEN.match(token):
        return _refused(LinkProblem.UNKNOWN)
    fields, refused = read_posted_fields()
    if refused:
        return refused
    try:
        candidate = bootstrap.container().elections.nominate(token, fields.get("statement", ""))
    except LinkRefused as refused:
        return _refused(refused.problem)
    except ElectionRefused as invalid:
        return _stand_page(token, 422, str(invalid), fields)
    return _page("web/message.html", heading="You are standing", link=None, headers=TOKEN_PAGE_HEADERS,
                 paragraphs=[f"Thank you, {candidate.name}. Members will see your statement on their ballot."])


@elections.route("/vote/{token}", methods=["GET"])
def vote_page(token):
    return _vote_page(token) if TOKEN.match(token) else _refused(LinkProblem.UNKNOWN)


@elections.route("/vote/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def vote(token):
    if not TOKEN.match(token):
        return _refused(LinkProblem.UNKNOWN)
    fields, refused = read_posted_fields()
    if refused:
        return refused
    try:
        bootstrap.container().elections.vote(token, fields.get("candidate", ""))
    except LinkRefused as refused:
        return _refused(refused.problem)
    except ElectionRefused as invalid:
        if "already voted" in str(invalid) or "closed" in str(invalid):
            return _closed(str(invalid))
        return _vote_page(token, 422, str(invalid))
    return _page("web/message.html", heading="Your vote has been cast", link=None, headers=TOKEN_PAGE_HEADERS,
                 paragraphs=["Thank you. Votes are secret: the count records your vote, not who cast it."])
