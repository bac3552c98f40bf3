"""Secrets read at run time by name, so none is ever in the template or the function's environment.

A name starting with "ssm:" is an SSM Parameter Store SecureString (`ssm:/iag/notify/derbyshire`);
anything else is a Secrets Manager secret name or ARN. Values are cached for CACHE_SECONDS per
process: a warm Lambda asks once, and a rotated secret is picked up within that time.
"""
from __future__ import annotations

import time
from typing import Callable, Optional

CACHE_SECONDS = 900
SSM_PREFIX = "ssm:"


class SecretUnavailable(RuntimeError):
    """The secret does not exist, is empty, or this role may not read it. Says which name, never the value."""


class Secrets:
    def __init__(self, region: str, endpoint_url: Optional[str] = None,
                 clock: Callable[[], float] = time.monotonic, cache_seconds: float = CACHE_SECONDS):
        self._region = region
        self._endpoint_url = endpoint_url
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, str]] = {}
        self._clients: dict[str, object] = {}

    def read(self, name: str) -> str:
        cached = self._cache.get(name)
        now = self._clock()
        if cached and now - cached[0] < self._cache_seconds:
            return cached[1]
        value = self._fetch(name)
        self._cache[name] = (now, value)
        return value

    def _fetch(self, name: str) -> str:
        from botocore.exceptions import ClientError  # boto3 is imported on first use only

        try:
            if name.startswith(SSM_PREFIX):
                answer = self._client("ssm").get_parameter(Name=name[len(SSM_PREFIX):], WithDecryption=True)
                value = answer["Parameter"]["Value"]
            else:
                value = self._client("secretsmanager").get_secret_value(SecretId=name).get("SecretString")
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "error")
            raise SecretUnavailable(f"cannot read secret {name!r}: {code}") from None
        if not value:
            raise SecretUnavailable(f"secret {name!r} is empty")
        return value

    def _client(self, service: str):
        if service not in self._clients:
            import boto3

            self._clients[service] = boto3.client(service, region_name=self._region, endpoint_url=self._endpoint_url)
        return self._clients[service]


_shared: dict[tuple[str, Optional[str]], Secrets] = {}


def read_secret(name: str, region: str, endpoint_url: Optional[str] = None) -> str:
    """The value of a secret, through one cache per process and region."""
    key = (region, endpoint_url)
    if key not in _shared:
        _shared[key] = Secrets(region, endpoint_url)
    return _shared[key].read(name)
