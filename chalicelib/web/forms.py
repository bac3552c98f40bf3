"""The web form's fields, mapped to the same JSON payload the API takes.

One schema checks both front doors; this module only translates names:
form field `applicant.given_name` <-> JSON Pointer `/applicant/given_name`
<-> element id `applicant-given_name` (what the error summary links to).
"""
from __future__ import annotations

from typing import Optional


TEXT_FIELDS = (
    "group", "applicant.given_name", "applicant.family_name", "applicant.email", "applicant.phone",
    "applicant.postcode", "connection_to_area", "work_postcode",
    "statements.motivation", "statements.communities", "statements.engagement",
    "declarations.connection_details", "declarations.convictions_or_police_contact",
    "accessibility.needs", "accessibility.preferred_format", "accessibility.language",
)
YES_NO_FIELDS = ("declarations.police_employee", "declarations.police_connection",
                 "declarations.judiciary_connection", "declarations.civic_role")
DATE_FIELD = "applicant.date_of_birth"
# Always present in the payload, so an unanswered field is reported by the schema against itself.
REQUIRED_OBJECTS = ("applicant", "statements", "declarations", "consent")
# Free text the schema requires even when empty: an empty box means "nothing to declare".
EMPTY_MEANS_NOTHING = ("declarations.convictions_or_police_contact",)


def payload_from_form(form: dict[str, list[str]]) -> dict:
    from chalicelib.adapters.equality_questions import equality_questions

    def first(name: str) -> Optional[str]:
        values = form.get(name) or [""]
        return values[0].strip() or None

    payload: dict = {name: {} for name in REQUIRED_OBJECTS}
    for name in TEXT_FIELDS:
        value = first(name)
        if value is None and name in EMPTY_MEANS_NOTHING:
            value = ""
        if value is not None:
            _set(payload, name, value)
    for name in YES_NO_FIELDS:
        value = first(name)
        if value in ("yes", "no"):
            _set(payload, name, value == "yes")
    day, month, year = (first(f"{DATE_FIELD}-{part}") for part in ("day", "month", "year"))
    if day or month or year:
        _set(payload, DATE_FIELD, _iso_date(day, month, year))
    requirements = [v for v in form.get("group_requirements_met", []) if v]
    if requirements:
        payload["group_requirements_met"] = sorted(set(requirements))
    equality = {q.id: first(f"equality_monitoring.{q.id}") for q in equality_questions()}
    equality = {q: v for q, v in equality.items() if v}
    if equality:
        payload["equality_monitoring"] = equality
    payload["consent"]["privacy_notice"] = first("consent.privacy_notice") == "yes"
    return payload


def _set(payload: dict, dotted: str, value) -> None:
    *parents, leaf = dotted.split(".")
    node = payload
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _iso_date(day: Optional[str], month: Optional[str], year: Optional[str]) -> str:
    """Something the schema's date format judges; a partial or impossible date stays invalid."""
    if day and month and year and day.isdigit() and month.isdigit() and year.isdigit() and len(year) == 4:
        return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
    return f"{year or '?'}-{month or '?'}-{day or '?'}"


def field_id(pointer: str) -> str:
    """The element an error summary entry links to."""
    name = "-".join(pointer.strip("/").split("/"))
    if pointer == "/" + DATE_FIELD.replace(".", "/"):
        return name + "-day"
    return name or "main-content"


def errors_by_field(errors) -> dict[str, str]:
    return {field_id(e.pointer): e.message for e in errors}
