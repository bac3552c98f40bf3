"""How often one email address or one client address may ask the public doors to act and send mail.

Counted in DynamoDB in the same transaction as what is stored, so the limit holds across Lambda instances and
costs no extra write. Ineligible applications count like any other: each one sends an email too.
The numbers are the platform's own assumptions (no force document states them); docs/security.md explains them.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Limit:
    per: str  # "email" or "client"
    count: int
    window_seconds: int


# A community event may see many people apply from one venue's connection, so the client limit is generous; a
# person rarely applies to more than a few groups in a day.
LIMITS: dict[str, tuple[Limit, ...]] = {
    "apply": (Limit("email", 5, 24 * 3600), Limit("client", 60, 3600)),
    "pack": (Limit("email", 3, 24 * 3600), Limit("client", 20, 3600)),
}


@dataclass(frozen=True)
class RateSpend:
    """One use counted against one limit: the counter's key, the most it may reach, and when it is forgotten."""
    key: str
    limit: int
    window_ends: int  # epoch seconds; the counter item expires then (TTL)


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"too many requests; try again in {retry_after} s")
        self.retry_after = retry_after


def spends(action: str, now: datetime, *, email: str | None, client: str | None) -> tuple[RateSpend, ...]:
    """What one request of `action` counts against. Addresses are hashed: a counter never holds personal data."""
    identities = {"email": (email or "").strip().lower(), "client": (client or "").strip()}
    epoch = int(now.timestamp())
    found = []
    for limit in LIMITS[action]:
        identity = identities[limit.per]
        if not identity:
            continue
        window_start = epoch - epoch % limit.window_seconds
        digest = hashlib.sha256(f"{limit.per}:{identity}".encode()).hexdigest()[:32]
        found.append(RateSpend(f"RATE#{action}#{limit.per}#{digest}#{window_start}", limit.count,
                               window_start + limit.window_seconds))
    return tuple(found)


def retry_after(spend: RateSpend, now: datetime) -> int:
    return max(1, spend.window_ends - int(now.timestamp()))
