"""What every server-rendered page shares: the page itself with its security headers, the stylesheet's
address, and how a posted form is read and checked for its origin."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Optional
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from chalice import Response
from chalice.app import Request

from chalicelib import bootstrap
from chalicelib.adapters.templates import render
from chalicelib.domain.rate_limits import RateLimited
from chalicelib.web import csrf

if TYPE_CHECKING:
    from chalicelib.domain.forces import ForceProfile

MAX_FORM_BYTES = 64 * 1024
UK = ZoneInfo("Europe/London")
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages may echo what a person typed
}


def refusal_words(error: BaseException) -> str:
    """A service's refusal as a page shows it: its message, as a sentence. Services word refusals for the API's
    problem details ("nobody in those groups can be called ..."); a page's error starts with a capital."""
    text = getattr(error, "message", None) or str(error)
    return text[:1].upper() + text[1:]


def page(template: str, status: int = 200, headers: dict | None = None, **context) -> Response:
    html = render(template, service_name="Independent Advisory Groups", static_url=static_url(),
                  force=context.pop("force", None), **context)
    return Response(body=html, status_code=status,
                    headers={"Content-Type": "text/html; charset=utf-8", **SECURITY_HEADERS, **(headers or {})})


@lru_cache(maxsize=1)
def static_url() -> str:
    css = STATIC_DIR / "govuk-frontend.css"
    version = hashlib.sha256(css.read_bytes()).hexdigest()[:12] if css.exists() else "missing"
    return f"/static/{version}"


def message(status: int, heading: str, *paragraphs: str, force=None, link=None) -> Response:
    return page("web/message.html", status=status, heading=heading, paragraphs=paragraphs, force=force, link=link)


def foreign_origin(request: Request) -> bool:
    """The post came from another site (a page may post only to itself)."""
    origin = request.headers.get("origin")
    return bool(origin) and urlsplit(origin).netloc not in (
        request.headers.get("host"), urlsplit(bootstrap.container().settings.public_base_url).netloc)


MAX_UPLOAD_BYTES = 5 * 1024 * 1024 + 64 * 1024  # a 5 MB file and its form around it


@dataclass(frozen=True)
class UploadedFile:
    name: str
    content_type: str
    data: bytes


def body_bytes(request: Request) -> bytes:
    """The request's body as bytes (Chalice types it as text or bytes; a test client may send either)."""
    raw = request.raw_body or b""
    return raw.encode() if isinstance(raw, str) else raw


def read_posted_upload(request: Request) -> tuple[dict, dict, Response | None]:
    """A multipart/form-data POST from a link page: (fields, files by field name) or a refusal."""
    from email.parser import BytesParser
    from email.policy import HTTP

    raw = body_bytes(request)
    if len(raw) > MAX_UPLOAD_BYTES:
        return {}, {}, message(413, "The file is too big", "Upload a file smaller than 5 MB.")
    if foreign_origin(request):
        return {}, {}, message(403, "This form must be sent from our own website", "Open the link from your email again.")
    content_type = request.headers.get("content-type", "")
    parsed = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
    fields, files = {}, {}
    for part in parsed.iter_parts() if parsed.is_multipart() else ():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        body = payload if isinstance(payload, bytes) else b""
        if filename is not None:
            files[name] = UploadedFile(filename, part.get_content_type(), body)
        else:
            fields[name] = body.decode("utf-8", errors="replace")
    return fields, files, None


def read_posted_fields(request: Request, every_value: bool = False) -> tuple[dict, Response | None]:
    """A link page's posted fields (first value each, or every value as a list), or a refusal. The link's
    token is the secret here."""
    raw = body_bytes(request)
    if len(raw) > MAX_FORM_BYTES:
        return {}, message(413, "Your answers are too long", "Please shorten them and try again.")
    if foreign_origin(request):
        return {}, message(403, "This form must be sent from our own website", "Open the link from your email again.")
    fields = parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
    return (fields if every_value else {k: v[0] for k, v in fields.items()}), None


def too_many_page(force: ForceProfile, limited: RateLimited) -> Response:
    minutes = max(1, -(-limited.retry_after // 60))
    return page("web/message.html", status=429, headers={"Retry-After": str(limited.retry_after)},
                heading="Too many requests", force=force, link=None,
                paragraphs=(f"We have had several requests from you in a short time. Please try again in "
                            f"{minutes} minute{'s' if minutes != 1 else ''}.",
                            f"If you need help now, contact {force.contacts['recruitment'].name}."))


def force_or_page(force_id: str) -> tuple[Optional[ForceProfile], Optional[Response]]:
    """The force at this address, or the page saying there is none."""
    force = bootstrap.container().forces.get(force_id)
    if force is None:
        return None, message(404, "Page not found", "There is no police force at this address.",
                             link={"href": "/", "text": "Choose your police force"})
    return force, None


def today_in_uk() -> date:
    return bootstrap.container().clock.now().astimezone(UK).date()


def read_form(request: Request, force: ForceProfile, purpose: str) -> tuple[Optional[dict], Optional[Response]]:
    """The posted fields, or a page refusing the post. An expired token is not a refusal: answers are kept."""
    raw = body_bytes(request)
    if len(raw) > MAX_FORM_BYTES:
        return None, message(413, "Your answers are too long", "Please shorten your answers and try again.", force=force)
    if foreign_origin(request):
        return None, message(403, "This form must be sent from our own website",
                             "Open the form again from the force's website and submit it there.", force=force)
    form = parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
    if (form.get("website") or [""])[0]:
        return None, message(400, "Your form could not be sent",
                             "If you are a person, please go back and send the form again, "
                             "leaving the field marked 'Leave this field empty' blank.", force=force)
    problem = csrf.check(bootstrap.container().settings.form_secret, purpose, (form.get("_token") or [""])[0])
    if problem == "expired":
        form["_token_problem"] = [problem]
    elif problem:
        return None, message(403, "This form could not be accepted",
                             "Open the form again and submit it from there.", force=force)
    return form, None
