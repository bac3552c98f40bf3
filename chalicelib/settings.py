"""Settings from the environment, read when the first request needs them (not at import)."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Optional

# Only for the local stack and tests; a deployed stage names its secret: IAG_FORM_SECRET_NAME (Secrets Manager).
LOCAL_FORM_SECRET = "local-only-form-secret"  # nosec B105 # from_env uses it in the local stage only
# The stages .chalice/config.json defines. Anything else, or nothing, is refused: a deployed function must never
# fall back to the local stage's defaults (a local form secret, a Prefect on 127.0.0.1, simulated screening).
STAGES = ("local", "prod")
LOCAL_PREFECT_API_URL = "http://127.0.0.1:4200/api"
LOCAL_PUBLIC_BASE_URL = "http://127.0.0.1:8000"


class Misconfigured(RuntimeError):
    """The environment cannot run this stage safely; raised at start, before any request is served."""


@dataclass(frozen=True)
class Settings:
    table_name: str
    region: str
    aws_endpoint: Optional[str]  # moto in the local stack; None in AWS
    dynamodb_endpoint: Optional[str]
    public_base_url: str
    stage: str
    mail_from: str
    form_secret_value: Optional[str]
    prefect_api_url: str
    prefect_api_key_value: Optional[str]
    documents_bucket: str = "iag-documents"
    screening_provider: str = "profile"  # "simulated" replaces every force's vetting unit (local stage only)
    operator_pool_id: Optional[str] = None  # the Cognito user pool of operators
    operator_client_id: Optional[str] = None  # its app client: ID tokens must be issued to it
    operator_keys_url: Optional[str] = None  # the pool's JWKS; derived from the pool when unset
    # Names of secrets read at run time (chalicelib/adapters/secrets.py) when the values are not set directly.
    form_secret_name: Optional[str] = None
    prefect_api_key_name: Optional[str] = None
    # Where operators open a run (Prefect Cloud's UI is not beside its API); beside the API when unset.
    prefect_ui_url: Optional[str] = None
    # What the Prefect secret holds: "api-key" (Prefect Cloud: a bearer token) or "auth-string" (a self-hosted
    # server's PREFECT_SERVER_API_AUTH_STRING, sent as HTTP Basic; infra/prefect-host.json).
    prefect_auth: str = "api-key"
    # How long a process keeps the contacts operators set (chalicelib/adapters/force_contacts.py) before reading
    # them again: a change made in another process (the API for the flows) is seen within this time.
    contacts_ttl_seconds: float = 60.0

    @property
    def is_local(self) -> bool:
        return self.stage == "local"

    @property
    def form_secret(self) -> bytes:
        """Signs form tokens. Asked for by the web pages only, so the JSON API runs without it."""
        if self.form_secret_value:
            return self.form_secret_value.encode()
        if self.form_secret_name:
            return self._secret(self.form_secret_name).encode()
        raise RuntimeError("IAG_FORM_SECRET_NAME (or IAG_FORM_SECRET) must be set outside the local stage")

    @property
    def prefect_api_key(self) -> Optional[str]:
        if self.prefect_api_key_value or not self.prefect_api_key_name:
            return self.prefect_api_key_value
        return self._secret(self.prefect_api_key_name)

    def _secret(self, name: str) -> str:
        from chalicelib.adapters.secrets import read_secret

        return read_secret(name, self.region, self.aws_endpoint)

    @property
    def operator_issuer(self) -> str:
        if not self.operator_pool_id or not self.operator_client_id:
            raise RuntimeError("IAG_COGNITO_POOL_ID and IAG_COGNITO_CLIENT_ID must be set for the admin API")
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.operator_pool_id}"

    @property
    def operator_jwks_url(self) -> str:
        if self.operator_keys_url:
            return self.operator_keys_url
        if self.aws_endpoint:  # moto serves every pool's keys at its own address
            return f"{self.aws_endpoint.rstrip('/')}/{self.operator_pool_id}/.well-known/jwks.json"
        return f"{self.operator_issuer}/.well-known/jwks.json"

    @classmethod
    def from_env(cls, env=os.environ) -> "Settings":
        """Settings for IAG_STAGE. Outside the local stage every value that has a local default must be set."""
        stage = env.get("IAG_STAGE")
        if stage not in STAGES:
            raise Misconfigured(f"IAG_STAGE must be one of {', '.join(STAGES)}, not {stage!r}")
        local = stage == "local"
        if not local:
            missing = [name for name, present in (
                ("IAG_PREFECT_API_URL", env.get("IAG_PREFECT_API_URL") or env.get("PREFECT_API_URL")),
                ("IAG_PUBLIC_BASE_URL", env.get("IAG_PUBLIC_BASE_URL")),
                ("IAG_MAIL_FROM", env.get("IAG_MAIL_FROM"))) if not present]
            if missing:
                raise Misconfigured(f"the {stage} stage needs {', '.join(missing)}: nothing falls back to a local "
                                    "default outside the local stage")
        aws_endpoint = env.get("IAG_AWS_ENDPOINT") or env.get("AWS_ENDPOINT_URL") or None
        return cls(
            table_name=env.get("IAG_TABLE", "iag-backoffice"),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "eu-west-2",
            aws_endpoint=aws_endpoint,
            dynamodb_endpoint=env.get("IAG_DYNAMODB_ENDPOINT") or env.get("AWS_ENDPOINT_URL_DYNAMODB") or aws_endpoint,
            public_base_url=(env.get("IAG_PUBLIC_BASE_URL") or LOCAL_PUBLIC_BASE_URL).rstrip("/"),
            stage=stage,
            mail_from=env.get("IAG_MAIL_FROM", "IAG Back Office <no-reply@iag-backoffice.example>"),
            form_secret_value=env.get("IAG_FORM_SECRET") or (
                LOCAL_FORM_SECRET if local and not env.get("IAG_FORM_SECRET_NAME") else None),
            prefect_api_url=env.get("IAG_PREFECT_API_URL") or env.get("PREFECT_API_URL") or LOCAL_PREFECT_API_URL,
            prefect_api_key_value=env.get("IAG_PREFECT_API_KEY") or None,
            form_secret_name=env.get("IAG_FORM_SECRET_NAME") or None,
            prefect_api_key_name=env.get("IAG_PREFECT_API_KEY_NAME") or None,
            prefect_ui_url=env.get("IAG_PREFECT_UI_URL") or None,
            prefect_auth=_prefect_auth(env.get("IAG_PREFECT_AUTH") or "api-key"),
            documents_bucket=env.get("IAG_DOCUMENTS_BUCKET", "iag-documents"),
            operator_pool_id=env.get("IAG_COGNITO_POOL_ID") or None,
            operator_client_id=env.get("IAG_COGNITO_CLIENT_ID") or None,
            operator_keys_url=env.get("IAG_COGNITO_JWKS_URL") or None,
            contacts_ttl_seconds=_seconds("IAG_CONTACTS_TTL_SECONDS", env.get("IAG_CONTACTS_TTL_SECONDS"), 60.0),
            screening_provider=_screening_provider(stage, env.get("IAG_SCREENING", "simulated" if local
                                                                  else "profile")),
        )

    def check_api(self) -> "Settings":
        """What the API function needs besides the common settings: a named form secret and the operator pool.
        Checked at the function's start, so a misconfigured deployment never serves a request."""
        if not self.is_local:
            missing = [name for name, present in (
                ("IAG_FORM_SECRET_NAME (or IAG_FORM_SECRET)", self.form_secret_value or self.form_secret_name),
                ("IAG_COGNITO_POOL_ID", self.operator_pool_id),
                ("IAG_COGNITO_CLIENT_ID", self.operator_client_id)) if not present]
            if missing:
                raise Misconfigured(f"the {self.stage} stage's API needs {', '.join(missing)}")
        return self


def _seconds(name: str, value: Optional[str], default: float) -> float:
    """A duration in seconds from the environment: unset or empty is the default; anything but a finite number
    of seconds, zero or more, is refused at start rather than read as some other time."""
    if value is None or not value.strip():
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise Misconfigured(f"{name} must be a number of seconds, not {value!r}") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise Misconfigured(f"{name} must be a finite number of seconds, zero or more, not {value!r}")
    return seconds


def _prefect_auth(chosen: str) -> str:
    if chosen not in ("api-key", "auth-string"):
        raise Misconfigured(f"IAG_PREFECT_AUTH must be 'api-key' or 'auth-string', not {chosen!r}")
    return chosen


def _screening_provider(stage: str, chosen: str) -> str:
    if chosen not in ("simulated", "profile"):
        raise Misconfigured(f"IAG_SCREENING must be 'simulated' or 'profile', not {chosen!r}")
    if chosen == "simulated" and stage != "local":
        raise Misconfigured("the simulated screening provider is for the local stage only")
    return chosen
