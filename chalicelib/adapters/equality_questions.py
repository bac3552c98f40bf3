"""The equality-monitoring questions and their options, as the application schema states them."""
from __future__ import annotations

from functools import lru_cache

from chalicelib.adapters.schema_validation import load_schema
from chalicelib.domain.equality_report import Question


@lru_cache(maxsize=None)
def equality_questions() -> tuple[Question, ...]:
    properties = load_schema("application")["properties"]["equality_monitoring"]["properties"]
    return tuple(Question(id=key, title=spec["title"], options=tuple(spec["enum"])) for key, spec in properties.items())
