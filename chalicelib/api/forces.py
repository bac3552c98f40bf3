"""Public routes: force and group information, and applications (the JSON front door)."""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.problems import MalformedBody, client_address, parse_json, problem, rate_limited
from chalicelib.domain.rate_limits import RateLimited
from chalicelib.services import directory

MAX_BODY_BYTES = 64 * 1024
REFERENCE = re.compile(r"^[A-Z]{2,4}-[0-9]{4}-[0-9A-Z]{8}$")
UK = ZoneInfo("Europe/London")

api = Blueprint(__name__)


def _today():
    return bootstrap.container().clock.now().astimezone(UK).date()


def _force_or_404(force_id: str):
    force = bootstrap.container().forces.get(force_id)
    if force is None:
        return None, problem(404, "unknown-force", f"There is no force '{force_id}'. GET /forces lists them.")
    return force, None


@api.route("/forces", methods=["GET"])
def list_forces():
    today = _today()
    return {"forces": [directory.force_summary(f, today) for f in bootstrap.container().forces.all()]}


@api.route("/forces/{force_id}", methods=["GET"])
def get_force(force_id):
    force, missing = _force_or_404(force_id)
    return missing or directory.force_detail(force, _today())


@api.route("/forces/{force_id}/applications", methods=["POST"], content_types=["*/*"])
def submit_application(force_id):
    from chalicelib.services.intake import GroupClosed, IdempotencyKeyReused, InvalidApplication, UnknownForce, UnknownGroup

    request = api.current_request
    raw = request.raw_body or b""
    declared = request.headers.get("content-length", "0")
    if len(raw) > MAX_BODY_BYTES or (declared.isdigit() and int(declared) > MAX_BODY_BYTES):
        return problem(413, "payload-too-large", f"An application must be at most {MAX_BODY_BYTES // 1024} KB.")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        return problem(415, "unsupported-media-type",
                       f"Send Content-Type: application/json (got '{media_type or 'nothing'}').")
    try:
        payload = parse_json(raw)
    except MalformedBody as malformed:
        return problem(400, "malformed-json", str(malformed))
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= 255 and key.isprintable()):
        return problem(400, "invalid-application", "Idempotency-Key must be 1 to 255 printable characters.",
                       errors=[])
    intake = bootstrap.container().intake
    try:
        submission = intake.submit(force_id, payload, idempotency_key=key, client_address=client_address(request))
    except UnknownForce:
        return problem(404, "unknown-force", f"There is no force '{force_id}'. GET /forces lists them.")
    except InvalidApplication as invalid:
        return problem(422, "invalid-application",
                       f"{len(invalid.errors)} answer(s) need correcting before the application can be accepted.",
                       errors=[{"pointer": e.pointer, "detail": e.message} for e in invalid.errors])
    except UnknownGroup as unknown:
        return problem(404, "unknown-group", f"The force has no group '{unknown}'. GET /forces/{force_id} lists them.")
    except GroupClosed as closed:
        return problem(422, "group-closed", str(closed))
    except RateLimited as limited:
        return rate_limited(limited)
    except IdempotencyKeyReused:
        return problem(422, "idempotency-key-reused",
                       "This Idempotency-Key was used for a different application. Use a new key for a new request.")
    location = f"/forces/{force_id}/applications/{submission.reference}"
    return Response(body={**submission.to_dict(), "links": {"self": location}}, status_code=201,
                    headers={"Location": location, "Content-Type": "application/json"})


@api.route("/forces/{force_id}/applications/{reference}", methods=["GET"])
def application_status(force_id, reference):
    """Where an application stands; no personal data, so a reference is all it needs."""
    force, missing = _force_or_404(force_id)
    if missing:
        return missing
    application = bootstrap.container().repository.get(force.id, reference) if REFERENCE.match(reference) else None
    if application is None:
        return problem(404, "not-found", f"There is no application {reference} for {force.name}.")
    return {"reference": application.reference, "force": force.id, "group": application.group_id,
            "status": application.stage.value,
            "submitted_at": application.submitted_at.isoformat().replace("+00:00", "Z")}
