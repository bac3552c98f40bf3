"""Headers every HTTP answer carries, whatever route made it: set once here, not per page."""
from __future__ import annotations

# Browsers must never reach the service over plain HTTP again once they have seen it over HTTPS (two years, as
# GOV.UK does). Sent over HTTP locally too, where browsers ignore it by design.
STRICT_TRANSPORT = "max-age=63072000; includeSubDomains"
EVERY_RESPONSE = {
    "Strict-Transport-Security": STRICT_TRANSPORT,
    "X-Content-Type-Options": "nosniff",
}


def security_headers(event, get_response):
    """Chalice HTTP middleware: adds what a route did not set itself (a page's stricter header stays)."""
    response = get_response(event)
    for name, value in EVERY_RESPONSE.items():
        if not any(existing.lower() == name.lower() for existing in response.headers):
            response.headers[name] = value
    return response
