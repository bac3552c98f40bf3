"""Eligibility rules, read from the force profile.

Every rule runs, so an applicant learns every reason at once. Each reason
says what the rule is and, where there is one, what the person could do.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable, Iterator, Optional

from .forces import ForceProfile, Group


@dataclass(frozen=True)
class Candidate:
    """The facts of an application that eligibility looks at."""
    date_of_birth: date
    postcode: str
    connection_to_area: str  # lives | works | both
    work_postcode: Optional[str]
    declarations: dict[str, bool]
    convictions_or_police_contact: str
    requirements_confirmed: frozenset[str]


@dataclass(frozen=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True)
class Assessment:
    reasons: tuple[Reason, ...]
    screening: str  # the level this group needs before an offer: none | basic | limited
    panel_notes: tuple[str, ...]  # facts the panel should see, never grounds for refusal

    @property
    def eligible(self) -> bool:
        return not self.reasons


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


Rule = Callable[[ForceProfile, Group, Candidate, date], Iterable[Reason]]


def minimum_age(force: ForceProfile, group: Group, who: Candidate, today: date) -> Iterator[Reason]:
    minimum = force.eligibility.minimum_age
    if age_on(who.date_of_birth, today) < minimum:
        yield Reason("under_minimum_age", f"You must be {minimum} or over to join an IAG in {force.area_name}. "
                                          f"You are welcome to apply once you turn {minimum}.")


def group_maximum_age(force: ForceProfile, group: Group, who: Candidate, today: date) -> Iterator[Reason]:
    if group.maximum_age is not None and age_on(who.date_of_birth, today) > group.maximum_age:
        yield Reason("over_group_maximum_age", f"The {group.name} is for people aged up to {group.maximum_age}. "
                                               f"You could apply to a local IAG instead.")


def lives_or_works_in_area(force: ForceProfile, group: Group, who: Candidate, today: date) -> Iterator[Reason]:
    accepted = force.eligibility.area_connection
    lives = who.connection_to_area in ("lives", "both") and force.in_area(who.postcode or "")
    works = who.connection_to_area in ("works", "both") and force.in_area(who.work_postcode or "")
    if ("lives" in accepted and lives) or ("works" in accepted and works):
        return
    need = " or ".join(sorted(accepted, key=["lives", "works"].index)).replace("lives", "live").replace("works", "work")
    yield Reason("outside_force_area", f"You need to {need} in {force.area_name}, and the postcode you gave is "
                                      f"outside the area. If you do {need} there, check the postcode.")


_INDEPENDENCE = {
    "police_employee": "people employed by the police",
    "police_connection": "people substantially connected to the police",
    "judiciary_connection": "people linked to the judiciary",
    "civic_role": "people holding civic duties",
}


def independent_of_police(force: ForceProfile, group: Group, who: Candidate, today: date) -> Iterator[Reason]:
    for declaration in force.eligibility.independence_exclusions:
        if who.declarations.get(declaration):
            yield Reason(f"not_independent:{declaration}",
                         f"IAG members in {force.area_name} must be independent, so {_INDEPENDENCE[declaration]} cannot join.")


def no_convictions_if_barred(force: ForceProfile, group: Group, who: Candidate, today: date) -> Iterator[Reason]:
    if force.eligibility.convictions_bar and who.convictions_or_police_contact.strip():
        yield Reason("conviction_declared", f"A conviction or police contact is a bar to IAG membership in {force.area_name}.")


def meets_group_requirements(force: ForceProfile, group: Group, who: Candidate, today: date) -> Iterator[Reason]:
    for requirement in group.requirements:
        if requirement.id not in who.requirements_confirmed:
            yield Reason(f"requirement_not_met:{requirement.id}",
                         f"The {group.name} only takes applicants who meet its requirements: "
                         f"\u201c{requirement.text}\u201d You could apply to a local IAG instead.")


RULES: tuple[Rule, ...] = (
    minimum_age,
    group_maximum_age,
    lives_or_works_in_area,
    independent_of_police,
    no_convictions_if_barred,
    meets_group_requirements,
)


def assess(force: ForceProfile, group: Group, who: Candidate, today: date) -> Assessment:
    reasons = tuple(reason for rule in RULES for reason in rule(force, group, who, today))
    notes = []
    if who.convictions_or_police_contact.strip() and not force.eligibility.convictions_bar:
        notes.append("Declared a conviction or police contact, which is no bar to membership.")
    if force.residency_evidence_required:
        notes.append("Residency must be validated before an offer.")
    connected = [d for d, declared in who.declarations.items() if declared and d not in force.eligibility.independence_exclusions]
    if connected:
        notes.append("Declared: " + ", ".join(d.replace("_", " ") for d in sorted(connected)) + ".")
    return Assessment(reasons=reasons, screening=group.screening, panel_notes=tuple(notes))


def residency_evidence_needed(force: ForceProfile, answers: dict[str, Any]) -> bool:
    """The profile asks for evidence of residency before the offer, the applicant qualifies by living in the area,
    and none is recorded yet."""
    return (force.residency_evidence_required and answers.get("connection_to_area") in ("lives", "both")
            and not answers.get("residency"))
