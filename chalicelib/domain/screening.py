"""Police screening: who needs it, and the little that is kept about it.

A force or group profile sets the level ("none", "basic", "limited"). The
result is an outcome, a level and two dates, never the content of a record:
a conviction or police contact is no bar, so a finding goes back to the panel
as "refer", and the panel decides.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Optional

from .forces import ForceProfile
from .lifecycle import Action

NONE = "none"
LEVELS = ("none", "basic", "limited")  # each level includes the ones before it


class Outcome(str, Enum):
    CLEAR = "clear"
    REFER = "refer"  # something for the panel to weigh; never a refusal by itself
    NOT_COMPLETED = "not_completed"  # the check could not be done (e.g. details could not be confirmed)


# What each outcome does to the application.
OUTCOME_ACTIONS = {
    Outcome.CLEAR: Action.CLEAR_SCREENING,
    Outcome.REFER: Action.REFER_SCREENING,
    Outcome.NOT_COMPLETED: Action.SCREENING_NOT_COMPLETED,
}

OUTCOME_WORDS = {
    Outcome.CLEAR: "cleared",
    Outcome.REFER: "referred to the panel",
    Outcome.NOT_COMPLETED: "could not be completed",
}


@dataclass(frozen=True)
class ScreeningResult:
    outcome: Outcome
    level: str
    completed_on: date
    expires_on: date

    def valid_on(self, day: date) -> bool:
        return day < self.expires_on

    @property
    def settles_screening(self) -> bool:
        """Clear, or referred and then approved by the panel: no need to screen again before the offer."""
        return self.outcome in (Outcome.CLEAR, Outcome.REFER)


def required_level(force: ForceProfile, group_id: str) -> str:
    group = force.group(group_id)
    return group.screening if group else NONE


def needs_screening(force: ForceProfile, group_id: str, latest: Optional[ScreeningResult], today: date) -> bool:
    """Whether an approved application must be screened before the offer."""
    required = required_level(force, group_id)
    if required == NONE:
        return False
    return (latest is None or not latest.settles_screening or not latest.valid_on(today)
            or LEVELS.index(latest.level) < LEVELS.index(required))


def result(force: ForceProfile, group_id: str, outcome: Outcome, completed_on: date) -> ScreeningResult:
    return ScreeningResult(outcome, required_level(force, group_id), completed_on,
                           add_months(completed_on, force.screening_valid_for_months))


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
