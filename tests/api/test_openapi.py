import json
from pathlib import Path

from openapi_spec_validator import validate as validate_openapi

from app import app

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_the_openapi_document_is_valid_openapi_3_1(api):
    document = api.http.get("/openapi.json").json_body
    assert document["openapi"].startswith("3.1")
    validate_openapi(document)


def test_the_request_schema_is_the_file_in_schemas_unchanged(api):
    document = api.http.get("/openapi.json").json_body
    body = document["paths"]["/forces/{force_id}/applications"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/Application"}
    assert document["components"]["schemas"]["Application"] == json.loads((SCHEMAS / "application.schema.json").read_text())


def test_every_json_route_of_the_app_is_documented_with_its_methods(api):
    documented = api.http.get("/openapi.json").json_body["paths"]
    json_routes = {(path, method.lower()) for path, entries in app.routes.items() for method, entry in entries.items()
                   if entry.view_function.__module__.startswith("chalicelib.api.")}
    assert len(json_routes) >= 6
    assert {(path, method) for path, methods in documented.items() for method in methods} == json_routes


def test_the_documented_example_is_the_application_the_tests_submit_and_it_is_accepted(api):
    from tests.factories import application_payload, post_json

    document = api.http.get("/openapi.json").json_body
    body = document["paths"]["/forces/{force_id}/applications"]["post"]["requestBody"]["content"]["application/json"]
    example = body["examples"]["derbyshire"]["value"]
    assert example == application_payload()
    assert post_json(api, "/forces/derbyshire/applications", example).status_code == 201


def test_the_admin_routes_are_documented_behind_the_operator_token(api):
    document = api.http.get("/openapi.json").json_body
    admin = {path: methods for path, methods in document["paths"].items() if path.startswith("/admin/")}
    assert admin
    for methods in admin.values():
        for operation in methods.values():
            assert operation["security"] == [{"OperatorPool": []}]
            assert {"401", "403"} <= set(operation["responses"])
    # API Gateway's Cognito authorizer reads the token from this header as it is.
    assert document["components"]["securitySchemes"]["OperatorPool"] == {
        **document["components"]["securitySchemes"]["OperatorPool"], "type": "apiKey", "in": "header",
        "name": "Authorization"}
