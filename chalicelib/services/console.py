"""What the console reads that no other service answers: a force's dashboard, and a group's members.

Each read names the operator, asks their role first (another force's operator is refused before anything is
read), shows only the groups they may see, and is recorded in the access log, as the admin service's reads are.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, Optional, Protocol

from chalicelib.domain.application import Application
from chalicelib.domain.callouts import Incident
from chalicelib.domain.elections import Election
from chalicelib.domain.forces import ForceProfile
from chalicelib.domain.lifecycle import Stage, is_live
from chalicelib.domain.meeting_business import Action
from chalicelib.domain.meeting_plans import PlannedMeeting
from chalicelib.domain.membership import Member
from chalicelib.domain.operators import Operator, Permission
from chalicelib.domain.strategic import Cycle
from chalicelib.services.refusals import NotFound
from chalicelib.services.operators import AccessLog
from chalicelib.services.ports import (
    ApplicationRepository, Clock, ForceCatalogue, GroupMembers, Workflow, WorkflowUnavailable,
)

# The stages an application waits at for someone (a member is no longer in a queue).
QUEUE_STAGES = tuple(s for s in Stage if is_live(s) and s is not Stage.MEMBER)
MEETINGS_AHEAD = timedelta(weeks=6)
ACTIONS_AHEAD = timedelta(weeks=2)
REVIEW_FLOW = "review-application"
STUCK_RUN_SECONDS = 15 * 60  # as reconciliation judges a run stuck (services/review.py)
FAILED_LOOKBACK_SECONDS = 26 * 3600


class Decisions(Protocol):
    """Decisions written but not yet told to their run (DynamoReviewStore)."""

    def undelivered(self, force_id: str) -> list[str]: ...


class Meetings(Protocol):
    def upcoming(self, force_id: str, group_id: str) -> list[PlannedMeeting]: ...


class Incidents(Protocol):
    def incidents(self, force_id: str, limit: int = 20) -> list[Incident]: ...


class Elections(Protocol):
    def open_elections(self, force_id: str) -> list[Election]: ...


class Cycles(Protocol):
    def open_cycles(self, force_id: str) -> list[str]: ...

    def cycle(self, force_id: str, cycle_id: str) -> Optional[Cycle]: ...


class ActionRecords(Protocol):
    def actions(self, force_id: str, group_id: str) -> list[Action]: ...


@dataclass(frozen=True)
class ConsoleParts:
    forces: ForceCatalogue
    repository: ApplicationRepository
    workflow: Workflow
    decisions: tuple[Decisions, ...]  # the panel's decisions, and applicants' and vetting's answers
    roles: Callable[[Operator, str], dict[str, Any]]  # RoleService.list
    meetings: Meetings
    incidents: Incidents
    elections: Elections
    cycles: Cycles
    actions: ActionRecords
    members: GroupMembers
    access_log: AccessLog
    clock: Clock


class ConsoleService:
    def __init__(self, parts: ConsoleParts):
        self._p = parts

    def visible_groups(self, operator: Operator, force_id: str, permission: Permission = Permission.LIST) -> list[str]:
        """The force's groups this operator may see; refused (OperatorRefused) when none."""
        force = self._force(force_id)
        if not operator.may_in_force(permission, force_id):
            operator.authorise(permission, force_id)
        return operator.groups_in(force_id, [g.id for g in force.groups])

    def dashboard(self, operator: Operator, force_id: str) -> dict[str, Any]:
        force = self._force(force_id)
        groups = self.visible_groups(operator, force_id)
        now = self._p.clock.now()
        self._p.access_log.record(operator, force_id, "view_dashboard", now)
        return {"queues": self._queues(force_id, groups, now), "trouble": self._trouble(force_id, groups),
                "empty_roles": [r for r in self._p.roles(operator, force_id)["roles"] if r["holder"] is None],
                "meetings": self._meetings(force, groups, now),
                "callouts": [i for i in self._p.incidents.incidents(force_id)
                             if i.respond_by > now and set(i.groups) & set(groups)],
                "elections": [e for e in self._p.elections.open_elections(force_id) if e.group_id in groups],
                "cycles": [c for c in (self._p.cycles.cycle(force_id, i) for i in self._p.cycles.open_cycles(force_id))
                           if c is not None],
                "actions": self._actions(force_id, groups, now.date())}

    def members(self, operator: Operator, force_id: str, group_id: str) -> list[Member]:
        """A group's members, every standing (serving, suspended, removed), by name."""
        group = self._force(force_id).group(group_id)
        if group is None:
            raise NotFound(f"{force_id} has no group '{group_id}'")
        operator.authorise(Permission.VIEW, force_id, group_id)
        self._p.access_log.record(operator, force_id, "list_members", self._p.clock.now(), group_id=group_id)
        return sorted(self._p.members.members(force_id, group_id), key=lambda m: (m.name.lower(), m.member_id))

    # --- the dashboard's parts ---

    def _queues(self, force_id: str, groups: list[str], now: datetime) -> list[dict[str, Any]]:
        """Per group and stage with anyone waiting: how many, and how long the longest has waited (days)."""
        rows = []
        for group_id in groups:
            for stage in QUEUE_STAGES:
                waiting = list(self._p.repository.all_at(force_id, group_id, stage))
                if waiting:
                    oldest = min(waiting, key=lambda a: a.updated_at)
                    rows.append({"group": group_id, "stage": stage.value, "count": len(waiting),
                                 "oldest_days": (now - oldest.updated_at).days, "oldest": oldest.reference})
        return rows

    def _trouble(self, force_id: str, groups: list[str]) -> dict[str, Any]:
        """Runs failed, crashed or stuck (Prefect), and decisions made but not yet told to their run."""
        try:
            failing = self._p.workflow.runs_in_trouble(REVIEW_FLOW, tags=[f"force:{force_id}"],
                                                       stuck_after=STUCK_RUN_SECONDS,
                                                       failed_within=FAILED_LOOKBACK_SECONDS)
            reachable = True
        except WorkflowUnavailable:
            failing, reachable = [], False
        undelivered = [r for source in self._p.decisions for r in source.undelivered(force_id)]
        return {"prefect_reachable": reachable, "runs": self._in_groups(force_id, failing, groups),
                "undelivered": self._in_groups(force_id, undelivered, groups)}

    def _in_groups(self, force_id: str, references: list[str], groups: list[str]) -> list[dict[str, str]]:
        found = [self._p.repository.get(force_id, r) for r in dict.fromkeys(references)]
        return [_brief(a) for a in found if a is not None and a.group_id in groups]

    def _meetings(self, force: ForceProfile, groups: list[str], now: datetime) -> list[dict[str, Any]]:
        soon = []
        for group_id in groups:
            for planned in self._p.meetings.upcoming(force.id, group_id):
                if planned.meeting.starts_at <= now + MEETINGS_AHEAD:
                    soon.append({"group": group_id, "planned": planned})
        return sorted(soon, key=lambda m: m["planned"].meeting.starts_at)

    def _actions(self, force_id: str, groups: list[str], today: date) -> list[dict[str, Any]]:
        due = [{"group": g, "action": a, "overdue": a.due_on < today}
               for g in groups for a in self._p.actions.actions(force_id, g)
               if a.closed_on is None and a.due_on <= today + ACTIONS_AHEAD]
        return sorted(due, key=lambda d: d["action"].due_on)

    def _force(self, force_id: str) -> ForceProfile:
        force = self._p.forces.get(force_id)
        if force is None:
            raise NotFound(f"there is no force '{force_id}'")
        return force


def _brief(application: Application) -> dict[str, str]:
    return {"reference": application.reference, "group": application.group_id, "stage": application.stage.value}
