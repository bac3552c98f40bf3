"""GET /openapi.json: OpenAPI 3.1, whose request schemas are the files in schemas/ as they are."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.adapters.schema_validation import load_schema
from chalicelib.api.problems import PROBLEM_JSON, TITLES, problem

api = Blueprint(__name__)

_PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "required": ["pointer", "detail"],
                                              "properties": {"pointer": {"type": "string"}, "detail": {"type": "string"}}}},
    },
}

_GROUP = {
    "type": "object",
    "required": ["id", "name", "kind", "open_to_applicants", "screening"],
    "properties": {
        "id": {"type": "string"}, "name": {"type": "string"},
        "kind": {"enum": ["local", "specialist", "strategic"]},
        "open_to_applicants": {"type": "boolean"},
        "screening": {"enum": ["none", "basic", "limited"]},
        "closed_reason": {"type": "string"},
    },
}

_SUBMISSION = {
    "type": "object",
    "required": ["reference", "force", "group", "status", "reasons", "screening", "submitted_at"],
    "properties": {
        "reference": {"type": "string"}, "force": {"type": "string"}, "group": {"type": "string"},
        "status": {"enum": ["ineligible", "awaiting_review"]},
        "reasons": {"type": "array", "items": {"type": "object", "required": ["code", "message"]}},
        "screening": {"enum": ["none", "basic", "limited"]},
        "submitted_at": {"type": "string", "format": "date-time"},
    },
}


def _problems(*statuses: int) -> dict:
    return {str(s): {"description": "A problem (RFC 9457)",
                     "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}} for s in statuses}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


FORCE_ID = {"name": "force_id", "in": "path", "required": True, "schema": {"type": "string"},
            "examples": {"derbyshire": {"value": "derbyshire"}}}

# A valid application (the one in tests/events/application.json): clients see a working request, and
# schemathesis (`make check`) submits it, so the 201 path is checked as well as the refusals.
EXAMPLE_APPLICATION = {
    "group": "derbyshire-iag",
    "applicant": {"given_name": "Amira", "family_name": "Khan", "email": "amira.khan@example.org",
                  "phone": "01632 960 001", "date_of_birth": "1985-03-27", "postcode": "DE5 3RS"},
    "connection_to_area": "lives",
    "statements": {
        "motivation": "I want policing in my town to earn the trust of young people.",
        "communities": "I run a youth football club and volunteer at a food bank.",
        "engagement": "Through the club's parents' group and the mosque's community evenings.",
    },
    "declarations": {"police_employee": False, "police_connection": False, "judiciary_connection": False,
                     "civic_role": False, "convictions_or_police_contact": ""},
    "consent": {"privacy_notice": True},
}

_OPERATOR = {
    "type": "object",
    "required": ["id", "role", "force", "groups"],
    "properties": {
        "id": {"type": "string"},
        "role": {"enum": ["platform", "force_admin", "coordinator", "auditor"]},
        "force": {"type": ["string", "null"]},
        "groups": {"type": "array", "items": {"type": "string"}},
    },
}


def document() -> dict:
    from chalicelib.api.openapi_admin import SECURITY_SCHEMES, admin_paths

    return {
        "openapi": "3.1.0",
        "info": {"title": "IAG Back Office", "version": "1.0.0",
                 "description": "Apply to a police force's Independent Advisory Group, and read its groups."},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": {
            "/forces": {"get": {"operationId": "listForces", "summary": "Every force and its groups",
                                "responses": {"200": _json({"type": "object", "required": ["forces"], "properties": {
                                    "forces": {"type": "array", "items": {"$ref": "#/components/schemas/ForceSummary"}}}},
                                    "The forces")}}},
            "/forces/{force_id}": {"get": {
                "operationId": "getForce", "summary": "One force: groups, eligibility in plain English, contacts",
                "parameters": [FORCE_ID],
                "responses": {"200": _json({"$ref": "#/components/schemas/ForceSummary"}, "The force"), **_problems(404)}}},
            "/forces/{force_id}/applications": {"post": {
                "operationId": "submitApplication", "summary": "Apply to one of the force's groups",
                "parameters": [FORCE_ID, {"name": "Idempotency-Key", "in": "header", "required": False,
                                          "description": "A retry with the same key gets the first answer, not a second application.",
                                          "schema": {"type": "string", "minLength": 1, "maxLength": 255}}],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Application"},
                    "examples": {"derbyshire": {"summary": "An application to Derbyshire's IAG",
                                                "value": EXAMPLE_APPLICATION}}}}},
                "responses": {
                    "201": {**_json({"$ref": "#/components/schemas/Submission"},
                                    "Received; eligibility assessed. A repeat from an address with a live application "
                                    "to the group is answered the same way (the panel and the address are told)"),
                            "headers": {"Location": {"schema": {"type": "string"}}}},
                    **_problems(400, 404, 413, 415, 422, 429)}}},
            "/forces/{force_id}/applications/{reference}": {"get": {
                "operationId": "getApplicationStatus", "summary": "Where an application stands (no personal data)",
                "parameters": [FORCE_ID, {"name": "reference", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _json({"type": "object", "required": ["reference", "status"]}, "The status"),
                              **_problems(404)}}},
            "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document",
                                      "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")}}},
            "/problems/{name}": {"get": {
                "operationId": "describeProblem", "summary": "What a problem type means",
                "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"enum": sorted(TITLES)}}],
                "responses": {"200": _json({"type": "object"}, "The problem type"), **_problems(404)}}},
            **admin_paths(),
        },
        "components": {"securitySchemes": SECURITY_SCHEMES, "schemas": {
            "Application": load_schema("application"),
            "Submission": _SUBMISSION,
            "ForceSummary": {"type": "object", "required": ["id", "name", "groups"], "properties": {
                "id": {"type": "string"}, "name": {"type": "string"},
                "groups": {"type": "array", "items": {"$ref": "#/components/schemas/Group"}}}},
            "Group": _GROUP,
            "Problem": _PROBLEM,
            "Operator": _OPERATOR,
        }},
    }


@api.route("/openapi.json", methods=["GET"])
def openapi_json():
    return document()


@api.route("/problems/{name}", methods=["GET"])
def describe_problem(name):
    if name not in TITLES:
        return problem(404, "not-found", f"No problem type '{name}'.")
    return {"type": f"/problems/{name}", "title": TITLES[name]}
