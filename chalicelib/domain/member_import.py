"""Bringing a force's serving members in from a spreadsheet: the columns, what each row must say, and the member
each row makes. The row's shape is checked by schemas/member_import_row.schema.json (the service runs it); what
depends on the force (its groups, which of them screen, one chair per group) is checked here.
"""
from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Optional

from .forces import ForceProfile, GroupKind
from .membership import Member, Role
from .screening import add_months

COLUMNS = ("name", "email", "phone", "group", "role", "joined_on", "term_ends_on", "screening_outcome",
           "screening_level", "screening_date", "screening_expires", "agreement_signed_on")
REQUIRED_COLUMNS = ("name", "email", "group", "role", "joined_on")
SCREENING_COLUMNS = ("screening_outcome", "screening_level", "screening_date", "screening_expires")
MAX_ROWS = 2000
MAX_BYTES = 1_000_000
# Fields an import may change on a member it finds (by group and email); anything else is the member's own.
IMPORTED_FIELDS = ("name", "phone", "role", "joined_on", "term_ends_on", "screening", "agreement_version")


@dataclass(frozen=True)
class Problem:
    line: int  # the file's line, the header being line 1
    column: str  # the column's name, or "" for the whole row or file
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]  # column -> cell text; empty cells left out


def read_rows(text: str) -> tuple[list[Row], list[Problem]]:
    """The file's rows, or why it cannot be read as the documented CSV."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        return [], [Problem(0, "", f"the file is larger than {MAX_BYTES // 1000} kB: split it by group")]
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower().replace(" ", "_") for h in next(reader, [])]
    except csv.Error as error:
        return [], [Problem(1, "", f"the header cannot be read: {error}")]
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    problems = [Problem(1, h, f"'{h}' is not a column of the import (columns: {', '.join(COLUMNS)})")
                for h in unknown] + [Problem(1, c, f"the column '{c}' is missing") for c in missing]
    if len(set(header)) != len(header):
        problems.append(Problem(1, "", "a column is named twice"))
    if problems:
        return [], problems
    rows = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # a blank line
            if len(cells) != len(header):
                problems.append(Problem(line, "", f"the row has {len(cells)} cells; the header has {len(header)}"))
                continue
            rows.append(Row(line, {h: _cell(h, c) for h, c in zip(header, cells, strict=True) if c.strip()}))
            if len(rows) > MAX_ROWS:
                return [], [Problem(line, "", f"more than {MAX_ROWS} rows: split the file by group")]
    except csv.Error as error:
        problems.append(Problem(reader.line_num, "", f"the row cannot be read: {error}"))
    if not rows and not problems:
        problems.append(Problem(2, "", "the file has no members"))
    return rows, problems


def _cell(column: str, text: str) -> str:
    text = " ".join(text.split())
    if column in ("role", "screening_outcome", "screening_level"):
        return text.lower().replace(" ", "_")  # "vice chair" as people write it
    if column == "email":
        return text.lower()
    return text


def check_row(force: ForceProfile, row: Row) -> list[Problem]:
    """What the force's profile says about a row whose shape is already right."""
    values, problems = row.values, []

    def problem(column: str, message: str) -> None:
        problems.append(Problem(row.line, column, message))

    group = force.group(values["group"])
    if group is None:
        problem("group", f"{force.name} has no group '{values['group']}' (groups: "
                         f"{', '.join(g.id for g in force.groups)})")
        return problems
    role = values["role"]
    if role == "strategic_nominee" and group.kind is not GroupKind.STRATEGIC:
        problem("role", "a strategic nominee is a member of the Strategic IAG: put the Strategic IAG's id in group")
    joined = date.fromisoformat(values["joined_on"])
    if "term_ends_on" in values and date.fromisoformat(values["term_ends_on"]) <= joined:
        problem("term_ends_on", "the term must end after the member joined")
    given = [c for c in SCREENING_COLUMNS if c in values]
    if group.screening != "none" and len(given) != len(SCREENING_COLUMNS):
        for column in SCREENING_COLUMNS:
            if column not in values:
                problem(column, f"the {group.name} requires screening: give {column}")
    elif group.screening == "none" and given:
        problem(given[0], f"the {group.name} does not screen its members: leave the screening columns empty")
    if ("screening_date" in values and "screening_expires" in values
            and values["screening_expires"] <= values["screening_date"]):
        problem("screening_expires", "the check must expire after it was done")
    return problems


def check_file(force: ForceProfile, rows: list[Row]) -> list[Problem]:
    """What no single row shows: a person twice in one group, two chairs or vice chairs of one group."""
    problems: list[Problem] = []
    seen: dict[tuple[Optional[str], Optional[str]], int] = {}
    offices: dict[tuple[Optional[str], str], int] = {}
    for row in rows:
        key = (row.values.get("group"), row.values.get("email"))
        if key in seen:
            problems.append(Problem(row.line, "email", f"{key[1]} is in {key[0]} already, on line {seen[key]}"))
        seen.setdefault(key, row.line)
        if row.values.get("role") in ("chair", "vice_chair"):
            office = (row.values.get("group"), row.values["role"])
            if office in offices:
                problems.append(Problem(row.line, "role", f"{office[0]} has a {office[1].replace('_', ' ')} "
                                                          f"already, on line {offices[office]}"))
            offices.setdefault(office, row.line)
    return problems


def member_id_for(force_id: str, email: str) -> str:
    """The same person gets the same id on every import (so a second run finds them)."""
    return "MEM-" + hashlib.sha256(f"{force_id}|{email.strip().lower()}".encode()).hexdigest()[:12].upper()


def member_from_row(force: ForceProfile, row: Row, existing: Optional[Member] = None) -> Member:
    """The member a row describes; an existing member keeps their id, preferences and standing."""
    values = row.values
    joined = date.fromisoformat(values["joined_on"])
    term_ends = (date.fromisoformat(values["term_ends_on"]) if "term_ends_on" in values
                 else add_months(joined, 12 * force.onboarding.term_years))
    screening = None
    if "screening_outcome" in values:
        screening = {"level": values["screening_level"], "outcome": values["screening_outcome"],
                     "completed_on": values["screening_date"], "expires_on": values["screening_expires"]}
    agreement = force.onboarding.agreement
    signed = f"{agreement.id}@{agreement.version}" if "agreement_signed_on" in values else ""
    phone = values.get("phone", "")
    if existing is not None:
        return replace(existing, name=values["name"], phone=phone, role=Role(values["role"]), joined_on=joined,
                       term_ends_on=term_ends, screening=screening,
                       agreement_version=signed or existing.agreement_version)
    return Member(member_id=member_id_for(force.id, values["email"]), force_id=force.id, group_id=values["group"],
                  role=Role(values["role"]), name=values["name"], email=values["email"], phone=phone,
                  joined_on=joined, term_ends_on=term_ends, contact_preferences={"email": True, "phone": bool(phone)},
                  screening=screening, agreement_version=signed)


def changes(before: Member, after: Member) -> list[str]:
    return [f for f in IMPORTED_FIELDS if getattr(before, f) != getattr(after, f)]


def has_signed_current(force: ForceProfile, member: Member) -> bool:
    agreement = force.onboarding.agreement
    return member.agreement_version == f"{agreement.id}@{agreement.version}"
