"""The recruitment funnel and the review queue of a force, per group and force-wide: counts and ages only.

Each application comes in as a `Journey`: its group and stage now, the stages its audit trail shows it has
been at, and the day it was submitted; no reference, no person. Applications deleted under the retention
policy come in as counts per group and final stage (`StageCount`), and count as having passed what that stage
implies.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from statistics import median
from typing import Any, Iterable, Mapping, Optional, Sequence

from .lifecycle import REVIEWING, Stage

S = Stage
ALL_GROUPS = "all"

# What being at a stage proves about the path before it, when the audit trail is not there to say.
_DECIDED = {S.SUBMITTED, S.AWAITING_REVIEW}
IMPLIED: dict[Stage, frozenset[Stage]] = {
    S.SUBMITTED: frozenset({S.SUBMITTED}),
    S.INELIGIBLE: frozenset({S.SUBMITTED, S.INELIGIBLE}),
    S.AWAITING_REVIEW: frozenset(_DECIDED),
    S.DISCUSSION_REQUESTED: frozenset(_DECIDED | {S.DISCUSSION_REQUESTED}),
    S.REDIRECTED: frozenset(_DECIDED | {S.REDIRECTED}),
    S.APPROVED: frozenset(_DECIDED | {S.APPROVED}),
    S.REJECTED: frozenset(_DECIDED | {S.REJECTED}),
    S.APPEAL_LODGED: frozenset(_DECIDED | {S.REJECTED, S.APPEAL_LODGED}),
    S.APPEAL_UPHELD: frozenset(_DECIDED | {S.REJECTED, S.APPEAL_LODGED, S.APPEAL_UPHELD}),
    S.APPEAL_DISMISSED: frozenset(_DECIDED | {S.REJECTED, S.APPEAL_LODGED, S.APPEAL_DISMISSED}),
    S.RESIDENCY: frozenset(_DECIDED | {S.APPROVED, S.RESIDENCY}),
    S.SCREENING: frozenset(_DECIDED | {S.APPROVED, S.SCREENING}),
    S.OFFERED: frozenset(_DECIDED | {S.APPROVED, S.OFFERED}),
    S.ONBOARDING: frozenset(_DECIDED | {S.APPROVED, S.OFFERED, S.ONBOARDING}),
    S.MEMBER: frozenset(_DECIDED | {S.APPROVED, S.OFFERED, S.ONBOARDING, S.MEMBER}),
    # Where a withdrawn or lapsed application had got to is in its audit trail; without it, only eligibility.
    S.WITHDRAWN: frozenset(_DECIDED | {S.WITHDRAWN}),
    S.EXPIRED: frozenset(_DECIDED | {S.EXPIRED}),
}

_AFTER_PANEL = {S.APPROVED, S.REJECTED, S.REDIRECTED, S.APPEAL_LODGED, S.APPEAL_UPHELD, S.APPEAL_DISMISSED,
                S.RESIDENCY, S.SCREENING, S.OFFERED, S.ONBOARDING, S.MEMBER}
_GOING_ON = {S.APPROVED, S.APPEAL_UPHELD, S.RESIDENCY, S.SCREENING, S.OFFERED, S.ONBOARDING, S.MEMBER}
_OFFERED = {S.OFFERED, S.ONBOARDING, S.MEMBER}

# The funnel's steps in order; "screened" only for groups whose profile requires screening.
STEPS = ("applied", "eligible", "reviewed", "approved", "screened", "offered", "members")
EXITS = ("ineligible", "rejected", "withdrawn", "expired", "redirected", "appeals_lodged", "appeals_upheld",
         "appeals_dismissed")


@dataclass(frozen=True)
class Journey:
    group_id: str
    stage: Stage
    stages_seen: frozenset[Stage]
    submitted_on: date

    @property
    def seen(self) -> frozenset[Stage]:
        return self.stages_seen | IMPLIED[self.stage]


@dataclass(frozen=True)
class StageCount:
    """How many applications of a group are at a stage, where only the number is known or needed: those the
    retention sweep deleted (deleted=True), or those at a stage with no path before it (ineligible)."""
    group_id: str
    stage: Stage
    count: int
    deleted: bool = False


def steps_passed(seen: frozenset[Stage]) -> set[str]:
    passed = {"applied"}
    if seen - {S.SUBMITTED, S.INELIGIBLE}:
        passed.add("eligible")
    if seen & _AFTER_PANEL:
        passed.add("reviewed")
    if seen & _GOING_ON:
        passed.add("approved")
    if S.SCREENING in seen and seen & _OFFERED:
        passed.add("screened")
    if seen & _OFFERED:
        passed.add("offered")
    if S.MEMBER in seen:
        passed.add("members")
    return passed


def exits_taken(stage: Stage, seen: frozenset[Stage]) -> set[str]:
    rejection_stands = S.REJECTED in seen and S.APPEAL_UPHELD not in seen
    taken = set()
    if stage is S.INELIGIBLE:
        taken.add("ineligible")
    if rejection_stands:
        taken.add("rejected")
    if stage is S.WITHDRAWN:
        taken.add("withdrawn")
    if stage is S.EXPIRED and not rejection_stands:  # a closed appeal window is counted as the rejection
        taken.add("expired")
    if S.REDIRECTED in seen:
        taken.add("redirected")
    for name, marker in (("appeals_lodged", S.APPEAL_LODGED), ("appeals_upheld", S.APPEAL_UPHELD),
                         ("appeals_dismissed", S.APPEAL_DISMISSED)):
        if marker in seen:
            taken.add(name)
    return taken


def counted(stage: Stage, seen: frozenset[Stage]) -> dict[str, int]:
    """What one application adds to its group's funnel counters, by counter name (as stored)."""
    full = seen | IMPLIED[stage]
    names = [f"step_{s}" for s in steps_passed(full)] + [f"exit_{e}" for e in exits_taken(stage, full)]
    return dict.fromkeys([*names, f"now_{stage.value}"], 1)


