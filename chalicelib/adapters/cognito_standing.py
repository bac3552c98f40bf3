"""Whether a verified operator token still stands: the account is enabled and has not signed out since.

A Cognito ID token stays valid until it expires (an hour), whatever happens to the account. So every operator
request also asks the pool (AdminGetUser: one call) whether the account is enabled, and compares the token's
issue time with the account's `custom:signed_out_at`, which signing out sets together with a global sign-out
(revoking every refresh token, so no new ID token can be had without the password).
"""
from __future__ import annotations

import time
from typing import Callable, Optional

from chalicelib.services.ports import Unauthenticated

SIGNED_OUT_AT = "custom:signed_out_at"


class CognitoStanding:
    def __init__(self, pool_id: str, region: str, endpoint: Optional[str], clock: Callable[[], float] = time.time):
        self._pool_id = pool_id
        self._region = region
        self._endpoint = endpoint
        self._clock = clock
        self._client = None

    def check(self, claims: dict) -> None:
        client = self._cognito()
        try:
            user = client.admin_get_user(UserPoolId=self._pool_id, Username=claims["cognito:username"])
        except (client.exceptions.UserNotFoundException, KeyError):
            raise Unauthenticated("this operator account no longer exists") from None
        if not user.get("Enabled", True):
            raise Unauthenticated("this operator account is disabled")
        attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
        signed_out_at = int(attributes.get(SIGNED_OUT_AT) or 0)
        if int(claims.get("iat", 0)) <= signed_out_at:
            raise Unauthenticated("this sign-in has ended: sign in again")

    def sign_out(self, claims: dict) -> None:
        """End every sign-in of this operator: tokens already issued are refused from now on."""
        client, username = self._cognito(), claims["cognito:username"]
        client.admin_update_user_attributes(UserPoolId=self._pool_id, Username=username, UserAttributes=[
            {"Name": SIGNED_OUT_AT, "Value": str(int(self._clock()))}])
        client.admin_user_global_sign_out(UserPoolId=self._pool_id, Username=username)

    def _cognito(self):
        if self._client is None:
            import boto3

            self._client = boto3.client("cognito-idp", region_name=self._region, endpoint_url=self._endpoint)
        return self._client
