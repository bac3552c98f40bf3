"""The kinds of group a force has: a light module of its own, as domain/roles.py keys its offices by kind and is
imported at the Lambda's cold start, while domain/forces.py (the profile's classes) loads with the first profile."""
from __future__ import annotations

from enum import Enum


class GroupKind(str, Enum):
    LOCAL = "local"
    SPECIALIST = "specialist"
    STRATEGIC = "strategic"
