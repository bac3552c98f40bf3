"""Verifying the operator pool's ID tokens (Cognito in AWS, moto's Cognito locally) against its published keys.

API Gateway's Cognito authorizer already checks tokens in AWS, but `chalice local` does not (it decodes a token
without checking its signature, and lets a request with no token through). The admin routes therefore verify
every token here, in every stage, so nothing is open locally that is closed in AWS.
"""
from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Callable, Optional

from chalicelib.domain.operators import Operator, operator_from_claims
from chalicelib.services.ports import Unauthenticated

KEYS_CACHE_SECONDS = 3600
LEEWAY_SECONDS = 30  # clock skew between Cognito and the function


def issuer_for(region: str, pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"


def fetch_keys(url: str, *, moto_endpoint: Optional[str] = None) -> Callable[[], dict]:
    """A loader of the pool's JWKS document. moto serves it only to requests that look signed for cognito-idp."""
    headers = {"Accept": "application/json"}
    if moto_endpoint:
        headers["Authorization"] = ("AWS4-HMAC-SHA256 Credential=local/20260101/eu-west-2/cognito-idp/aws4_request, "
                                    "SignedHeaders=host, Signature=local")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def load() -> dict:
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise Unauthenticated("the operator pool's keys must come over https")
        request = urllib.request.Request(url, headers=headers)
        with opener.open(request, timeout=5) as response:  # nosec B310 # https or local only, checked above
            return json.loads(response.read())

    return load


class CognitoTokens:
    def __init__(self, issuer: str, client_id: str, load_keys: Callable[[], dict], clock: Callable[[], float] = time.time,
                 standing=None):
        self._standing = standing  # CognitoStanding: the account is enabled and has not signed out since
        self._issuer = issuer
        self._client_id = client_id
        self._load_keys = load_keys
        self._clock = clock
        self._keys: dict = {}
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def operator(self, token: str) -> Operator:
        return operator_from_claims(self.claims(token))

    def claims(self, token: str) -> dict:
        import jwt  # PyJWT with cryptography: only admin requests pay for it

        token = (token or "").removeprefix("Bearer ").strip()
        if not token:
            raise Unauthenticated("sign in as an operator: no token was sent")
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "RS256":
                raise Unauthenticated("the token is not signed as the operator pool signs")
            key = self._key(header.get("kid"))
            claims = jwt.decode(token, key, algorithms=["RS256"], audience=self._client_id, issuer=self._issuer,
                                leeway=LEEWAY_SECONDS, options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"the token was refused: {error}") from None
        if claims.get("token_use") != "id":
            raise Unauthenticated("send the ID token the operator pool issued at sign-in")
        if self._standing is not None:
            self._standing.check(claims)
        return claims

    def sign_out(self, token: str) -> None:
        """End the operator's sign-ins everywhere; a token that no longer verifies has nothing to end."""
        claims = self.claims(token)
        if self._standing is not None:
            self._standing.sign_out(claims)

    def _key(self, kid: Optional[str]):
        import jwt

        with self._lock:
            stale = self._clock() - self._loaded_at > KEYS_CACHE_SECONDS
            if stale or kid not in self._keys:
                # A new kid may be a key rotation: reload, but at most once a minute.
                if stale or self._clock() - self._loaded_at > 60:
                    document = self._load_keys()
                    self._keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(document).keys if k.key_id}
                    self._loaded_at = self._clock()
            if kid not in self._keys:
                raise Unauthenticated("the token was signed by a key the operator pool does not publish")
            return self._keys[kid].key
