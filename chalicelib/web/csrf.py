"""Form tokens against cross-site posts: signed, bound to one force's form, and expiring.

No cookie or session is needed: the token proves the form came from this
service recently; the Origin check refuses posts sent from other sites.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Optional

MAX_AGE_SECONDS = 4 * 60 * 60  # time to write an application, with a break


def issue(secret: bytes, purpose: str, now: Optional[float] = None) -> str:
    issued = int(now if now is not None else time.time())
    nonce = secrets.token_urlsafe(12)
    return f"{issued}.{nonce}.{_mac(secret, purpose, issued, nonce)}"


def check(secret: bytes, purpose: str, token: str, now: Optional[float] = None) -> Optional[str]:
    """None when the token is good, otherwise what is wrong with it."""
    try:
        issued_text, nonce, mac = token.split(".")
        issued = int(issued_text)
    except ValueError:
        return "missing"
    if not hmac.compare_digest(mac, _mac(secret, purpose, issued, nonce)):
        return "forged"
    age = (now if now is not None else time.time()) - issued
    if age > MAX_AGE_SECONDS or age < -60:
        return "expired"
    return None


def _mac(secret: bytes, purpose: str, issued: int, nonce: str) -> str:
    return hmac.new(secret, f"{purpose}|{issued}|{nonce}".encode(), hashlib.sha256).hexdigest()
