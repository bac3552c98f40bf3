"""The admin API: operators' routes, behind the operator pool (Cognito).

In AWS, API Gateway's Cognito authorizer refuses a request without a valid token before the function runs.
`chalice local` does not check those tokens, so every route here also verifies the token itself (same keys,
issuer and client) and then asks the operator's role (domain/operators.py) before it reads or changes anything.
"""
from __future__ import annotations

import json
import os
from typing import Callable

from chalice import Blueprint, CognitoUserPoolAuthorizer, Response

from chalicelib import bootstrap
from chalicelib.api.problems import problem
from chalicelib.services.operators import Operator, OperatorRefused, Unauthenticated

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
            operator = bootstrap.container().operator_tokens.operator(request.headers.get("authorization", ""))
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
