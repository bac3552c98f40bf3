"""Force profiles from the JSON files in chalicelib/forces/, each checked by schemas/force.schema.json when loaded."""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from chalicelib.adapters.schema_validation import validate
from chalicelib.services.ports import UnknownForce

if TYPE_CHECKING:
    from chalicelib.domain.forces import ForceProfile

PROFILE_DIR = Path(__file__).resolve().parent.parent / "forces"


class InvalidProfile(Exception):
    """A profile file that would make the service act on wrong rules: refuse to start rather than guess."""


def load_profile(path: Path) -> ForceProfile:
    return _checked_profile(path.name, path.read_text())


# Checking a profile against the schema costs about 0.1 s of CPU: a catalogue built again in the same process (each
# test's container, a flow's) reuses the check of a file whose text has not changed. A refused file is not kept.
@functools.lru_cache(maxsize=32)
def _checked_profile(file_name: str, text: str) -> ForceProfile:
    data = json.loads(text)
    problems = [f"{e.pointer or '/'}: {e.message}" for e in validate(data, "force")]
    problems += _consistency_problems(data)
    if data.get("id") and Path(file_name).stem != data["id"]:
        problems.append(f"/id: '{data['id']}' does not match the file name '{file_name}'")
    if problems:
        raise InvalidProfile(f"{file_name}: " + "; ".join(problems))
    # The profile's classes (18 dataclasses, whose creation compiles their methods) load with the first profile,
    # as its JSON and its schema check do, not at the Lambda's cold start (tests/test_package.py).
    from chalicelib.domain.forces import ForceProfile

    return ForceProfile.from_dict(data)


def _consistency_problems(data: dict) -> list[str]:
    """What the schema cannot say: references between parts of one profile."""
    problems = []
    group_ids = [g.get("id") for g in data.get("groups", [])]
    if len(set(group_ids)) != len(group_ids):
        problems.append("/groups: group ids must be unique")
    for i, campaign in enumerate(data.get("campaigns", [])):
        named = campaign.get("groups")
        if isinstance(named, list):
            problems += [f"/campaigns/{i}/groups: no group '{g}'" for g in named if g not in group_ids]
        if campaign.get("closes") and campaign.get("opens") and campaign["closes"] < campaign["opens"]:
            problems.append(f"/campaigns/{i}: closes before it opens")
    documents = data.get("onboarding", {}).get("documents", [])
    if sum(1 for d in documents if d.get("to_sign")) != 1:
        problems.append("/onboarding/documents: exactly one document must be marked to_sign")
    if len({d.get("id") for d in documents}) != len(documents):
        problems.append("/onboarding/documents: document ids must be unique")
    screened = data.get("screening", {}).get("default") != "none" or any(
        g.get("screening", "none") != "none" for g in data.get("groups", []))
    if screened and "vetting_unit" not in data.get("contacts", {}):
        problems.append("/contacts: a force that screens needs a vetting_unit contact")
    problems += _population_problems(data.get("population"))
    for placeholder in data.get("placeholders", []):
        if not _resolves(data, placeholder.get("pointer", "")):
            problems.append(f"/placeholders: {placeholder.get('pointer')} points at nothing")
    return problems


def _population_problems(population) -> list[str]:
    """Population shares must name the application form's equality questions and options, or they never show."""
    if not isinstance(population, dict):
        return []
    from chalicelib.adapters.equality_questions import equality_questions

    options = {q.id: q.options for q in equality_questions()}
    problems = []
    for question, shares in population.get("shares", {}).items():
        if question not in options:
            problems.append(f"/population/shares/{question}: not an equality monitoring question")
            continue
        problems += [f"/population/shares/{question}/{c}: not an option of {question}" for c in shares
                     if c not in options[question]]
    return problems


def _resolves(document, pointer: str) -> bool:
    node = document
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            return False
    return True


class FileForceCatalogue:
    """Loads a profile the first time it is asked for, then keeps it for the life of the process."""

    def __init__(self, directory: Path = PROFILE_DIR):
        self._directory = directory
        self._profiles: dict[str, ForceProfile] = {}

    def ids(self) -> list[str]:
        return sorted(p.stem for p in self._directory.glob("*.json"))

    def get(self, force_id: str) -> Optional[ForceProfile]:
        if force_id not in self._profiles:
            if force_id not in self.ids():  # never let a path segment reach the filesystem
                return None
            self._profiles[force_id] = load_profile(self._directory / f"{force_id}.json")
        return self._profiles[force_id]

    def require(self, force_id: str) -> ForceProfile:
        force = self.get(force_id)
        if force is None:
            raise UnknownForce(f"no force profile {force_id!r}")
        return force

    def all(self) -> list[ForceProfile]:
        return [self.require(force_id) for force_id in self.ids()]
