"""A problem with one field of a request, located by JSON Pointer (RFC 6901)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    pointer: str
    message: str
