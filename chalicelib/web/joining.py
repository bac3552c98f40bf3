"""Pages behind the links of joining and appeals: the offer, the agreement, the appeal, the appeal panel's
decision and the vetting unit's outcome. As with reviews, GET only shows and a person's POST acts once."""
from __future__ import annotations

from datetime import date

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.links import LinkProblem, Purpose
from chalicelib.services.refusals import LinkRefused
from chalicelib.web.link_action import TOKEN, TOKEN_PAGE_HEADERS, act_on_link, done_page, refused_page
from chalicelib.web.responses import page

joining = Blueprint(__name__)

DOCUMENT_PAGE_SECONDS = 3600


def _show(token: str, purpose: Purpose, template: str, status: int = 200, error: str = "", values=None,
          **context) -> Response:
    if not TOKEN.match(token):
        return refused_page(LinkProblem.UNKNOWN)
    try:
        link, application, force = bootstrap.container().review.open_link(token, purpose)
    except LinkRefused as refused:
        return refused_page(refused.problem)
    return page(template, status=status, force=force, group=force.group(application.group_id),
                application=application, error=error, values=values or {}, headers=TOKEN_PAGE_HEADERS, **context)


def _act(token: str, act, reshow) -> Response:
    return act_on_link(joining.current_request, token, act, reshow)


# --- the offer ---

def _offer_page(token, status=200, error="", values=None):
    return _show(token, Purpose.OFFER, "web/offer.html", status, error, values)


@joining.route("/offer/{token}", methods=["GET"])
def offer_page(token):
    return _offer_page(token)


