"""The admin pages for reports: the equality report and the recruitment funnel with review queues, as HTML.

Plain functions the admin routes call with a force and the report objects; every chart comes with a table
of the same numbers.
"""
from __future__ import annotations

from typing import Optional

from markupsafe import Markup

from chalicelib.adapters.svg_charts import Bar, Series, grouped_bar_chart, horizontal_bar_chart
from chalicelib.adapters.templates import render
from chalicelib.domain.equality_report import (
    ALL_GROUPS, MIN_ANSWERS_PER_PERIOD, NOT_ANSWERED, PUBLICATION_RULE, Cell, EqualityReport, QuestionReport,
)
from chalicelib.domain.forces import ForceProfile
from chalicelib.domain.recruitment import EXITS, STEPS, Funnel, GroupFunnel, Queues

SERVICE_NAME = "Independent Advisory Groups"

# The words the application form uses for each option (templates/web/apply.html).
CATEGORY_LABELS = {
    "age_band": {"18-24": "18 to 24", "25-34": "25 to 34", "35-44": "35 to 44", "45-54": "45 to 54",
                 "55-64": "55 to 64", "65+": "65 or over"},
    "gender_same_as_birth": {"yes": "Yes, the same", "no": "No, different"},
    "marriage_civil_partnership": {"civil_partnership": "In a civil partnership"},
    "pregnancy_maternity": {"yes": "Pregnant or a recent birth", "no": "No"},
    "ethnicity": {"asian": "Asian or Asian British", "black": "Black, Black British, Caribbean or African",
                  "mixed": "Mixed or multiple ethnic groups", "white": "White", "other": "Another ethnic group"},
    "religion": {"none": "No religion", "other": "Another religion or belief"},
    "sexual_orientation": {"gay_or_lesbian": "Gay or lesbian", "heterosexual": "Heterosexual or straight",
                           "other": "Another orientation"},
}
COMMON_LABELS = {"prefer_not_to_say": "Prefer not to say", NOT_ANSWERED: "Not answered"}

STEP_LABELS = {
    "applied": "Applied", "eligible": "Eligible", "reviewed": "Decided by the panel",
    "approved": "Approved (by the panel or on appeal)", "screened": "Screened and cleared",
    "offered": "Offered a place", "members": "Became members",
}
EXIT_LABELS = {
    "ineligible": "Not eligible", "rejected": "Rejected by the panel (not overturned)",
    "withdrawn": "Withdrew, or declined the offer", "expired": "Lapsed: not answered in time",
    "redirected": "Sent here by another IAG's panel", "appeals_lodged": "Appeals lodged",
    "appeals_upheld": "Appeals upheld", "appeals_dismissed": "Appeals dismissed",
}


def category_label(question_id: str, category: str) -> str:
    return (CATEGORY_LABELS.get(question_id, {}).get(category) or COMMON_LABELS.get(category)
            or category.replace("_", " ").capitalize())


def stage_label(stage: str) -> str:
    return stage.replace("_", " ").capitalize()


def render_equality_page(force: ForceProfile, report: EqualityReport, *, static_url: str,
                         group_id: Optional[str] = None) -> str:
    """One scope at a time (the force, or one group: `group_id`), with links to the others as `?group=<id>`.
    A page of its own (the CLI writes it to a file); the console shows the same in its frame.

    Raises UnknownScope for a group the report does not have."""
    return render("admin/equality.html", service_name=SERVICE_NAME, static_url=static_url, force=force,
                  **equality_view(force, report, group_id))


def equality_view(force: ForceProfile, report: EqualityReport, group_id: Optional[str] = None) -> dict:
    """What templates/admin/_equality.html shows. Raises UnknownScope for a group the report does not have."""
    scope = group_id or ALL_GROUPS
    scopes = [(ALL_GROUPS, "All groups")] + [(g, _group_name(force, g)) for g in report.groups]
    names = dict(scopes)
    if scope not in names:
        raise UnknownScope(scope)
    questions = [_question_view(report, q, scope, names[scope]) for q in report.questions]
    return {"report": report, "scopes": scopes, "scope": scope, "scope_name": names[scope], "questions": questions,
            "rule": PUBLICATION_RULE, "minimum": MIN_ANSWERS_PER_PERIOD}


