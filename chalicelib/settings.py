"""Settings from the environment, read when the first request needs them (not at import)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Settings:
    table_name: str
    region: str
    dynamodb_endpoint: Optional[str]  # moto in the local stack and tests; None in AWS
    public_base_url: str
    stage: str

    @classmethod
    def from_env(cls, env=os.environ) -> "Settings":
        return cls(
            table_name=env.get("IAG_TABLE", "iag-backoffice"),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "eu-west-2",
            dynamodb_endpoint=env.get("IAG_DYNAMODB_ENDPOINT") or env.get("AWS_ENDPOINT_URL_DYNAMODB")
            or env.get("AWS_ENDPOINT_URL") or None,
            public_base_url=env.get("IAG_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            stage=env.get("IAG_STAGE", "local"),
        )
