"""Signing an operator in to the pool with a username and password (and a code from their authenticator app),
for the admin pages. The same calls work on moto's Cognito locally and on Cognito in AWS."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Optional


class SignInRefused(Exception):
    pass


@dataclass(frozen=True)
class SignInStep:
    id_token: Optional[str] = None  # signed in
    challenge: Optional[str] = None  # or the pool asks for more: SOFTWARE_TOKEN_MFA, NEW_PASSWORD_REQUIRED, MFA_SETUP
    session: Optional[str] = None  # Cognito's opaque session for answering the challenge (minutes)
    secret: Optional[str] = None  # MFA_SETUP: the key to type into an authenticator app


class CognitoSignIn:
    # Cognito's names for the answer to each challenge (field names, not secrets).
    ANSWERED = {"SOFTWARE_TOKEN_MFA": "SOFTWARE_TOKEN_MFA_CODE", "NEW_PASSWORD_REQUIRED": "NEW_PASSWORD"}  # nosec B105

    def __init__(self, client_id: str, region: str, endpoint_url: Optional[str] = None):
        self._client_id = client_id
        self._region = region
        self._endpoint_url = endpoint_url

    @cached_property
    def _cognito(self):
        import boto3

        return boto3.client("cognito-idp", region_name=self._region, endpoint_url=self._endpoint_url)

    def sign_in(self, username: str, password: str) -> SignInStep:
        return self._step(lambda: self._cognito.initiate_auth(
            ClientId=self._client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password}))

    def answer(self, challenge: str, username: str, session: str, answer: str) -> SignInStep:
        if challenge == "MFA_SETUP":
            return self._finish_mfa_setup(username, session, answer)
        if challenge not in self.ANSWERED:
            raise SignInRefused("this sign-in step is not supported here")
        return self._step(lambda: self._cognito.respond_to_auth_challenge(
            ClientId=self._client_id, ChallengeName=challenge, Session=session,
            ChallengeResponses={"USERNAME": username, self.ANSWERED[challenge]: answer}))

    def start_mfa_setup(self, session: str) -> SignInStep:
        """A first sign-in where the pool requires an authenticator app: the key the person adds to it."""
        answer = self._cognito.associate_software_token(Session=session)
        return SignInStep(challenge="MFA_SETUP", session=answer["Session"], secret=answer["SecretCode"])

    def _finish_mfa_setup(self, username: str, session: str, code: str) -> SignInStep:
        def verify_then_answer():
            verified = self._cognito.verify_software_token(Session=session, UserCode=code,
                                                           FriendlyDeviceName="IAG Back Office")
            if verified.get("Status") != "SUCCESS":
                raise self._cognito.exceptions.CodeMismatchException(
                    {"Error": {"Code": "CodeMismatchException", "Message": "code"}}, "VerifySoftwareToken")
            return self._cognito.respond_to_auth_challenge(
                ClientId=self._client_id, ChallengeName="MFA_SETUP", Session=verified["Session"],
                ChallengeResponses={"USERNAME": username})
        return self._step(verify_then_answer)

    def _step(self, call) -> SignInStep:
        errors = self._cognito.exceptions
        try:
            answer = call()
        except (errors.NotAuthorizedException, errors.UserNotFoundException, errors.CodeMismatchException,
                errors.ExpiredCodeException, errors.InvalidPasswordException, errors.EnableSoftwareTokenMFAException) as error:
            # One message for a wrong name or password: which of the two was wrong is not said.
            if isinstance(error, errors.InvalidPasswordException):
                raise SignInRefused(error.response["Error"]["Message"]) from None
            raise SignInRefused("The username, password or code is not right.") from None
        if "AuthenticationResult" in answer:
            return SignInStep(id_token=answer["AuthenticationResult"]["IdToken"])
        return SignInStep(challenge=answer.get("ChallengeName"), session=answer.get("Session"))
