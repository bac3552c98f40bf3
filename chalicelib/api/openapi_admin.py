"""The admin API's part of /openapi.json: every route needs an operator pool ID token."""
from __future__ import annotations

from chalicelib.api.problems import PROBLEM_JSON

SECURITY_SCHEMES = {"OperatorPool": {
    "type": "apiKey", "in": "header", "name": "Authorization",
    "description": "An ID token from the operator pool (Cognito), with or without 'Bearer '."}}

_SECURED = [{"OperatorPool": []}]
_FORCE = {"name": "force_id", "in": "path", "required": True, "schema": {"type": "string"}}
_GROUP = {"name": "group_id", "in": "path", "required": True, "schema": {"type": "string"}}
_REFERENCE = {"name": "reference", "in": "path", "required": True, "schema": {"type": "string"}}
_OBJECT = {"type": "object"}


def _problems(*statuses: int) -> dict:
    return {str(s): {"description": "A problem (RFC 9457)",
                     "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}} for s in statuses}


def _operation(operation_id: str, summary: str, parameters: list, answer: dict, *problems: int,
               body: dict = None, description: str = "") -> dict:
    operation = {"operationId": operation_id, "summary": summary, "security": _SECURED, "parameters": parameters,
                 "responses": {"200": answer, **_problems(401, 403, 404, *problems)}}
    if description:
        operation["description"] = description
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return operation


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _json_or_html(description: str) -> dict:
    return {"description": f"{description}: JSON, or an HTML page when asked with Accept: text/html or ?format=html",
            "content": {"application/json": {"schema": _OBJECT}, "text/html": {"schema": {"type": "string"}}}}


_DONE = _json({"type": "object", "required": ["done"]}, "What was done")
_PAGE = _json({"type": "object", "required": ["applications", "next"], "properties": {
    "applications": {"type": "array", "items": {"type": "object", "required": ["reference", "group", "stage"]}},
    "next": {"type": ["string", "null"]}}}, "A page of applications, newest first")
_QUERY = {"in": "query", "required": False}


def admin_paths() -> dict:
    return {
        "/admin/me": {"get": {"operationId": "whoAmI", "summary": "The signed-in operator's role, force and groups",
                              "security": _SECURED, "responses": {"200": _json({"$ref": "#/components/schemas/Operator"}, "The operator"),
                                                                  **_problems(401, 403)}}},
        "/admin/forces/{force_id}/groups/{group_id}/applications": {"get": _operation(
            "listApplications", "A group's applications at one stage, newest first, a page at a time",
            [_FORCE, _GROUP, {"name": "stage", **_QUERY, "schema": {"type": "string", "default": "awaiting_review"}},
             {"name": "limit", **_QUERY, "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
             {"name": "next", **_QUERY, "schema": {"type": "string"}}], _PAGE, 400)},
        "/admin/forces/{force_id}/applications/{reference}": {"get": _operation(
            "showApplication", "One application, its timeline (moves, decisions, reads) and its flow runs",
            [_FORCE, _REFERENCE], _json(_OBJECT, "The application"))},
        "/admin/forces/{force_id}/applications/{reference}/retry": {"post": _operation(
            "retryRun", "Start, rerun or wake the application's flow run", [_FORCE, _REFERENCE], _DONE, 409)},
        "/admin/forces/{force_id}/applications/{reference}/cancel": {"post": _operation(
            "cancelRun", "Stop the application's flow run (the application keeps its stage)", [_FORCE, _REFERENCE],
            _DONE, 409)},
        "/admin/forces/{force_id}/applications/{reference}/resend": {"post": _operation(
            "resendLinks", "Fresh links to whoever the application waits for", [_FORCE, _REFERENCE], _DONE, 409)},
        "/admin/forces/{force_id}/applications/{reference}/residency": {"post": _operation(
            "confirmResidency", "Record that a coordinator has seen the applicant's evidence of residency; the "
            "application goes on towards the offer", [_FORCE, _REFERENCE], _DONE, 409)},
        "/admin/forces/{force_id}/groups/{group_id}/reviewers": {"get": _operation(
            "listReviewers", "Who holds each panel role of the group", [_FORCE, _GROUP], _json(_OBJECT, "The panel"))},
        "/admin/forces/{force_id}/groups/{group_id}/reviewers/{role}": {"put": _operation(
            "setReviewer", "Give a panel role to a person; requests waiting on the role go to them",
            [_FORCE, _GROUP, {"name": "role", "in": "path", "required": True, "schema": {"type": "string"}}],
            _json(_OBJECT, "The panel role"), 400,
            body={"type": "object", "required": ["name", "email"], "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 120},
                "email": {"type": "string", "format": "email", "maxLength": 254}}})},
        "/admin/forces/{force_id}/groups/{group_id}/export": {"get": _operation(
            "exportGroup", "The group's applications as CSV (no equality answers)", [_FORCE, _GROUP],
            {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}})},
        "/admin/forces/{force_id}/reports/equality": {"get": _operation(
            "equalityReport", "Equality monitoring counts per group, small counts hidden, beside population shares",
            [_FORCE], _json(_OBJECT, "The report"))},
        "/admin/forces/{force_id}/reports/recruitment": {"get": _operation(
            "recruitmentReport", "The recruitment funnel and review queues, of the force or one group",
            [_FORCE, {"name": "group", **_QUERY, "schema": {"type": "string"}}], _json(_OBJECT, "The report"))},
        "/admin/forces/{force_id}/subject-access": {"get": _operation(
            "subjectAccess", "Everything held about one person, found by email or by one application's reference",
            [_FORCE, {"name": "email", **_QUERY, "schema": {"type": "string"}},
             {"name": "reference", **_QUERY, "schema": {"type": "string"}},
             {"name": "format", **_QUERY, "schema": {"enum": ["json", "html"]}}],
            _json_or_html("The export"), 400)},
        "/admin/forces/{force_id}/applications/{reference}/erasure": {"post": _operation(
            "erase", "Erase the person who made this application: identity removed, anonymised audit kept",
            [_FORCE, _REFERENCE], _json(_OBJECT, "What was erased"), 400,
            body={"type": "object", "required": ["reason", "confirm"], "properties": {
                "reason": {"type": "string", "minLength": 1, "maxLength": 500},
                "confirm": {"type": "string", "description": "The reference again"}}})},
        "/admin/forces/{force_id}/access-log": {"get": _operation(
            "accessLog", "Who read what in a month", [_FORCE, {"name": "month", **_QUERY, "schema": {
                "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}}], _json(_OBJECT, "The reads"), 400)},
    }
