"""Operators sign in with the operator pool; the app verifies every token itself, as API Gateway does in AWS."""
from __future__ import annotations

import base64
import json
import time

import pytest

from chalicelib.adapters.cognito_tokens import CognitoTokens, issuer_for
from chalicelib.services.operators import Unauthenticated


def _me(api, token):
    return api.http.get("/admin/me", headers={"Authorization": token} if token is not None else {})


def test_a_force_administrator_is_known_by_role_and_force(operator_pool, api):
    token = operator_pool.token("ann", "force_admin", "derbyshire")
    answer = _me(api, token)
    assert answer.status_code == 200
    assert json.loads(answer.body) | {"id": None} == {"id": None, "role": "force_admin", "force": "derbyshire",
                                                      "groups": []}


def test_a_bearer_prefix_is_accepted(operator_pool, api):
    token = operator_pool.token("cat", "coordinator", "thames-valley", "reading, oxford")
    body = json.loads(_me(api, f"Bearer {token}").body)
    assert (body["role"], body["groups"]) == ("coordinator", ["oxford", "reading"])


def test_no_token_is_refused_with_401(operator_pool, api):
    answer = _me(api, None)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def _forged(token: str, **changes) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_a_token_whose_claims_were_changed_is_refused(operator_pool, api):
    """chalice local would accept this: it reads the claims without checking the signature."""
    token = operator_pool.token("dan", "auditor", "derbyshire")
    answer = _me(api, _forged(token, **{"custom:force_id": "northamptonshire", "cognito:groups": ["platform"]}))
    assert answer.status_code == 401


def test_a_token_signed_with_another_key_is_refused(operator_pool, api):
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"iss": issuer_for("eu-west-2", operator_pool.pool_id), "aud": operator_pool.client_id,
              "sub": "mallory", "token_use": "id", "iat": int(time.time()), "exp": int(time.time()) + 600,
              "cognito:groups": ["platform"]}
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "dummy"})
    assert _me(api, token).status_code == 401


def test_an_unsigned_token_is_refused(operator_pool, api):
    token = operator_pool.token("eve", "platform")
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": "dummy"}).encode()).rstrip(b"=").decode()
    assert _me(api, header + "." + token.split(".")[1] + ".").status_code == 401


def test_another_pools_or_clients_token_is_refused(operator_pool):
    token = operator_pool.token("fay", "platform")
    from tests.conftest import moto_pool_keys

    with pytest.raises(Unauthenticated):
        CognitoTokens(issuer_for("eu-west-2", "eu-west-2_other"), operator_pool.client_id, moto_pool_keys).claims(token)
    with pytest.raises(Unauthenticated):
        CognitoTokens(issuer_for("eu-west-2", operator_pool.pool_id), "another-client", moto_pool_keys).claims(token)


def _signed_by_the_pool(claims: dict) -> str:
    """A token signed with the key moto's pools sign with: valid but for what the test changes."""
    import gzip
    from pathlib import Path

    import jwt
    import moto.cognitoidp

    private = json.loads(gzip.decompress(
        (Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz").read_bytes()))
    return jwt.encode(claims, jwt.PyJWK.from_dict(private).key, algorithm="RS256", headers={"kid": "dummy"})


def test_an_expired_token_is_refused(operator_pool, api):
    operator_pool.token("ivy", "platform")  # the account exists and is enabled: only the expiry differs
    now = int(time.time())
    claims = {"iss": issuer_for("eu-west-2", operator_pool.pool_id), "aud": operator_pool.client_id, "sub": "ivy",
              "cognito:username": "ivy", "token_use": "id", "cognito:groups": ["platform"]}
    assert _me(api, _signed_by_the_pool({**claims, "iat": now - 60, "exp": now + 600})).status_code == 200
    assert _me(api, _signed_by_the_pool({**claims, "iat": now - 7200, "exp": now - 3600})).status_code == 401


def test_an_access_token_is_not_an_id_token(operator_pool):
    operator_pool.token("hal", "platform")
    answer = operator_pool.client.admin_initiate_auth(
        UserPoolId=operator_pool.pool_id, ClientId=operator_pool.client_id, AuthFlow="ADMIN_NO_SRP_AUTH",
        AuthParameters={"USERNAME": "hal", "PASSWORD": "Operator-Pass-1"})
    with pytest.raises(Unauthenticated):
        operator_pool.verifier().claims(answer["AuthenticationResult"]["AccessToken"])


@pytest.mark.parametrize("role, force, groups", [
    ("", "derbyshire", ""),  # no role group
    ("force_admin", "", ""),  # a force role without a force
    ("coordinator", "derbyshire", ""),  # a coordinator of no group
])
def test_an_incomplete_operator_account_is_forbidden(operator_pool, api, role, force, groups):
    token = operator_pool.token(f"incomplete-{role}-{force}", role, force, groups)
    assert _me(api, token).status_code == 403


def test_a_disabled_operator_is_refused_at_once_though_their_token_has_not_expired(operator_pool, api):
    token = operator_pool.token("dan", "force_admin", "derbyshire")
    assert _me(api, token).status_code == 200
    operator_pool.client.admin_disable_user(UserPoolId=operator_pool.pool_id, Username="dan")
    refused = _me(api, token)
    assert refused.status_code == 401 and "disabled" in refused.body.decode()


def test_an_operator_removed_from_the_pool_is_refused(operator_pool, api):
    token = operator_pool.token("eve", "auditor", "derbyshire")
    operator_pool.client.admin_delete_user(UserPoolId=operator_pool.pool_id, Username="eve")
    assert _me(api, token).status_code == 401
