"""RFC 9457 problem details: every error the API gives is one of these."""
from __future__ import annotations

import json
from typing import Optional

from chalice import Response

PROBLEM_JSON = "application/problem+json"

# type URIs are relative references, resolved against the API; GET /problems/<name> explains each.
TITLES = {
    "invalid-application": "Your application has errors",
    "unknown-force": "No such force",
    "unknown-group": "No such group",
    "group-closed": "This group is not taking applications",
    "idempotency-key-reused": "Idempotency-Key already used for a different request",
    "unsupported-media-type": "Send the application as JSON",
    "payload-too-large": "The request is too large",
    "malformed-json": "The request body is not valid JSON",
    "not-found": "Not found",
    "unauthenticated": "Sign in as an operator",
    "forbidden": "Your role does not allow this",
    "invalid-request": "The request has errors",
    "conflict": "That cannot be done now",
    "workflow-unavailable": "The workflow server cannot be reached",
    "rate-limited": "Too many requests",
    "import-refused": "The file has problems: nothing was imported",
}


class MalformedBody(ValueError):
    """A body that is not one JSON document this service can read: a 400, never a 500."""


def parse_json(raw: bytes):
    """The body as JSON. Too deep a nesting (RecursionError inside the parser) is malformed like any other."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        reason = "it is nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise MalformedBody(f"The body could not be read as JSON: {reason}.") from None


def client_address(request) -> str:
    """The caller's address as API Gateway saw it (chalice local reports 127.0.0.1 for everyone)."""
    return ((request.context or {}).get("identity") or {}).get("sourceIp") or ""


def rate_limited(limited) -> Response:
    return problem(429, "rate-limited", f"Too many requests from this address. Try again in {limited.retry_after} "
                                        "seconds.", headers={"Retry-After": str(limited.retry_after)})


def problem(status: int, name: str, detail: str, *, instance: Optional[str] = None,
            headers: Optional[dict] = None, **extra) -> Response:
    body = {"type": f"/problems/{name}", "title": TITLES[name], "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return Response(body=json.dumps(body), status_code=status,
                    headers={"Content-Type": PROBLEM_JSON, **(headers or {})})
