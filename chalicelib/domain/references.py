"""Application references people can read aloud: no I, L, O or U to mistake."""
from __future__ import annotations

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference(prefix: str, year: int, random_bytes: bytes) -> str:
    """'DBY-2026-7K3F9QX2' from five random bytes (40 bits: a collision is retried by storage)."""
    if len(random_bytes) != 5:
        raise ValueError("a reference takes exactly 5 random bytes")
    number = int.from_bytes(random_bytes, "big")
    chars = "".join(_CROCKFORD[(number >> shift) & 31] for shift in range(35, -1, -5))
    return f"{prefix}-{year}-{chars}"
