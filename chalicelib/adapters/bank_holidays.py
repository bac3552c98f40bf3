"""UK bank holidays, so that meetings are not set on them.

England and Wales share their bank holidays ("ENG", "WLS"); Scotland ("SCT") and Northern Ireland ("NIR")
have their own. The one-off ones (a coronation, a state funeral) come with the `holidays` package, so
this list is only as current as the installed version of it.
"""
from __future__ import annotations

from datetime import date

SUBDIVISIONS = ("ENG", "WLS", "SCT", "NIR")


def bank_holidays(years: range | list[int], subdivision: str = "ENG") -> frozenset[date]:
    """The bank holiday dates of `years` in a UK `subdivision`, with substitute days for weekend ones.

    The weekend day itself (Boxing Day on a Saturday) is included too: no one wants to meet on it either.
    """
    if subdivision not in SUBDIVISIONS:
        raise ValueError(f"Unknown UK subdivision {subdivision!r}: expected one of {', '.join(SUBDIVISIONS)}")
    import holidays  # kept off the cold path: it loads every country's calendar

    return frozenset(holidays.UK(subdiv=subdivision, years=list(years)))