@joining.route("/offer/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def answer_offer(token):
    def act(fields):
        answer = fields.get("answer")
        if answer not in ("accept", "decline"):
            return _offer_page(token, 422, "Choose whether to accept or decline the offer", fields)
        application = bootstrap.container().joining.answer_offer(token, accept=answer == "accept")
        if answer == "accept":
            return done_page("You have accepted", f"Thank you. We have emailed you the documents to read and the "
                                 f"confidentiality agreement to sign (application {application.reference}).")
        return done_page("You have declined the offer",
                         "Thank you for letting us know. You are welcome to apply again.")
    return _act(token, act, lambda status, error, values: _offer_page(token, status, error, values))


# --- evidence of residency (where the profile asks for it before the offer) ---

def _residency_page(token, status=200, error="", values=None):
    return _show(token, Purpose.RESIDENCY, "web/residency.html", status, error, values)


@joining.route("/residency/{token}", methods=["GET"])
def residency_page(token):
    return _residency_page(token)


@joining.route("/residency/{token}", methods=["POST"], content_types=["multipart/form-data"])
def upload_residency(token):
    from chalicelib.services.joining import InvalidAnswer

    def act(fields):
        evidence = fields.get("evidence")
        if evidence is None or isinstance(evidence, str) or not evidence.data:
            raise InvalidAnswer("Choose a file to upload")
        application = bootstrap.container().joining.upload_residency(
            token, name=evidence.name, content_type=evidence.content_type, data=evidence.data)
        return done_page("Evidence received", f"Thank you. We have your evidence of residency for application "
                                              f"{application.reference}; we will email you our offer.")
    return act_on_link(joining.current_request, token, act,
                       lambda status, error, values: _residency_page(token, status, error), upload=True)


# --- the confidentiality agreement ---

def _agreement_page(token, status=200, error="", values=None):
    container = bootstrap.container()
    try:
        _, application, force = container.review.open_link(token, Purpose.AGREEMENT) if TOKEN.match(token) \
            else (None, None, None)
    except LinkRefused:
        force = None
    documents = container.joining.document_links(force, DOCUMENT_PAGE_SECONDS) if force else []
    return _show(token, Purpose.AGREEMENT, "web/agreement.html", status, error, values, documents=documents,
                 agreement=force.onboarding.agreement if force else None)


@joining.route("/agreement/{token}", methods=["GET"])
def agreement_page(token):
    return _agreement_page(token)


@joining.route("/agreement/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def sign_agreement(token):
    def act(fields):
        request = joining.current_request
        application = bootstrap.container().joining.sign_agreement(
            token, signed_name=fields.get("signed_name", ""), confirmed=fields.get("confirm") == "yes",
            source_ip=(request.context.get("identity") or {}).get("sourceIp", ""),
            user_agent=request.headers.get("user-agent", ""))
        return done_page("Welcome to the group",
                         f"You have signed the agreement and are now a member (application {application.reference}). "
                         "We have emailed you the dates of the next meetings.")
    return _act(token, act, lambda status, error, values: _agreement_page(token, status, error, values))


# --- the applicant's appeal ---

def _appeal_page(token, status=200, error="", values=None):
    return _show(token, Purpose.APPEAL, "web/appeal.html", status, error, values)


@joining.route("/appeal/{token}", methods=["GET"])
def appeal_page(token):
    return _appeal_page(token)


@joining.route("/appeal/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def lodge_appeal(token):
    def act(fields):
        application = bootstrap.container().joining.lodge_appeal(token, fields.get("grounds", ""))
        return done_page("Your appeal has been sent", f"The appeal panel will consider your appeal about application "
                             f"{application.reference} and we will email you their decision.")
    return _act(token, act, lambda status, error, values: _appeal_page(token, status, error, values))


# --- the appeal panel ---

def _appeal_review_page(token, status=200, error="", values=None):
    container = bootstrap.container()
    grounds = ""
    if TOKEN.match(token):
        try:
            _, application, _ = container.review.open_link(token, Purpose.APPEAL_REVIEW)
            grounds = (container.joining_store.appeal(application) or {}).get("grounds", "")
        except LinkRefused:
            pass
    return _show(token, Purpose.APPEAL_REVIEW, "web/appeal_review.html", status, error, values, grounds=grounds)


@joining.route("/appeal-review/{token}", methods=["GET"])
def appeal_review_page(token):
    return _appeal_review_page(token)


@joining.route("/appeal-review/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def decide_appeal(token):
    from chalicelib.domain.review import Choice, Decision

    def act(fields):
        choice = {"uphold": Choice.UPHOLD, "dismiss": Choice.DISMISS}.get(fields.get("decision", ""))
        if choice is None:
            return _appeal_review_page(token, 422, "Choose whether to uphold or dismiss the appeal", fields)
        application = bootstrap.container().joining.decide_appeal(
            token, Decision("", choice, reason=fields.get("reason", "")))
        return done_page("Decision recorded", f"Thank you. Your decision on the appeal about application "
                             f"{application.reference} has been recorded.")
    return _act(token, act, lambda status, error, values: _appeal_review_page(token, status, error, values))


# --- the vetting unit ---

def _screening_page(token, status=200, error="", values=None):
    return _show(token, Purpose.SCREENING, "web/screening.html", status, error, values)


@joining.route("/screening/{token}", methods=["GET"])
def screening_page(token):
    return _screening_page(token)


@joining.route("/screening/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def record_screening(token):
    from chalicelib.domain.screening import Outcome
    from chalicelib.services.joining import InvalidAnswer

    def act(fields):
        outcome = {o.value: o for o in Outcome}.get(fields.get("outcome", ""))
        if outcome is None:
            raise InvalidAnswer("Choose the outcome of the screening")
        try:
            completed_on = date(int(fields.get("completed-year", "")), int(fields.get("completed-month", "")),
                                int(fields.get("completed-day", "")))
        except ValueError:
            raise InvalidAnswer("Enter the date the screening was completed, like 21 11 2026") from None
        application = bootstrap.container().joining.record_screening(token, outcome, completed_on)
        return done_page("Screening outcome recorded",
                         f"Thank you. The outcome for application {application.reference} has been recorded.")
    return _act(token, act, lambda status, error, values: _screening_page(token, status, error, values))
