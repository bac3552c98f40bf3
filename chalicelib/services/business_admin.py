"""The operators' meeting, call-out, election and Strategic IAG actions, for the admin API, the console and the CLI.

Each action asks the operator's role first (domain/operators.py), for the force and the group it touches, before
anything is read; then it calls the service that does the work, and records who did what in the access log (reads
of personal data and every change). A refusal from a service changes nothing and reaches the caller as it is.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Optional

from chalicelib.domain.callouts import Incident, Response
from chalicelib.domain.elections import Election
from chalicelib.domain.forces import ForceProfile
from chalicelib.domain.meeting_plans import PlannedMeeting
from chalicelib.domain.operators import Operator, Permission
from chalicelib.domain.strategic import Cycle, strategic_group
from chalicelib.services.refusals import NotFound
from chalicelib.services.callouts import CalloutService
from chalicelib.services.elections import ElectionService
from chalicelib.services.meetings import MeetingService
from chalicelib.services.operators import AccessLog
from chalicelib.services.ports import Clock, ForceCatalogue
from chalicelib.services.strategic import StrategicService


@dataclass(frozen=True)
class BusinessAdminParts:
    forces: ForceCatalogue
    callouts: CalloutService
    meetings: MeetingService
    elections: ElectionService
    strategic: StrategicService
    access_log: AccessLog
    clock: Clock


class BusinessAdmin:
    def __init__(self, parts: BusinessAdminParts):
        self._p = parts

    # --- call-outs ---

    def incidents(self, operator: Operator, force_id: str) -> list[Incident]:
        """The force's recent call-outs that this operator may see (a coordinator: those calling only their groups)."""
        self._may_somewhere(operator, Permission.VIEW, force_id)
        return [i for i in self._p.callouts.incidents(force_id)
                if all(operator.may(Permission.VIEW, force_id, g) for g in i.groups)]

    def raise_incident(self, operator: Operator, force_id: str, *, title: str, summary: str,
                       respond_within: timedelta, police_lead_name: str, police_lead_email: str,
                       groups: Optional[list[str]] = None) -> Incident:
        """A coordinator calls their own groups; a call to the whole force needs a force-wide role."""
        if groups:
            for group_id in groups:
                operator.authorise(Permission.OPERATE, force_id, group_id)
        else:
            operator.authorise(Permission.OPERATE, force_id)
        self._force(force_id)
        incident = self._p.callouts.raise_incident(
            force_id, title=title, summary=summary, respond_within=respond_within, police_lead_name=police_lead_name,
            police_lead_email=police_lead_email, raised_by=f"operator:{operator.id}", groups=groups or None)
        self._log(operator, force_id, "raise_incident", reference=incident.id)
        return incident

    def incident(self, operator: Operator, force_id: str, incident_id: str) -> tuple[Incident, list[Response]]:
        """The call-out and who has answered what (names: a read of personal data, recorded)."""
        incident, responses = self._incident(operator, Permission.VIEW, force_id, incident_id)
        self._log(operator, force_id, "view_incident", reference=incident_id)
        return incident, responses

    def close_incident(self, operator: Operator, force_id: str, incident_id: str) -> Incident:
        self._incident(operator, Permission.OPERATE, force_id, incident_id)
        incident = self._p.callouts.close(force_id, incident_id)
        self._log(operator, force_id, "close_incident", reference=incident_id)
        return incident

    def _incident(self, operator: Operator, permission: Permission, force_id: str,
                  incident_id: str) -> tuple[Incident, list[Response]]:
        self._may_somewhere(operator, permission, force_id)
        try:
            incident, responses = self._p.callouts.follow(force_id, incident_id)
        except LookupError:
            raise NotFound(f"no call-out {incident_id}") from None
        for group_id in incident.groups:  # every group it called: the answers name their members
            operator.authorise(permission, force_id, group_id)
        return incident, responses

    # --- meetings ---

    def meetings(self, operator: Operator, force_id: str, group_id: str) -> list[PlannedMeeting]:
        self._group(operator, Permission.VIEW, force_id, group_id)
        return self._p.meetings.upcoming(force_id, group_id)

    def plan_meetings(self, operator: Operator, force_id: str, group_id: str) -> tuple[list[PlannedMeeting], int]:
        """The cadence's next meetings stored, and every member sent what they have not had yet."""
        self._group(operator, Permission.OPERATE, force_id, group_id)
        planned = self._p.meetings.plan(force_id, group_id)
        sent = self._p.meetings.tell_members(force_id, group_id)
        self._log(operator, force_id, "plan_meetings", group_id=group_id)
        return planned, sent

    def move_meeting(self, operator: Operator, force_id: str, group_id: str, uid_key: str, starts_at: datetime,
                     note: str) -> PlannedMeeting:
        self._group(operator, Permission.OPERATE, force_id, group_id)
        moved = self._p.meetings.reschedule(force_id, group_id, uid_key, starts_at, note)
        self._log(operator, force_id, "move_meeting", reference=uid_key, group_id=group_id)
        return moved

    def cancel_meeting(self, operator: Operator, force_id: str, group_id: str, uid_key: str,
                       note: str) -> PlannedMeeting:
        self._group(operator, Permission.OPERATE, force_id, group_id)
        cancelled = self._p.meetings.cancel(force_id, group_id, uid_key, note)
        self._log(operator, force_id, "cancel_meeting", reference=uid_key, group_id=group_id)
        return cancelled

    def extraordinary_meeting(self, operator: Operator, force_id: str, group_id: str, starts_at: datetime,
                              minutes: int, venue: str, online: bool, purpose: str) -> PlannedMeeting:
        self._group(operator, Permission.OPERATE, force_id, group_id)
        planned = self._p.meetings.extraordinary(force_id, group_id, starts_at, minutes, venue, online, purpose)
        self._log(operator, force_id, "extraordinary_meeting", reference=planned.meeting.uid_key, group_id=group_id)
        return planned

    def recent_meetings(self, operator: Operator, force_id: str, group_id: str) -> list[PlannedMeeting]:
        """Upcoming meetings and those of the last weeks, oldest first (the console's list)."""
        self._group(operator, Permission.VIEW, force_id, group_id)
        return self._p.meetings.recent(force_id, group_id)

    # --- elections ---

    def elections(self, operator: Operator, force_id: str, group_id: str) -> list[Election]:
        self._group(operator, Permission.VIEW, force_id, group_id)
        return self._p.elections.open_elections(force_id, group_id)

    def open_election(self, operator: Operator, force_id: str, group_id: str, office: str, nominations_days: int,
                      voting_days: int) -> Election:
        self._group(operator, Permission.OPERATE, force_id, group_id)
        election = self._p.elections.open(force_id, group_id, office, nominations_days, voting_days)
        self._log(operator, force_id, "open_election", reference=election.id, group_id=group_id)
        return election

    def election(self, operator: Operator, force_id: str, group_id: str, election_id: str) -> dict[str, Any]:
        self._group(operator, Permission.VIEW, force_id, group_id)
        try:
            followed = self._p.elections.follow(force_id, group_id, election_id)
        except LookupError:
            raise NotFound(f"no election {election_id} in {group_id}") from None
        self._log(operator, force_id, "view_election", reference=election_id, group_id=group_id)
        return followed

    def start_voting(self, operator: Operator, force_id: str, group_id: str, election_id: str) -> dict[str, Any]:
        election = self._election(operator, force_id, group_id, election_id)
        self._p.elections.start_voting(election)
        self._log(operator, force_id, "start_voting", reference=election_id, group_id=group_id)
        return self._p.elections.follow(force_id, group_id, election_id)

    def declare(self, operator: Operator, force_id: str, group_id: str, election_id: str) -> dict[str, Any]:
        """Count once voting has closed (or close when nobody stood), seat the winner and tell the group."""
        election = self._election(operator, force_id, group_id, election_id)
        self._p.elections.close(election)
        self._log(operator, force_id, "declare_election", reference=election_id, group_id=group_id)
        return self._p.elections.follow(force_id, group_id, election_id)

    def _election(self, operator: Operator, force_id: str, group_id: str, election_id: str) -> Election:
        self._group(operator, Permission.OPERATE, force_id, group_id)
        try:
            election: Election = self._p.elections.follow(force_id, group_id, election_id)["election"]
            return election
        except LookupError:
            raise NotFound(f"no election {election_id} in {group_id}") from None

    # --- the Strategic IAG (its cycles belong to the strategic group: a force-wide role or its coordinator) ---

    def cycles(self, operator: Operator, force_id: str) -> list[Cycle]:
        self._strategic(operator, Permission.VIEW, force_id)
        return self._p.strategic.cycles(force_id)

    def start_cycle(self, operator: Operator, force_id: str) -> tuple[Cycle, str]:
        self._strategic(operator, Permission.OPERATE, force_id)
        cycle = self._p.strategic.start_cycle(force_id)
        if cycle is None:
            raise NotFound("the strategic group's meetings have no day set in the profile")
        status = self._p.strategic.advance(force_id, cycle.id)
        self._log(operator, force_id, "start_strategic_cycle", reference=cycle.id)
        return cycle, status

    def cycle(self, operator: Operator, force_id: str, cycle_id: str) -> dict[str, Any]:
        self._strategic(operator, Permission.VIEW, force_id)
        try:
            followed = self._p.strategic.follow(force_id, cycle_id)
        except LookupError:
            raise NotFound(f"no Strategic IAG cycle {cycle_id}") from None
        self._log(operator, force_id, "view_strategic_cycle", reference=cycle_id)
        return followed

    def set_cycle_date(self, operator: Operator, force_id: str, cycle_id: str, slot: datetime) -> Cycle:
        self._strategic(operator, Permission.OPERATE, force_id)
        try:
            cycle = self._p.strategic.set_date(force_id, cycle_id, slot)
        except LookupError:
            raise NotFound(f"no Strategic IAG cycle {cycle_id}") from None
        self._log(operator, force_id, "set_strategic_date", reference=cycle_id)
        return cycle

    def _strategic(self, operator: Operator, permission: Permission, force_id: str) -> None:
        self._may_somewhere(operator, permission, force_id)
        group = strategic_group(self._force(force_id))
        if group is None:
            operator.authorise(permission, force_id)  # a coordinator learns no more than they would elsewhere
            raise NotFound("this force has no Strategic IAG arranged from its local groups")
        operator.authorise(permission, force_id, group.id)

    # --- inside ---

    def _may_somewhere(self, operator: Operator, permission: Permission, force_id: str) -> None:
        """Refused before anything is looked up: another force's operator learns nothing, not even what exists."""
        if not operator.may_in_force(permission, force_id):
            operator.authorise(permission, force_id)  # raises, in the usual words

    def _group(self, operator: Operator, permission: Permission, force_id: str, group_id: str) -> None:
        operator.authorise(permission, force_id, group_id)
        if self._force(force_id).group(group_id) is None:
            raise NotFound(f"no group {group_id} in {force_id}")

    def _force(self, force_id: str) -> ForceProfile:
        force = self._p.forces.get(force_id)
        if force is None:
            raise NotFound(f"no force {force_id}")
        return force

    def _log(self, operator: Operator, force_id: str, action: str, *, reference: Optional[str] = None,
             group_id: Optional[str] = None) -> None:
        self._p.access_log.record(operator, force_id, action, self._p.clock.now(), reference=reference,
                                  group_id=group_id)
