"""UK postcodes: normal form and whether one lies in a list of areas or districts."""
from __future__ import annotations

import re

# Outward code (area + district) then inward code (sector + unit), e.g. "DE5 3RS", "SW1A 1AA".
_POSTCODE = re.compile(r"^([A-Z]{1,2})([0-9][0-9A-Z]?) ?([0-9][A-Z]{2})$")


def normalise(postcode: str) -> str | None:
    """'de53rs' -> 'DE5 3RS'; None when it is not shaped like a UK postcode."""
    compact = re.sub(r"\s+", "", postcode).upper()
    match = _POSTCODE.match(compact)
    if not match:
        return None
    area, district, inward = match.groups()
    return f"{area}{district} {inward}"


def in_districts(postcode: str, districts: tuple[str, ...] | list[str]) -> bool:
    """True when the postcode's area ('NN') or district ('SK13') is listed.

    An entry of letters only names a whole postcode area; 'S' does not match 'SK13'.
    """
    normal = normalise(postcode)
    if normal is None:
        return False
    outward = normal.split(" ")[0]
    area = re.sub(r"[^A-Z].*$", "", outward)  # the letters before the first digit
    return any(entry == outward or entry == area for entry in districts)
