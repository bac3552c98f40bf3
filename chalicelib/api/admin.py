"""The admin API: operators' routes, behind the operator pool (Cognito).

In AWS, API Gateway's Cognito authorizer refuses a request without a valid token before the function runs.
`chalice local` does not check those tokens, so every route here also verifies the token itself (same keys,
issuer and client) and then asks the operator's role (domain/operators.py) before it reads or changes anything.
"""
from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Callable

from chalice import Blueprint, CognitoUserPoolAuthorizer, Response

from chalicelib import bootstrap
from chalicelib.api.problems import MalformedBody, parse_json, problem
from chalicelib.domain.operators import Operator, OperatorRefused
from chalicelib.services.refusals import AdminConflict, InvalidRequest, NotFound, Unauthenticated
from chalicelib.web.responses import body_bytes

# `chalice package` writes this ARN into the template; infra/resources.json replaces it with the pool it creates.
POOL_ARN_PLACEHOLDER = "arn:aws:cognito-idp:eu-west-2:000000000000:userpool/eu-west-2_OperatorPool"
operator_pool = CognitoUserPoolAuthorizer(
    "OperatorPool", provider_arns=[os.environ.get("IAG_COGNITO_POOL_ARN", POOL_ARN_PLACEHOLDER)])

admin = Blueprint(__name__)


def as_operator(handler: Callable) -> Callable:
    """Run `handler(operator, ...)` for a verified operator; 401 without one, 403 when the role refuses."""
    def route(*args, **kwargs):
        request = admin.current_request
        try:
            operator = bootstrap.container().operators().operator(request.headers.get("authorization", ""))
        except Unauthenticated as error:
            return problem(401, "unauthenticated", str(error), headers={"WWW-Authenticate": "Bearer"})
        except OperatorRefused as error:
            return problem(403, "forbidden", str(error))
        try:
            return handler(operator, *args, **kwargs)
        except OperatorRefused as error:
            return problem(403, "forbidden", str(error))

    route.__name__ = handler.__name__
    return route


def json_response(body, status: int = 200) -> Response:
    return Response(body=json.dumps(body), status_code=status,
                    headers={"Content-Type": "application/json", "Cache-Control": "no-store"})


@admin.route("/admin/me", methods=["GET"], authorizer=operator_pool)
@as_operator
def who_am_i(operator: Operator):
    return json_response({"id": operator.id, "role": operator.role.value, "force": operator.force_id,
                          "groups": sorted(operator.group_ids)})


def _service_errors(handler: Callable) -> Callable:
    """The admin service's refusals as problem responses: nothing was changed."""
    def route(operator, *args, **kwargs):
        try:
            return handler(operator, *args, **kwargs)
        except NotFound as error:
            return problem(404, "not-found", str(error))
        except InvalidRequest as error:
            return problem(400, "invalid-request", str(error))
        except AdminConflict as error:
            return problem(409, "conflict", str(error))

    route.__name__ = handler.__name__
    return route


def operator_route(path: str, methods: list[str], **options):
    """A route for verified operators only: the pool's authorizer in AWS, and the token checked here too."""
    def register(handler: Callable) -> Callable:
        return admin.route(path, methods=methods, authorizer=operator_pool, **options)(
            as_operator(_service_errors(handler)))
    return register


def _service():
    return bootstrap.container().admin


def request_json() -> dict:
    try:
        body = parse_json(body_bytes(admin.current_request) or b"null")
    except MalformedBody:
        raise InvalidRequest("send a JSON object") from None
    if not isinstance(body, dict):
        raise InvalidRequest("send a JSON object")
    return body


def _query(name: str, default: str | None = None) -> str | None:
    params = admin.current_request.query_params
    return params.get(name, default) if params else default


@operator_route("/admin/forces/{force_id}/groups/{group_id}/applications", ["GET"])
def list_applications(operator, force_id, group_id):
    try:
        limit = int(_query("limit", "25"))
    except ValueError:
        raise InvalidRequest("limit must be a whole number") from None
    try:
        page = _service().applications(operator, force_id, group_id, _query("stage", "awaiting_review"),
                                       limit=limit, next_token=_query("next"))
    except ValueError as error:  # a page token that is not ours
        raise InvalidRequest(str(error)) from None
    return json_response(page)


@operator_route("/admin/forces/{force_id}/applications/{reference}", ["GET"])
def show_application(operator, force_id, reference):
    return json_response(_service().application(operator, force_id, reference))


@operator_route("/admin/forces/{force_id}/applications/{reference}/retry", ["POST"])
def retry_run(operator, force_id, reference):
    return json_response(_service().retry(operator, force_id, reference))