def counter_changes(before: Optional[tuple[str, Stage, frozenset[Stage]]],
                    after: tuple[str, Stage, frozenset[Stage]]) -> dict[str, dict[str, int]]:
    """group -> counter -> change, for an application moving from `before` (None: new) to `after`, each
    (group, stage, stages seen). Written in the same transaction as the move, so the counters are the funnel."""
    changes: dict[str, dict[str, int]] = {}
    for sign, state in ((-1, before), (1, after)):
        if state is not None:
            group, stage, seen = state
            for name, n in counted(stage, seen).items():
                changes.setdefault(group, {})[name] = changes.get(group, {}).get(name, 0) + sign * n
    return {g: {k: v for k, v in c.items() if v} for g, c in changes.items() if any(c.values())}


def funnel_from_counters(force_id: str, groups: Sequence[str], counters: Mapping[str, Mapping[str, int]],
                         screening_groups: frozenset[str], today: date) -> Funnel:
    """The funnel from each group's counters (see `counted`); groups not given count force-wide only."""
    tallies: dict[str, _Tally] = {g: _Tally() for g in groups}
    total = _Tally()
    for group_id, values in counters.items():
        for tally in (tallies.get(group_id), total):
            if tally:
                tally.add_counters(values)
    return Funnel(force_id, today,
                  tuple(tallies[g].result(g, g in screening_groups) for g in groups),
                  total.result(ALL_GROUPS, bool(screening_groups)))


@dataclass(frozen=True)
class GroupFunnel:
    group_id: str
    steps: dict[str, Optional[int]]  # STEPS in order; screened is None where no group screens
    exits: dict[str, int]  # EXITS in order
    now: dict[str, int]  # applications per current stage, stages with none left out
    deleted: int  # how many of the counts come from applications deleted under the retention policy

    def to_dict(self) -> dict[str, Any]:
        return {"group_id": self.group_id, "steps": dict(self.steps), "exits": dict(self.exits), "now": dict(self.now),
                "deleted": self.deleted}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "GroupFunnel":
        return cls(d["group_id"], dict(d["steps"]), dict(d["exits"]), dict(d["now"]), int(d["deleted"]))


