"""The equality-monitoring report: counts only, small counts suppressed, beside the area's population shares.

Disclosure control, decided here once:
- Every count under 5 is shown as "<5", zero included. A shown 0 next to a shown total says "nobody in this
  group is X"; in a small group a row of zeros and one shown figure tells everyone's answer. (A group with no
  one in it at all shows its zeros: there is nobody to identify.)
- Secondary suppression: a row's total is shown, so the cells hidden in a row add up to a figure anyone can
  work out (total minus the shown cells). Unless every cell of the row is hidden, that figure must itself be
  5 or more, or more cells are hidden, smallest first. The same holds down each column, where the
  force-wide figure is the total of the groups'.
- A small count shows as "<5"; a cell hidden only to protect one shows as "c" (it may be large).
- Percentages come only from a shown count over a shown total.
The report holds counts of categories and nothing about any one person.

Publication, decided here once (PUBLICATION_RULE says it in words, on the report and in docs/security.md):
- A report covers one closed period, a calendar quarter or a recruitment campaign that has ended, and counts
  the answers recorded in it. An open period is never shown: a figure that moves by one when one person
  applies tells, beside the application list, what that person answered.
- A period is published only when at least MIN_ANSWERS_PER_PERIOD people answered in it; fewer, and it is
  withheld whole (suppression alone cannot protect a handful of people against their colleagues' knowledge).
- Once published a period's figures are kept as they were (the store holds the first publication), so that an
  erasure or the retention sweep, which delete one person's answers, cannot be read off a difference either.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Iterable, Mapping, Optional, Sequence

from .forces import Campaign

THRESHOLD = 5
# An assumption of the platform's (no seed states one): below this many people a period is withheld whole.
MIN_ANSWERS_PER_PERIOD = 10
QUARTERS_LISTED = 8  # closed quarters offered for publication, newest first: two years
PUBLICATION_RULE = (
    "Figures are published only for a period that has ended (a calendar quarter or a recruitment campaign), "
    f"and only when at least {MIN_ANSWERS_PER_PERIOD} people answered the questions in it; once published they "
    f"do not change. Any count under {THRESHOLD} is shown as \"<5\", and other counts that would let it be worked "
    "out as \"c\".")
SUPPRESSED = "<5"
SECONDARY = "c"  # hidden only so that a small count elsewhere cannot be worked out
NOT_ANSWERED = "not_answered"
ALL_GROUPS = "all"


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    options: tuple[str, ...]  # as the form offers them, "prefer_not_to_say" included

    @property
    def categories(self) -> tuple[str, ...]:
        return self.options + (NOT_ANSWERED,)


@dataclass(frozen=True)
class PopulationShares:
    """The force area's shares (percent) per question and category, and where they come from."""
    area: str
    source: str
    as_of: date
    shares: Mapping[str, Mapping[str, float]]
    url: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return {"area": self.area, "source": self.source, "as_of": self.as_of.isoformat(), "url": self.url}


@dataclass(frozen=True)
class Cell:
    category: str
    count: Optional[int]  # None when suppressed
    shown: str  # the count, "<5", or "c" (hidden to protect a small count elsewhere)
    percent: Optional[float] = None  # of the row's total, only from shown figures
    population_percent: Optional[float] = None

    @property
    def suppressed(self) -> bool:
        return self.count is None

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "count": self.count, "suppressed": self.suppressed, "shown": self.shown,
                "percent": self.percent, "population_percent": self.population_percent}


@dataclass(frozen=True)
class Row:
    scope: str  # a group id, or "all" for the force
    total: Optional[int]  # people with an equality record in scope
    shown_total: str
    cells: tuple[Cell, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "total": self.total, "total_suppressed": self.total is None,
                "shown_total": self.shown_total, "cells": [c.to_dict() for c in self.cells]}


@dataclass(frozen=True)
class QuestionReport:
    question: Question
    rows: tuple[Row, ...]  # one per group, then the force-wide row
    has_population: bool

    def row(self, scope: str) -> Row:
        return next(r for r in self.rows if r.scope == scope)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.question.id, "title": self.question.title, "categories": list(self.question.categories),
                "has_population": self.has_population, "rows": [r.to_dict() for r in self.rows]}


