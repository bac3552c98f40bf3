"""Reports for operators: the equality-monitoring report, the recruitment funnel and the review queues.

Every figure is a count or an age in days; the store hands over stages, dates and equality answers without
the people they belong to, and the reports keep only their totals.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterator, Optional, Protocol, Sequence

from chalicelib.domain.equality_report import (
    MIN_ANSWERS_PER_PERIOD, EqualityReport, Period, PopulationShares, Question, closed_periods, equality_report,
    withheld_report,
)
from chalicelib.domain.forces import ForceProfile
from chalicelib.domain.lifecycle import REVIEWING, Stage
from chalicelib.domain.recruitment import Funnel, Journey, Queues, funnel_from_counters, review_queues
from chalicelib.domain.screening import NONE
from chalicelib.services.intake import UnknownForce
from chalicelib.services.ports import Clock, ForceCatalogue

__all__ = ["ReportService", "ReportStore", "UnknownForce", "UnknownPeriod"]


class UnknownPeriod(Exception):
    """Not a period that has ended (or not one of this force's): nothing is published for it."""



class ReportStore(Protocol):
    def funnel_counters(self, force_id: str, group_id: Optional[str] = None) -> dict[str, dict[str, int]]:
        """group -> its funnel counters (step_*, exit_*, now_*, deleted); only `group_id`'s when given."""

    def journeys_at(self, force_id: str, group_id: str, stage: Stage, *, with_history: bool) -> Iterator[Journey]:
        """The applications of the group at the stage, each as a Journey (stages seen only with_history)."""

    def equality_answers(self, force_id: str, group_id: str, since: Optional[datetime] = None,
                         before: Optional[datetime] = None) -> Iterator[dict[str, Any]]:
        """The equality-monitoring answers recorded with the group's applications (in [since, before) when
        given), one dict per application."""

    def published_equality(self, force_id: str, period_id: str) -> Optional[dict[str, Any]]:
        """An equality report as first published for the period, or None."""

    def publish_equality(self, force_id: str, period_id: str, report: dict[str, Any]) -> dict[str, Any]:
        """Keep a report as published, unless one is already kept: returns the one that stands."""


class ReportService:
    def __init__(self, forces: ForceCatalogue, store: ReportStore, clock: Clock, questions: Sequence[Question]):
        self._forces = forces
        self._store = store
        self._clock = clock
        self._questions = tuple(questions)

    def equality(self, force_id: str, period_id: Optional[str] = None) -> EqualityReport:
        """The equality report of one closed period (the latest by default), published by the rule of
        domain/equality_report.py: never an open period, never fewer than MIN_ANSWERS_PER_PERIOD people, and
        once published never changed. Raises UnknownPeriod for a period that has not ended."""
        force = self._force(force_id)
        periods = closed_periods(force.campaigns, self._today())
        period = next((p for p in periods if p.id == period_id), None) if period_id else periods[0]
        if period is None:
            raise UnknownPeriod(period_id)
        groups = [g.id for g in force.groups]
        kept = self._store.published_equality(force_id, period.id)
        if kept is not None:
            return _with_periods(EqualityReport.from_dict(kept), periods)
        since, before = _instant(period.starts), _instant(period.ends + timedelta(days=1))
        answers = {g: list(self._store.equality_answers(force_id, g, since, before)) for g in groups}
        population = force.population
        shares = PopulationShares(population.area, population.source, population.as_of, population.shares,
                                  population.url) if population else None
        if sum(len(a) for a in answers.values()) < MIN_ANSWERS_PER_PERIOD:
            # Not kept: the rule is checked again next time (answers of an ended period only ever decrease).
            return withheld_report(force_id, groups, period, periods, shares, self._today())
        report = equality_report(force_id, groups, answers, self._questions, shares, self._today(), period)
        kept = self._store.publish_equality(force_id, period.id, report.to_dict())
        return _with_periods(EqualityReport.from_dict(kept), periods)

    def funnel(self, force_id: str, group_id: Optional[str] = None) -> Funnel:
        """The recruitment funnel from the counters every move keeps (domain/recruitment.py `counter_changes`):
        one item a group, however many applications. With `group_id`, that group's alone (a coordinator's view),
        reading only its item."""
        force = self._force(force_id)
        groups = [group_id] if group_id else [g.id for g in force.groups]
        screening = frozenset(g.id for g in force.groups if g.screening != NONE and g.id in groups)
        return funnel_from_counters(force_id, groups, self._store.funnel_counters(force_id, group_id), screening,
                                    self._today())

    def queues(self, force_id: str, group_id: Optional[str] = None) -> Queues:
        """The review queues: the force's, or with `group_id` that group's alone (reading only its applications)."""
        force = self._force(force_id)
        groups = [group_id] if group_id else [g.id for g in force.groups]
        journeys = [j for g in groups for stage in sorted(REVIEWING)
                    for j in self._store.journeys_at(force_id, g, stage, with_history=False)]
        return review_queues(force_id, groups, journeys, self._today())

    def _force(self, force_id: str) -> ForceProfile:
        force = self._forces.get(force_id)
        if force is None:
            raise UnknownForce(force_id)
        return force

    def _today(self) -> date:
        return self._clock.now().date()


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def _with_periods(report: EqualityReport, periods: Sequence[Period]) -> EqualityReport:
    return replace(report, periods=tuple(periods))
