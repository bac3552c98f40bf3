"""Reports for operators: the equality-monitoring report, the recruitment funnel and the review queues.

Every figure is a count or an age in days; the store hands over stages, dates and equality answers without
the people they belong to, and the reports keep only their totals.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterator, Protocol, Sequence

from chalicelib.domain.equality_report import EqualityReport, PopulationShares, Question, equality_report
from chalicelib.domain.forces import ForceProfile
from chalicelib.domain.lifecycle import REVIEWING, Stage
from chalicelib.domain.recruitment import StageCount, Funnel, Journey, Queues, funnel, review_queues
from chalicelib.domain.screening import NONE
from chalicelib.services.intake import UnknownForce
from chalicelib.services.ports import Clock, ForceCatalogue

__all__ = ["ReportService", "ReportStore", "UnknownForce"]

# Nothing happened before these stages, so a count is all the funnel needs.
COUNTED_ONLY = (Stage.SUBMITTED, Stage.INELIGIBLE)


class ReportStore(Protocol):
    def count_at(self, force_id: str, group_id: str, stage: Stage) -> int:
        """How many applications of the group are at the stage now."""

    def journeys_at(self, force_id: str, group_id: str, stage: Stage, *, with_history: bool) -> Iterator[Journey]:
        """The applications of the group at the stage, each as a Journey (stages seen only with_history)."""

    def deleted_counts(self, force_id: str) -> list[StageCount]:
        """What the retention sweep left of the applications it deleted."""

    def equality_answers(self, force_id: str, group_id: str) -> Iterator[dict[str, Any]]:
        """The equality-monitoring answers recorded with the group's applications, one dict per application."""


class ReportService:
    def __init__(self, forces: ForceCatalogue, store: ReportStore, clock: Clock, questions: Sequence[Question]):
        self._forces = forces
        self._store = store
        self._clock = clock
        self._questions = tuple(questions)

    def equality(self, force_id: str) -> EqualityReport:
        force = self._force(force_id)
        groups = [g.id for g in force.groups]
        answers = {g: list(self._store.equality_answers(force_id, g)) for g in groups}
        population = force.population
        shares = PopulationShares(population.area, population.source, population.as_of, population.shares,
                                  population.url) if population else None
        return equality_report(force_id, groups, answers, self._questions, shares, self._today())

    def funnel(self, force_id: str) -> Funnel:
        force = self._force(force_id)
        groups = [g.id for g in force.groups]
        journeys: list[Journey] = []
        counts = list(self._store.deleted_counts(force_id))
        for group in groups:
            for stage in Stage:
                if stage in COUNTED_ONLY:
                    counts.append(StageCount(group, stage, self._store.count_at(force_id, group, stage)))
                else:
                    journeys += self._store.journeys_at(force_id, group, stage, with_history=True)
        screening = frozenset(g.id for g in force.groups if g.screening != NONE)
        return funnel(force_id, groups, journeys, counts, screening, self._today())

    def queues(self, force_id: str) -> Queues:
        force = self._force(force_id)
        groups = [g.id for g in force.groups]
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
