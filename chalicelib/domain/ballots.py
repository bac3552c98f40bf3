"""Anonymous ballot papers: what a member's spent ballot link turns into, so that no request joins voter and choice.

Spending the link (one request) answers with a ballot paper token; casting (another request) names only that
token and a candidate. The token is self-verifying (an HMAC over the election and a random nonce) so issuing it
writes nothing that names it: the only stored trace is the nonce's hash, written when it is cast, which says
nothing of who held it. Pure: the secret and the randomness come from the caller.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

NONCE_BYTES = 32
_CONTEXT = b"iag-ballot-paper\n"  # keeps these signatures apart from any other use of the same secret


@dataclass(frozen=True)
class BallotPaper:
    force_id: str
    election_id: str
    nonce: str  # hex; its SHA-256 marks the paper spent
    expires_at: datetime

    @property
    def spent_key(self) -> str:
        return hashlib.sha256(self.nonce.encode()).hexdigest()


def issue(secret: bytes, force_id: str, election_id: str, random: bytes, expires_at: datetime) -> str:
    """A ballot paper token for one election; `random` is NONCE_BYTES fresh bytes."""
    if len(random) < NONCE_BYTES:
        raise ValueError("a ballot paper needs 32 random bytes")
    body = f"{force_id}|{election_id}|{random.hex()}|{int(expires_at.timestamp())}".encode()
    return f"{_b64(body)}.{_b64(_sign(secret, body))}"


def read(secret: bytes, token: str) -> Optional[BallotPaper]:
    """The paper a token stands for, or None when it is malformed or forged. (Its expiry is the caller's to check,
    so that a late voter is told voting has closed rather than that the paper is unknown.)"""
    if not isinstance(token, str) or len(token) > 400 or token.count(".") != 1:
        return None
    encoded_body, encoded_signature = token.split(".")
    try:
        body, signature = _unb64(encoded_body), _unb64(encoded_signature)
        force_id, election_id, nonce, expires = body.decode("ascii").split("|")
        expires_at = datetime.fromtimestamp(int(expires), tz=timezone.utc)
    except (ValueError, UnicodeDecodeError):
        return None
    if not hmac.compare_digest(signature, _sign(secret, body)):
        return None
    return BallotPaper(force_id, election_id, nonce, expires_at)


def _sign(secret: bytes, body: bytes) -> bytes:
    return hmac.new(secret, _CONTEXT + body, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