class UnknownScope(Exception):
    """No such group in the report: the route answers 404."""


def render_recruitment_page(force: ForceProfile, funnel: Funnel, queues: Queues, *, static_url: str) -> str:
    """A page of its own (the CLI writes it to a file); the console shows the same in its frame."""
    return render("admin/funnel.html", service_name=SERVICE_NAME, static_url=static_url, force=force,
                  **recruitment_view(force, funnel, queues))


def recruitment_view(force: ForceProfile, funnel: Funnel, queues: Queues) -> dict:
    """What templates/admin/_funnel.html shows."""
    scopes = [(ALL_GROUPS, "All groups")] + [(g.group_id, _group_name(force, g.group_id)) for g in funnel.groups]
    funnels = [_funnel_view(scope, name, funnel.group(scope)) for scope, name in scopes]
    queue_rows = [(name, queues.group(scope)) for scope, name in scopes[1:]] + [("All groups", queues.total)]
    return {"funnel": funnel, "funnels": funnels, "queue_rows": queue_rows, "days": optional_days}


def _group_name(force: ForceProfile, group_id: str) -> str:
    group = force.group(group_id)
    return group.name if group else group_id


def _share(cell: Cell) -> str:
    if cell.percent is not None:
        return f"{cell.percent:g}%"
    return cell.shown if cell.suppressed else "share hidden"


def _question_view(report: EqualityReport, question: QuestionReport, scope: str, name: str) -> dict:
    categories = question.question.categories
    labels = [category_label(question.question.id, c) for c in categories]
    row = question.row(scope)
    series = [Series(name, tuple(Bar(label, c.percent, _share(c)) for label, c in zip(labels, row.cells, strict=True)))]
    if question.has_population and report.population is not None:
        series.append(Series(f"Population ({report.population.area})", tuple(
            Bar(label, c.population_percent, f"{c.population_percent:g}%" if c.population_percent is not None
                else "no figure") for label, c in zip(labels, row.cells, strict=True))))
    described = "; ".join(f"{label}: {bar.text}" for label, bar in zip(labels, series[0].bars, strict=True))
    chart = grouped_bar_chart(
        f"edi-{question.question.id}", f"{question.question.title}: {name}",
        f"Share of applicants ({name}, {row.shown_total} in all) in each category: {described}."
        + (" Beside each, the population's share." if question.has_population else ""),
        labels, series)
    shown = Markup(chart)  # nosec B704 # svg_charts escapes every text it writes into the chart
    return {"id": question.question.id, "title": question.question.title, "has_population": question.has_population,
            "name": name, "row": row, "chart": shown, "cells": list(zip(labels, row.cells, strict=True))}


def _funnel_view(scope: str, name: str, group: GroupFunnel) -> dict:
    steps = [(STEP_LABELS[s], group.steps[s]) for s in STEPS if group.steps[s] is not None]
    exits = [(EXIT_LABELS[e], group.exits[e]) for e in EXITS]
    now = [(stage_label(stage), n) for stage, n in group.now.items()]
    bars = [Bar(label, n, str(n)) for label, n in steps]
    chart = horizontal_bar_chart(
        f"funnel-{scope}", f"Recruitment funnel: {name}",
        "How many applications reached each step: " + "; ".join(f"{label}: {n}" for label, n in steps) + ".",
        bars)
    shown = Markup(chart)  # nosec B704 # svg_charts escapes every text it writes into the chart
    return {"scope": scope, "name": name, "chart": shown, "steps": steps, "exits": exits, "now": now,
            "deleted": group.deleted}


def optional_days(value: Optional[float]) -> str:
    if value is None:
        return "–"
    return f"{value:g}"
