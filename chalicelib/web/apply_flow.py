"""The applicant's form as a sequence of question pages, built from the force's profile, the application
schema and the question catalogue (templates/web/apply/questions.en.json).

A page holds one question or one tight set. What a page asks depends on the profile (a specialist group's
requirements, whether convictions bar membership) and on earlier answers (a person who works in the area
gives a workplace postcode). Answers are kept as the form's own field names (`applicant.given_name`), and
`payload_from_form` turns them into the API's payload, so one schema judges both front doors.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from chalicelib.adapters.schema_validation import load_schema, validate
from chalicelib.domain.validation import FieldError
from chalicelib.web.forms import DATE_FIELD, field_id, payload_from_form

if TYPE_CHECKING:
    from chalicelib.domain import eligibility as rules
    from chalicelib.domain.forces import ForceProfile, Group, MeetingSeries

CATALOGUE = Path(__file__).resolve().parent.parent / "templates" / "web" / "apply" / "questions.en.json"
DECLARATIONS = ("declarations.police_employee", "declarations.police_connection",
                "declarations.judiciary_connection", "declarations.civic_role")
EQUALITY_CHOICE = "equality_monitoring.answer"  # the form's own question; never sent to the intake service


@lru_cache(maxsize=4)
def catalogue(language: str = "en") -> dict:
    return json.loads(CATALOGUE.with_name(f"questions.{language}.json").read_text())


def words(name: str) -> dict:
    return catalogue()["questions"][name]


def sentence(key: str, **values) -> str:
    return catalogue()["sentences"][key].format(**values)


@dataclass(frozen=True)
class Question:
    """One field on a page, as the template draws it."""
    name: str
    kind: str  # text | email | tel | postcode | date | radios | yes_no | textarea | checkboxes | consent
    label: str
    hint: Optional[str] = None
    options: tuple[tuple[str, str, Optional[str]], ...] = ()  # (value, label, hint)
    optional: bool = False

    @property
    def id(self) -> str:
        return field_id("/" + self.name.replace(".", "/"))


@dataclass(frozen=True)
class Page:
    slug: str
    fields: tuple[str, ...]
    eligibility: bool = False  # answers here can make a person ineligible: rules run when it is sent
    when: Callable[[ForceProfile, Optional[Group], dict], bool] = field(default=lambda force, group, values: True)

    @property
    def title(self) -> str:
        return catalogue()["pages"].get(self.slug) or words(self.fields[0])["label"]


def _has_requirements(force, group, values) -> bool:
    return bool(group and group.requirements)


def _convictions_bar(force, group, values) -> bool:
    return force.eligibility.convictions_bar


def _no_convictions_bar(force, group, values) -> bool:
    return not force.eligibility.convictions_bar


def _answers_equality(question: str):
    return lambda force, group, values: values.get(EQUALITY_CHOICE) == "yes"


def _equality_pages() -> tuple[Page, ...]:
    """One page per equality question the schema lists, shown only to a person who chose to answer."""
    questions = load_schema("application")["properties"]["equality_monitoring"]["properties"]
    return tuple(Page(f"equality-{q.replace('_', '-')}", (f"equality_monitoring.{q}",), when=_answers_equality(q))
                 for q in questions)


@lru_cache(maxsize=1)
def all_pages() -> tuple[Page, ...]:
    """Every page in the order a person thinks: the group, whether they can join, about them, their
    statements, declarations, help they need, the optional equality questions, consent."""
    return (
        Page("group", ("group",)),
        Page("eligibility", (DATE_FIELD, "connection_to_area", "applicant.postcode", "work_postcode"), eligibility=True),
        Page("requirements", ("group_requirements_met",), eligibility=True, when=_has_requirements),
        Page("independence", DECLARATIONS + ("declarations.connection_details",), eligibility=True),
        Page("convictions", ("declarations.convictions_or_police_contact",), eligibility=True, when=_convictions_bar),
        Page("name", ("applicant.given_name", "applicant.family_name")),
        Page("contact", ("applicant.email", "applicant.phone")),
        Page("motivation", ("statements.motivation",)),
        Page("communities", ("statements.communities",)),
        Page("engagement", ("statements.engagement",)),
        Page("convictions", ("declarations.convictions_or_police_contact",), when=_no_convictions_bar),
        Page("help", ("accessibility.needs", "accessibility.preferred_format", "accessibility.language")),
        Page("equality", (EQUALITY_CHOICE,)),
        *_equality_pages(),
        Page("privacy", ("consent.privacy_notice",)),
    )


def pages_for(force: ForceProfile, values: dict) -> list[Page]:
    """The pages this person sees, given the group and answers so far."""
    group = force.group(values.get("group", ""))
    return [p for p in all_pages() if p.when(force, group, values)]


def page_named(force: ForceProfile, values: dict, slug: str) -> Optional[Page]:
    return next((p for p in pages_for(force, values) if p.slug == slug), None)


def next_page(force: ForceProfile, values: dict, slug: str) -> Optional[Page]:
    pages = pages_for(force, values)
    slugs = [p.slug for p in pages]
    return pages[slugs.index(slug) + 1] if slug in slugs and slugs.index(slug) + 1 < len(pages) else None


def previous_page(force: ForceProfile, values: dict, slug: str) -> Optional[Page]:
    pages = pages_for(force, values)
    slugs = [p.slug for p in pages]
    return pages[slugs.index(slug) - 1] if slug in slugs and slugs.index(slug) > 0 else None


def first_unanswered(force: ForceProfile, values: dict, done: list[str]) -> Optional[Page]:
    return next((p for p in pages_for(force, values) if p.slug not in done), None)


# What each page's questions look like --------------------------------------------------------------------

def _schema_property(name: str) -> dict:
    node = load_schema("application")
    for part in name.split("."):
        node = node.get("properties", {}).get(part, {})
    return node


def _options(name: str, values: tuple) -> tuple[tuple[str, str, None], ...]:
    labels = {**catalogue()["choices"], **words(name).get("options", {})}
    return tuple((v, labels[v], None) for v in values)


def questions(force: ForceProfile, page: Page, values: dict, today: date) -> list[Question]:
    group = force.group(values.get("group", ""))
    found = []
    for name in page.fields:
        text = words(name)
        spec = _schema_property(name)
        label = text["label"].format(area=force.area_name)
        hint = text.get("hint")
        if name == "group":
            found.append(Question(name, "radios", label, hint, tuple(
                (g.id, g.name, group_summary(force, g)) for g in force.groups if force.openness(g, today).open)))
        elif name == "group_requirements_met":
            found.append(Question(name, "checkboxes", label, hint,
                                  tuple((r.id, r.text, None) for r in (group.requirements if group else ())),
                                  optional=True))
        elif name == EQUALITY_CHOICE:
            found.append(Question(name, "radios", label, hint, _options(name, ("yes", "no"))))
        elif name == "declarations.convictions_or_police_contact":
            if not force.eligibility.convictions_bar:
                hint = text["hint_no_bar"]
            found.append(Question(name, "textarea", label, hint, optional=True))
        elif name == "consent.privacy_notice":
            found.append(Question(name, "consent", label))
        elif name == DATE_FIELD:
            found.append(Question(name, "date", label, hint))
        elif spec.get("type") == "boolean":
            found.append(Question(name, "yes_no", label, hint, _options(name, ("yes", "no"))))
        elif "enum" in spec:
            choices = tuple(spec["enum"])
            optional = name.startswith(("equality_monitoring.", "accessibility."))
            found.append(Question(name, "radios", label, hint, _options(name, choices), optional=optional))
        elif name.endswith("postcode"):
            found.append(Question(name, "postcode", label, hint, optional=name == "work_postcode"))
        elif spec.get("maxLength", 0) > 200:
            found.append(Question(name, "textarea", label, hint, optional="(optional)" in label))
        else:
            kind = {"applicant.email": "email", "applicant.phone": "tel"}.get(name, "text")
            found.append(Question(name, kind, label, hint, optional="(optional)" in label))
    return found


# Checking a page's answers with the one schema ------------------------------------------------------------

def _field_of(pointer: str) -> str:
    return pointer.strip("/").replace("/", ".")


def page_errors(page: Page, values: dict, today: date) -> list[FieldError]:
    """The schema's errors for this page's fields, judged on the whole payload as the API would judge it."""
    payload = payload_from_form(as_form(values))
    names = set(page.fields)
    errors = [e for e in validate(payload, "application") if _field_of(e.pointer) in names]
    if page.slug == "eligibility" and not any(_field_of(e.pointer) == DATE_FIELD for e in errors):
        born = date.fromisoformat(payload["applicant"][DATE_FIELD.split(".")[1]])
        if born > today:
            errors.append(FieldError("/applicant/date_of_birth", "Date of birth must be in the past"))
        elif born.year < today.year - 120:
            errors.append(FieldError("/applicant/date_of_birth", "Enter your real date of birth"))
    if EQUALITY_CHOICE in names and values.get(EQUALITY_CHOICE) not in ("yes", "no"):
        errors.append(FieldError("/equality_monitoring/answer", "Select yes if you want to answer the equality questions"))
    if page.slug == "eligibility" and values.get("connection_to_area") in ("works", "both") \
            and not values.get("work_postcode", "").strip():
        errors.append(FieldError("/work_postcode", "Enter the postcode of your workplace"))
    return errors


def as_form(values: dict) -> dict[str, list[str]]:
    """Stored answers in the shape a posted form has."""
    form = {k: (list(v) if isinstance(v, list) else [v]) for k, v in values.items()}
    if values.get(EQUALITY_CHOICE) != "yes":
        form = {k: v for k, v in form.items() if not k.startswith("equality_monitoring.")}
    return form


def payload(values: dict) -> dict:
    return payload_from_form(as_form(values))


def page_of_field(force: ForceProfile, values: dict, pointer: str) -> Optional[Page]:
    name = _field_of(pointer)
    return next((p for p in pages_for(force, values) if name in p.fields), None)


# Eligibility as soon as its answers are in -----------------------------------------------------------------

def reasons_so_far(force: ForceProfile, values: dict, done: list[str], today: date) -> list[rules.Reason]:
    """Every reason this person cannot join, from the eligibility pages they have answered: the same
    rules the intake service applies when the application is sent."""
    from chalicelib.domain import eligibility as rules  # on the apply pages only: not at the Lambda's cold start

    group = force.group(values.get("group", ""))
    if group is None:
        return []
    sent = payload(values)
    answered = {p.slug for p in pages_for(force, values) if p.eligibility and p.slug in done}
    checks: list = []
    if "eligibility" in answered:
        checks += [rules.minimum_age, rules.group_maximum_age, rules.lives_or_works_in_area]
    if "requirements" in answered:
        checks.append(rules.meets_group_requirements)
    if "independence" in answered:
        checks.append(rules.independent_of_police)
    if "convictions" in answered and force.eligibility.convictions_bar:
        checks.append(rules.no_convictions_if_barred)
    if not checks:
        return []
    try:
        born = date.fromisoformat(sent["applicant"]["date_of_birth"])
    except (KeyError, ValueError):
        return []
    declarations = sent.get("declarations", {})
    candidate = rules.Candidate(
        date_of_birth=born, postcode=sent["applicant"].get("postcode", ""),
        connection_to_area=sent.get("connection_to_area", ""), work_postcode=sent.get("work_postcode"),
        declarations={k: v for k, v in declarations.items() if isinstance(v, bool)},
        convictions_or_police_contact=declarations.get("convictions_or_police_contact", ""),
        requirements_confirmed=frozenset(sent.get("group_requirements_met", ())))
    return [reason for check in checks for reason in check(force, group, candidate, today)]


# Words about a force and its groups, with no placeholder inside a sentence --------------------------------

def _placeholder_pointers(force_id: str, placeholders: tuple) -> frozenset[str]:
    """Pointers the profile marks as assumed, with the meeting series a placeholder's note lists as
    sharing its assumption ("for every meeting series listed here: /groups/1/meetings/0, ...")."""
    found, shared = set(), []
    for placeholder in placeholders:
        found.add(placeholder["pointer"])
        listed = re.findall(r"/groups/\d+/meetings/\d+", placeholder.get("note", ""))
        found.update(listed)
        if listed:
            shared.append(set(listed) | {placeholder["pointer"]})
    # A field assumed in one series of such a list (e.g. /groups/0/meetings/0/interval_months) is assumed in all.
    for pointer in list(found):
        series, _, name = pointer.rpartition("/")
        for group in shared:
            if series in group:
                found.update(f"{other}/{name}" for other in group)
    return frozenset(found)


def is_assumed(force: ForceProfile, pointer: str) -> bool:
    """True when the profile marks the value at `pointer` as a placeholder (not stated by the force)."""
    return pointer in _placeholder_pointers(force.id, force.placeholders)


def meeting_words(force: ForceProfile, group_index: int, meeting_index: int, meeting: MeetingSeries) -> str:
    here = f"/groups/{group_index}/meetings/{meeting_index}"
    if is_assumed(force, here + "/interval_months"):
        return sentence("when_and_where_unknown")
    if is_assumed(force, here + "/venue"):
        return f"{meeting.describe(venue=False)} {sentence('venue_unknown')}"
    return meeting.describe()


def group_parts(force: ForceProfile, group: Group) -> list[str]:
    """What a group is and asks of its members, as sentences."""
    from chalicelib.services.notifications import SCREENING_WORDS

    index = force.groups.index(group)
    parts = [group.area + ".", group.commitment]
    for n, meeting in enumerate(group.meetings):
        text = meeting_words(force, index, n, meeting)
        if meeting.optional:
            text = sentence("optional_meeting", meeting=f"{meeting.name.lower()}, {text[0].lower()}{text[1:]}")
        parts.append(text)
    if group.screening != "none":
        parts.append(sentence("screening", screening=SCREENING_WORDS[group.screening]))
    if group.maximum_age:
        parts.append(sentence("maximum_age", age=group.maximum_age))
    return parts


def group_summary(force: ForceProfile, group: Group) -> str:
    return " ".join(group_parts(force, group))


def common_group_words(force: ForceProfile, group_questions: list[Question]) -> tuple[list[str], list[Question]]:
    """What every group on offer asks, said once above the choice; each choice keeps only what differs.
    Keeps the page short when ten groups share the same commitment."""
    [question] = group_questions
    parts = {value: group_parts(force, force.require_group(value)) for value, _, _ in question.options}
    if not parts:
        return [], group_questions
    first = next(iter(parts.values()))
    common = [p for p in first if all(p in others for others in parts.values())]
    options = tuple((value, label, " ".join(p for p in parts[value] if p not in common) or None)
                    for value, label, _ in question.options)
    return common, [replace(question, options=options)]


def who_can_apply(force: ForceProfile) -> list[str]:
    """The force's rules in plain English for the start page. Proof of address is said only to people
    who live in the area, once they have said so (see `proof_needed`)."""
    policy = force.eligibility
    area = {frozenset({"lives"}): "area_lives", frozenset({"works"}): "area_works"}.get(
        frozenset(policy.area_connection), "area_lives_or_works")
    lines = [sentence("minimum_age", age=policy.minimum_age), sentence(area, area=force.area_name)]
    if policy.independence_exclusions:
        kinds = catalogue()["sentences"]["independence_kinds"]
        lines.append(sentence("independence", kinds=", ".join(kinds[e] for e in policy.independence_exclusions)))
    lines.append(sentence("convictions_bar" if policy.convictions_bar else "convictions_no_bar"))
    return lines


def proof_needed(force: ForceProfile, values: dict) -> Optional[str]:
    if force.residency_evidence_required and values.get("connection_to_area") in ("lives", "both"):
        return sentence("proof_of_home")
    return None


# The check-your-answers page --------------------------------------------------------------------------------

def answer_rows(force: ForceProfile, values: dict, today: date) -> list[dict]:
    """One row per page asked (the equality pages as one), in page order: its name, the answers as lines,
    and the page to change them on. Answers not needed by an earlier answer are left out."""
    rows: list[dict] = []
    for page in pages_for(force, values):
        asked = [q for q in questions(force, page, values, today) if _needed(q, values)]
        if page.slug.startswith("equality-"):
            row = rows[-1]  # the "do you want to answer" row gathers them, in place of its own yes
            opening = page_named(force, values, "equality")
            if opening and row["value"] == _shown(questions(force, opening, values, today)[0], values):
                row["value"] = []
            row["value"] += [f"{words(q.name)['short']}: {line}" for q in asked for line in _shown(q, values)]
            continue
        if len(asked) == 1:
            value = _shown(asked[0], values)
        elif page.slug == "name":
            value = [" ".join(v for q in asked for v in _shown(q, values))]
        elif page.slug == "independence" and not any(values.get(q.name) == "yes" for q in asked if q.kind == "yes_no"):
            details = [q for q in asked if q.name == "declarations.connection_details"]
            value = [catalogue()["choices"]["none_of_these"]] + [v for q in details for v in _shown(q, values)]
        else:
            value = [f"{words(q.name)['short']}: {line}" for q in asked for line in _shown(q, values)]
        rows.append({"key": catalogue()["rows"].get(page.slug, page.title), "value": value, "page": page.slug,
                     "id": asked[0].id if asked else "main-content"})
    return rows


def _needed(question: Question, values: dict) -> bool:
    if question.name == "work_postcode":
        return values.get("connection_to_area") in ("works", "both")
    if question.name == "accessibility.language":
        return values.get("accessibility.preferred_format") == "other_language"
    if question.name == "declarations.connection_details":
        return bool(values.get(question.name, "").strip())
    return True


def _shown(question: Question, values: dict) -> list[str]:
    value = values.get(question.name)
    not_answered = [words(question.name).get("empty", catalogue()["choices"]["not_answered"])]
    if question.kind == "date":
        parts = [values.get(f"{question.name}-{p}", "") for p in ("day", "month", "year")]
        try:
            born = date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            return [" ".join(parts)] if any(parts) else not_answered
        return [f"{born.day} {catalogue()['months'][born.month - 1]} {born.year}"]
    if question.kind == "checkboxes":
        chosen = value or []
        return [label for v, label, _ in question.options if v in chosen] or [words(question.name).get("none", "")]
    if question.kind == "consent":
        return [catalogue()["choices"]["yes"]] if value == "yes" else not_answered
    if question.options:
        return [label for v, label, _ in question.options if v == value] or not_answered
    if isinstance(value, str) and value.strip():
        return value.strip().splitlines()
    return not_answered