@dataclass(frozen=True)
class Period:
    """Days `starts` to `ends` inclusive: a calendar quarter ("2026-Q3") or a campaign ("campaign-<id>")."""
    id: str
    name: str
    starts: date
    ends: date

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "starts": self.starts.isoformat(), "ends": self.ends.isoformat()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Period":
        return cls(d["id"], d["name"], date.fromisoformat(d["starts"]), date.fromisoformat(d["ends"]))


@dataclass(frozen=True)
class EqualityReport:
    force_id: str
    generated_on: date
    groups: tuple[str, ...]
    questions: tuple[QuestionReport, ...]  # none when the period is withheld
    population: Optional[PopulationShares]
    threshold: int = THRESHOLD
    period: Optional[Period] = None
    published: bool = True
    periods: tuple[Period, ...] = field(default=(), compare=False)  # the closed periods one may ask for

    def question(self, question_id: str) -> QuestionReport:
        return next(q for q in self.questions if q.question.id == question_id)

    def to_dict(self) -> dict[str, Any]:
        return {"force_id": self.force_id, "generated_on": self.generated_on.isoformat(),
                "period": self.period.to_dict() if self.period else None, "published": self.published,
                "rule": PUBLICATION_RULE, "minimum_answers": MIN_ANSWERS_PER_PERIOD,
                "periods": [p.to_dict() for p in self.periods],
                "threshold": self.threshold, "small_count_shown_as": SUPPRESSED, "protected_shown_as": SECONDARY,
                "groups": list(self.groups),
                "population": self.population.to_dict() if self.population else None,
                "questions": [q.to_dict() for q in self.questions]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "EqualityReport":
        """A report as to_dict wrote it (a published period, read back from the store)."""
        population = d.get("population")
        return cls(
            d["force_id"], date.fromisoformat(d["generated_on"]), tuple(d["groups"]),
            tuple(_question_report(q) for q in d["questions"]),
            PopulationShares(population["area"], population["source"], date.fromisoformat(population["as_of"]), {},
                             population.get("url")) if population else None,
            d["threshold"], Period.from_dict(d["period"]) if d.get("period") else None, d.get("published", True),
            tuple(Period.from_dict(p) for p in d.get("periods", ())))


def _question_report(d: Mapping[str, Any]) -> QuestionReport:
    categories = tuple(d["categories"])
    question = Question(d["id"], d["title"], categories[:-1] if categories[-1:] == (NOT_ANSWERED,) else categories)
    rows = tuple(Row(r["scope"], r["total"], r["shown_total"], tuple(
        Cell(c["category"], c["count"], c["shown"], c["percent"], c["population_percent"]) for c in r["cells"]))
        for r in d["rows"])
    return QuestionReport(question, rows, d["has_population"])


def quarter_of(day: date) -> Period:
    first_month = 3 * ((day.month - 1) // 3) + 1
    starts = date(day.year, first_month, 1)
    following = date(day.year + 1, 1, 1) if first_month == 10 else date(day.year, first_month + 3, 1)
    number = (first_month - 1) // 3 + 1
    return Period(f"{day.year}-Q{number}", f"{starts:%B} to {following - timedelta(days=1):%B %Y}", starts,
                  following - timedelta(days=1))


def closed_periods(campaigns: Iterable[Campaign], today: date) -> tuple[Period, ...]:
    """Periods that have ended by `today`, newest end first: the last QUARTERS_LISTED calendar quarters and
    every campaign with a closing date already past. (`campaigns`: the force's, with id, name, opens, closes.)"""
    quarters, day = [], quarter_of(today).starts - timedelta(days=1)
    for _ in range(QUARTERS_LISTED):
        quarter = quarter_of(day)
        quarters.append(quarter)
        day = quarter.starts - timedelta(days=1)
    ended = [Period(f"campaign-{c.id}", c.name, c.opens, c.closes) for c in campaigns
             if c.closes is not None and c.closes < today]
    return tuple(sorted(quarters + ended, key=lambda p: (p.ends, p.starts), reverse=True))


def withheld_report(force_id: str, groups: Sequence[str], period: Period, periods: Sequence[Period],
                    population: Optional[PopulationShares], today: date) -> EqualityReport:
    """What is said of a period with too few answers to publish: its name and the rule, no figures at all."""
    return EqualityReport(force_id, today, tuple(groups), (), population, period=period, published=False,
                          periods=tuple(periods))


def tally(answers: Iterable[Mapping[str, str]], question: Question) -> dict[str, int]:
    """Counts per category of one question; an answer outside the options counts as not answered."""
    counts = dict.fromkeys(question.categories, 0)
    for record in answers:
        value = record.get(question.id)
        counts[value if value in question.options else NOT_ANSWERED] += 1
    return counts


def equality_report(force_id: str, groups: Sequence[str], answers_by_group: Mapping[str, Sequence[Mapping[str, str]]],
                    questions: Sequence[Question], population: Optional[PopulationShares], today: date,
                    period: Optional[Period] = None) -> EqualityReport:
    """Every question, per group and force-wide, suppressed as the module says."""
    reports = []
    for question in questions:
        table = {g: tally(answers_by_group.get(g, ()), question) for g in groups}
        shown = suppress(table, question.categories)
        shares = population.shares.get(question.id) if population else None
        reports.append(QuestionReport(question, tuple(
            _row(scope, shown[scope], question.categories, shares) for scope in (*groups, ALL_GROUPS)),
            has_population=shares is not None))
    return EqualityReport(force_id, today, tuple(groups), tuple(reports), population, period=period)


TOTAL = "__total__"


def suppress(table: Mapping[str, Mapping[str, int]], categories: Sequence[str]
             ) -> dict[str, dict[str, tuple[Optional[int], str]]]:
    """Groups x categories counts with a total column and a force-wide row added, each as (count, shown):
    count None where hidden, shown "<5" for a small count and "c" for a cell hidden to protect one.

    Totals are how many people answered, which the recruitment funnel shows anyway: they are margins to
    protect cells against, not secrets. A group nobody applied to has nothing to hide and no part in a sum."""
    columns = (*categories, TOTAL)
    full = {g: {**{c: row[c] for c in categories}, TOTAL: sum(row[c] for c in categories)} for g, row in table.items()}
    full[ALL_GROUPS] = {c: sum(full[g][c] for g in table) for c in columns}
    rows = [r for r in full if full[r][TOTAL] > 0]
    groups = [g for g in table if full[g][TOTAL] > 0]
    small = {(r, c) for r in rows for c in categories if full[r][c] < THRESHOLD}
    hidden = set(small)
    # Each line is parts that add up to a whole: a row's categories to its total, the groups to the force.
    lines = [([(r, c) for c in categories], (r, TOTAL)) for r in rows]
    lines += [([(g, c) for g in groups], (ALL_GROUPS, c)) for c in categories]

    def safe(parts: list[tuple[str, str]], whole: tuple[str, str]) -> bool:
        hidden_parts = [p for p in parts if p in hidden]
        if whole in hidden:
            return bool(hidden_parts)  # else the whole is the sum of what is shown
        if not hidden_parts or len(hidden_parts) == len(parts):
            return True  # nothing hidden, or nothing told about how the whole divides
        return full[whole[0]][whole[1]] - sum(full[r][c] for r, c in parts if (r, c) not in hidden) >= THRESHOLD

    changed = True
    while changed:
        changed = False
        for parts, whole in lines:
            while not safe(parts, whole):
                visible = [p for p in parts if p not in hidden]
                hidden.add(min(visible, key=lambda p: full[p[0]][p[1]]))
                changed = True
    return {r: {c: (None, SUPPRESSED if (r, c) in small else SECONDARY) if (r, c) in hidden else
                (full[r][c], str(full[r][c])) for c in columns} for r in full}


def _row(scope: str, shown: Mapping[str, tuple[Optional[int], str]], categories: Sequence[str],
         shares: Optional[Mapping[str, float]]) -> Row:
    total, shown_total = shown[TOTAL]
    cells = tuple(Cell(c, shown[c][0], shown[c][1], _percent(shown[c][0], total), shares.get(c) if shares else None)
                  for c in categories)
    return Row(scope, total, shown_total, cells)


def _percent(count: Optional[int], total: Optional[int]) -> Optional[float]:
    if count is None or not total:
        return None
    return round(100 * count / total, 1)
