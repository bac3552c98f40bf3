"""The web front door: server-rendered GOV.UK-style pages over the same services as the JSON API.

Works without JavaScript. Every form carries a signed, expiring token and
posts are refused from other origins; a hidden field traps simple bots.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.problems import client_address
from chalicelib.domain.rate_limits import RateLimited
from chalicelib.web import csrf
from chalicelib.web.forms import errors_by_field
from chalicelib.web.receipts import holds_receipt
from chalicelib.web.responses import (
    SECURITY_HEADERS, STATIC_DIR, force_or_page, message, page, read_form, read_posted_fields as posted_fields,
    too_many_page,
)

if TYPE_CHECKING:
    from chalicelib.domain.forces import ForceProfile

web = Blueprint(__name__)

STATIC_FILES = {"govuk-frontend.css": "text/css; charset=utf-8"}
REFERENCE = re.compile(r"^[A-Z]{2,4}-[0-9]{4}-[0-9A-Z]{8}$")
PACK_ID = re.compile(r"^PACK-[0-9A-F]{8}$")
_page, _message = page, message  # the names this module's pages were written with


@web.route("/", methods=["GET"])
def index():
    return _page("web/index.html", forces=bootstrap.container().forces.all())


@web.route("/static/{version}/{name}", methods=["GET"])
def static(version, name):
    if name not in STATIC_FILES or not (STATIC_DIR / name).exists():
        return Response(body="Not found", status_code=404, headers={"Content-Type": "text/plain"})
    return Response(body=(STATIC_DIR / name).read_text(), status_code=200,
                    headers={"Content-Type": STATIC_FILES[name], "Cache-Control": "public, max-age=31536000, immutable",
                             "X-Content-Type-Options": "nosniff"})


@web.route("/forces/{force_id}/applications/{reference}/confirmation", methods=["GET"])
def confirmation(force_id, reference):
    from chalicelib.domain.role_titles import role_words
    from chalicelib.services.notifications import SCREENING_WORDS

    force, missing = force_or_page(force_id)
    if missing:
        return missing
    application = bootstrap.container().repository.get(force.id, reference) if REFERENCE.match(reference) else None
    if application is None:
        return _message(404, "Application not found", "Check the reference in your confirmation email.", force=force)
    group = force.group(application.group_id)
    submitter = holds_receipt(bootstrap.container().settings.form_secret, web.current_request.headers.get("cookie", ""),
                              force.id, reference)
    return _page("web/confirmation.html", force=force, application=application, group=group,
                 eligible=application.stage.value != "ineligible",
                 reasons=application.eligibility["reasons"] if submitter else None,
                 screening=SCREENING_WORDS.get(application.eligibility["screening"]),
                 panel=[role_words(r) for r in group.panel], contact=force.contacts["recruitment"])


@web.route("/forces/{force_id}/application-pack", methods=["GET"])
def pack_form(force_id):
    force, missing = force_or_page(force_id)
    query = web.current_request.query_params or {}
    return missing or _pack_page(force, values={"format": query.get("format", "")}, errors={})


@web.route("/forces/{force_id}/application-pack/documents/{file}", methods=["GET"])
def pack_document(force_id, file):
    """A document of the application pack, as shipped (a template until the force replaces it)."""
    from chalicelib.adapters.pack_files import ShippedPackFiles

    force, missing = force_or_page(force_id)
    if missing:
        return missing
    if force.pack_document(file) is None:  # only what the profile lists: the name never reaches a path unchecked
        return _message(404, "Page not found", "Check the address.", force=force)
    files = ShippedPackFiles()
    return Response(body=files.read(force.id, file).decode("utf-8"), status_code=200,
                    headers={**SECURITY_HEADERS, "Content-Type": files.content_type(file),
                             "Cache-Control": "public, max-age=3600"})


@web.route("/forces/{force_id}/application-pack", methods=["POST"],
           content_types=["application/x-www-form-urlencoded"])
def submit_pack_form(force_id):
    from chalicelib.services.intake import InvalidApplication
    from chalicelib.services.pack_requests import STANDARD

    force, missing = force_or_page(force_id)
    if missing:
        return missing
    _, values, early = _posted(force, f"pack:{force.id}", _pack_page)
    if early:
        return early
    payload = {k: values[k] for k in ("name", "email", "phone", "postal_address", "format", "language", "details")
               if values.get(k)}
    try:
        request_id = bootstrap.container().pack_requests.request(force.id, payload,
                                                                 client_address=client_address(web.current_request))
    except InvalidApplication as invalid:
        return _pack_page(force, values, errors_by_field(invalid.errors), status=422)
    except RateLimited as limited:
        return too_many_page(force, limited)
    sent = "?sent=standard" if payload.get("format") == STANDARD else ""
    return Response(body="", status_code=303,
                    headers={"Location": f"/forces/{force.id}/application-pack/{request_id}{sent}", **SECURITY_HEADERS})


@web.route("/forces/{force_id}/application-pack/{request_id}", methods=["GET"])
def pack_sent(force_id, request_id):
    from chalicelib.services.pack_requests import STANDARD

    force, missing = force_or_page(force_id)
    if missing:
        return missing
    if not PACK_ID.match(request_id):
        return _message(404, "Page not found", "Check the address.", force=force)
    return _page("web/pack_sent.html", force=force, request_id=request_id, contact=force.contacts["accessible_formats"],
                 emailed=web.current_request.query_params and web.current_request.query_params.get("sent") == STANDARD)


@web.route("/forces/{force_id}/privacy", methods=["GET"])
def privacy(force_id):
    force, missing = force_or_page(force_id)
    return missing or _page("web/privacy.html", force=force, contact=force.contacts["recruitment"],
                            retention_months=force.unsuccessful_retention_months)


def read_posted_fields(every_value: bool = False) -> tuple[dict, Response | None]:
    """Kept for callers of this module: chalicelib.web.responses.read_posted_fields with this request."""
    return posted_fields(web.current_request, every_value)


def _posted(force: ForceProfile, purpose: str, page):
    """(form, values, None) for a good post; otherwise a response: a refusal, or the form again with
    every answer kept when only its token had expired."""
    form, refused = read_form(web.current_request, force, purpose)
    if refused or form is None:
        return None, None, refused
    values = _values(form)
    if form.get("_token_problem"):
        return None, None, page(force, values, {"main-content": "This form had expired. Your answers are kept: "
                                                                "check them and send it again."}, status=422)
    return form, values, None


def _values(form: dict) -> dict:
    values = {k: v[0] for k, v in form.items() if not k.startswith("_") and k != "website"}
    values["group_requirements_met"] = form.get("group_requirements_met", [])
    return values


def _pack_page(force: ForceProfile, values: dict, errors: dict, status: int = 200) -> Response:
    from chalicelib.services.pack_requests import FORMAT_WORDS, STANDARD

    return _page("web/pack.html", status=status, force=force, values=values, errors=errors,
                 token=csrf.issue(bootstrap.container().settings.form_secret, f"pack:{force.id}"),
                 contact=force.contacts["accessible_formats"],
                 formats=[(STANDARD, "The standard pack, emailed to you now", None)] * bool(force.pack_documents)
                 + [(f, FORMAT_WORDS[f].capitalize(), None) for f in force.accessible_formats])