@operator_route("/admin/forces/{force_id}/applications/{reference}/cancel", ["POST"])
def cancel_run(operator, force_id, reference):
    return json_response(_service().cancel(operator, force_id, reference))


@operator_route("/admin/forces/{force_id}/applications/{reference}/resend", ["POST"])
def resend_links(operator, force_id, reference):
    return json_response(_service().resend(operator, force_id, reference))


@operator_route("/admin/forces/{force_id}/applications/{reference}/residency", ["POST"])
def confirm_residency(operator, force_id, reference):
    """The coordinator saw the applicant's evidence of residency: the application goes on towards the offer."""
    return json_response(_service().confirm_residency(operator, force_id, reference))


@operator_route("/admin/forces/{force_id}/groups/{group_id}/reviewers", ["GET"])
def list_reviewers(operator, force_id, group_id):
    return json_response(_service().reviewers(operator, force_id, group_id))


@operator_route("/admin/forces/{force_id}/groups/{group_id}/reviewers/{role}", ["PUT"])
def set_reviewer(operator, force_id, group_id, role):
    body = request_json()
    return json_response(_service().set_reviewer(operator, force_id, group_id, role, str(body.get("name") or ""),
                                                 str(body.get("email") or "")))


@operator_route("/admin/forces/{force_id}/groups/{group_id}/export", ["GET"])
def export_group(operator, force_id, group_id):
    text = _service().export(operator, force_id, group_id)
    return Response(body=text, status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="{force_id}-{group_id}-applications.csv"'})


@operator_route("/admin/forces/{force_id}/access-log", ["GET"])
def access_log(operator, force_id):
    try:
        month = datetime.strptime(_query("month") or bootstrap.container().clock.now().strftime("%Y-%m"), "%Y-%m")
    except ValueError:
        raise InvalidRequest("month must look like 2026-11") from None
    return json_response({"month": f"{month:%Y-%m}", "reads": _service().access_log(operator, force_id, month)})


@operator_route("/admin/forces/{force_id}/reports/equality", ["GET"])
def equality_report(operator, force_id):
    return json_response(_service().equality_report(operator, force_id, _query("period")).to_dict())


@operator_route("/admin/forces/{force_id}/reports/recruitment", ["GET"])
def recruitment_report(operator, force_id):
    group_id = _query("group")
    answer = _service().recruitment(operator, force_id, group_id)
    if not group_id:  # the force's report objects, which the pages also draw
        answer = {"funnel": answer["funnel"].to_dict(), "queues": answer["queues"].to_dict()}
    return json_response(answer)


@operator_route("/admin/forces/{force_id}/subject-access", ["POST"])
def request_subject_access(operator, force_id):
    """The package goes to the person by a single-use link; the answer is the request, never the package."""
    body = request_json()
    return json_response(_service().request_subject_access(
        operator, force_id, email=body.get("email") and str(body["email"]),
        reference=body.get("reference") and str(body["reference"])), status=202)


@operator_route("/admin/forces/{force_id}/subject-access", ["GET"])
def subject_access_requests(operator, force_id):
    return json_response({"requests": _service().subject_access_requests(operator, force_id)})


@operator_route("/admin/forces/{force_id}/applications/{reference}/erasure", ["POST"])
def erase(operator, force_id, reference):
    body = request_json()
    return json_response(_service().erase(operator, force_id, reference, reason=str(body.get("reason") or ""),
                                          confirm=str(body.get("confirm") or "")))


@operator_route("/admin/forces/{force_id}/roles", ["GET"])
def list_roles(operator, force_id):
    return json_response(bootstrap.container().roles.list(operator, force_id))


@operator_route("/admin/forces/{force_id}/roles/{scope}/{role}", ["PUT"])
def set_role(operator, force_id, scope, role):
    body = request_json()
    return json_response(bootstrap.container().roles.set(operator, force_id, scope, role,
                                                         str(body.get("name") or ""), str(body.get("email") or "")))


@operator_route("/admin/forces/{force_id}/members/import", ["POST"])
def import_members(operator, force_id):
    """A JSON body {"csv": "...", "dry_run": true|false} (a dry run unless told otherwise): 200 with the report,
    or 422 problem+json holding it when a real run found problems (then nothing was changed)."""
    body = request_json()
    if not isinstance(body.get("csv"), str) or not isinstance(body.get("dry_run", True), bool):
        raise InvalidRequest("send {\"csv\": the file's text, \"dry_run\": true or false}")
    report = bootstrap.container().member_import.run(operator, force_id, body["csv"],
                                                     dry_run=body.get("dry_run", True))
    if report["problems"] and not report["dry_run"]:
        return problem(422, "import-refused", f"{len(report['problems'])} problems; see 'report'", report=report)
    return json_response(report)
