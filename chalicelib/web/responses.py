"""What every server-rendered page shares: the page itself with its security headers, the stylesheet's
address, and how a posted form is read and checked for its origin."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from chalice import Response
from chalice.app import Request

from chalicelib import bootstrap
from chalicelib.adapters.templates import render

MAX_FORM_BYTES = 64 * 1024
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages may echo what a person typed
}


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


def read_posted_fields(request: Request, every_value: bool = False) -> tuple[dict, Response | None]:
    """A link page's posted fields (first value each, or every value as a list), or a refusal. The link's
    token is the secret here."""
    raw = request.raw_body or b""
    if len(raw) > MAX_FORM_BYTES:
        return {}, message(413, "Your answers are too long", "Please shorten them and try again.")
    if foreign_origin(request):
        return {}, message(403, "This form must be sent from our own website", "Open the link from your email again.")
    fields = parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
    return (fields if every_value else {k: v[0] for k, v in fields.items()}), None