@dataclass(frozen=True)
class Funnel:
    force_id: str
    generated_on: date
    groups: tuple[GroupFunnel, ...]
    total: GroupFunnel

    def group(self, group_id: str) -> GroupFunnel:
        return self.total if group_id == ALL_GROUPS else next(g for g in self.groups if g.group_id == group_id)

    def to_dict(self) -> dict[str, Any]:
        return {"force_id": self.force_id, "generated_on": self.generated_on.isoformat(), "steps": list(STEPS),
                "exits": list(EXITS), "groups": [g.to_dict() for g in self.groups], "total": self.total.to_dict()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Funnel":
        """As to_dict wrote it (the admin API's answer, drawn by the CLI)."""
        return cls(d["force_id"], date.fromisoformat(d["generated_on"]),
                   tuple(GroupFunnel.from_dict(g) for g in d["groups"]), GroupFunnel.from_dict(d["total"]))


def funnel(force_id: str, groups: Sequence[str], journeys: Iterable[Journey], counts: Iterable[StageCount],
           screening_groups: frozenset[str], today: date) -> Funnel:
    """Counts per group (in the order given) and force-wide; groups not given (e.g. removed from the profile) count
    force-wide only."""
    tallies: dict[str, _Tally] = {g: _Tally() for g in groups}
    total = _Tally()
    for journey in journeys:
        for tally in (tallies.get(journey.group_id), total):
            if tally:
                tally.add(journey.stage, journey.seen, 1)
    for count in counts:
        seen = IMPLIED[count.stage] | ({S.SCREENING} if count.group_id in screening_groups
                                       and count.stage in _OFFERED else frozenset())
        for tally in (tallies.get(count.group_id), total):
            if tally:
                tally.add(count.stage, seen, count.count, deleted=count.deleted)
    return Funnel(force_id, today,
                  tuple(tallies[g].result(g, g in screening_groups) for g in groups),
                  total.result(ALL_GROUPS, bool(screening_groups)))


@dataclass
class _Tally:
    steps: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STEPS, 0))
    exits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EXITS, 0))
    now: dict[str, int] = field(default_factory=dict)
    deleted: int = 0

    def add(self, stage: Stage, seen: frozenset[Stage], n: int, deleted: bool = False) -> None:
        for step in steps_passed(seen):
            self.steps[step] += n
        for name in exits_taken(stage, seen):
            self.exits[name] += n
        self.now[stage.value] = self.now.get(stage.value, 0) + n
        self.deleted += n if deleted else 0

    def add_counters(self, values: Mapping[str, int]) -> None:
        for step in STEPS:
            self.steps[step] += int(values.get(f"step_{step}", 0))
        for name in EXITS:
            self.exits[name] += int(values.get(f"exit_{name}", 0))
        for stage in Stage:
            self.now[stage.value] = self.now.get(stage.value, 0) + int(values.get(f"now_{stage.value}", 0))
        self.deleted += int(values.get("deleted", 0))

    def result(self, group_id: str, screens: bool) -> GroupFunnel:
        steps = {s: (None if s == "screened" and not screens else n) for s, n in self.steps.items()}
        now = {s.value: self.now[s.value] for s in Stage if self.now.get(s.value)}
        return GroupFunnel(group_id, steps, dict(self.exits), now, self.deleted)


@dataclass(frozen=True)
class GroupQueue:
    """Applications waiting on a panel: how many, and how long since they were submitted (in days)."""
    group_id: str
    awaiting_review: int
    in_discussion: int
    oldest_days: Optional[int]
    median_days: Optional[float]

    @property
    def waiting(self) -> int:
        return self.awaiting_review + self.in_discussion

    def to_dict(self) -> dict[str, Any]:
        return {"group_id": self.group_id, "awaiting_review": self.awaiting_review,
                "in_discussion": self.in_discussion, "waiting": self.waiting, "oldest_days": self.oldest_days,
                "median_days": self.median_days}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "GroupQueue":
        return cls(d["group_id"], int(d["awaiting_review"]), int(d["in_discussion"]), d["oldest_days"],
                   d["median_days"])


@dataclass(frozen=True)
class Queues:
    force_id: str
    generated_on: date
    groups: tuple[GroupQueue, ...]
    total: GroupQueue

    def group(self, group_id: str) -> GroupQueue:
        return self.total if group_id == ALL_GROUPS else next(g for g in self.groups if g.group_id == group_id)

    def to_dict(self) -> dict[str, Any]:
        return {"force_id": self.force_id, "generated_on": self.generated_on.isoformat(),
                "groups": [g.to_dict() for g in self.groups], "total": self.total.to_dict()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Queues":
        return cls(d["force_id"], date.fromisoformat(d["generated_on"]),
                   tuple(GroupQueue.from_dict(g) for g in d["groups"]), GroupQueue.from_dict(d["total"]))


def review_queues(force_id: str, groups: Sequence[str], journeys: Iterable[Journey], today: date) -> Queues:
    """Per group and force-wide: the applications awaiting review or an informal discussion, with their ages."""
    waiting: Mapping[str, list[Journey]] = {g: [] for g in groups}
    everyone: list[Journey] = []
    for journey in journeys:
        if journey.stage in REVIEWING:
            everyone.append(journey)
            if journey.group_id in waiting:
                waiting[journey.group_id].append(journey)
    return Queues(force_id, today, tuple(_queue(g, waiting[g], today) for g in groups),
                  _queue(ALL_GROUPS, everyone, today))


def _queue(group_id: str, journeys: Sequence[Journey], today: date) -> GroupQueue:
    ages = [max((today - j.submitted_on).days, 0) for j in journeys]
    return GroupQueue(
        group_id,
        awaiting_review=sum(1 for j in journeys if j.stage is S.AWAITING_REVIEW),
        in_discussion=sum(1 for j in journeys if j.stage is S.DISCUSSION_REQUESTED),
        oldest_days=max(ages) if ages else None,
        median_days=float(median(ages)) if ages else None)
