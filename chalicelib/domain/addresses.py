"""Email addresses a profile may carry before the force gives its own: reserved example domains only."""
from __future__ import annotations

# Top-level names RFC 2606 / RFC 6761 reserve: never delegated, so mail to them reaches nobody. (example.com and
# its kin are reserved too, but tests use them as applicants' addresses; profiles use the .example name.)
RESERVED_TOP_LEVEL = ("example", "test", "invalid", "localhost")


def is_placeholder_address(address: str) -> bool:
    """True for an address on a reserved example domain ('iag@thames-valley.police.example')."""
    domain = address.rsplit("@", 1)[-1].strip().rstrip(".>").lower()
    return domain.rsplit(".", 1)[-1] in RESERVED_TOP_LEVEL
