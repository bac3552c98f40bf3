"""The real clock and randomness; tests pass fixed ones instead."""
from __future__ import annotations

import secrets
from datetime import datetime, timezone


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


def random_bytes(n: int) -> bytes:
    return secrets.token_bytes(n)
