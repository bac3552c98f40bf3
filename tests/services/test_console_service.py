"""The console's dashboard on fakes: what a coordinator, an administrator and another force's operator are shown."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.domain.application import Application
from chalicelib.domain.callouts import Incident
from chalicelib.domain.lifecycle import Stage
from chalicelib.domain.meeting_business import Action
from chalicelib.domain.operators import Operator, OperatorRefused, Role
from chalicelib.services.console import ConsoleParts, ConsoleService
from chalicelib.services.ports import WorkflowUnavailable
from tests.fakes import FakeApplicationRepository

pytestmark = pytest.mark.fast

NOW = datetime(2026, 11, 22, 10, 30, tzinfo=timezone.utc)
FORCE = "thames-valley"
FORCES = FileForceCatalogue()


class Clock:
    def now(self):
        return NOW


class Log:
    def __init__(self):
        self.entries = []

    def record(self, operator, force_id, action, at, *, reference=None, group_id=None):
        self.entries.append((operator.id, force_id, action, group_id))


class Workflow:
    def __init__(self, failing=(), reachable=True):
        self.failing, self.reachable = list(failing), reachable

    def runs_in_trouble(self, flow_name, *, tags, stuck_after, failed_within):
        if not self.reachable:
            raise WorkflowUnavailable("connection refused")
        return self.failing


class Stub:
    """A store port answering with what the test gives it."""

    def __init__(self, **answers):
        self.answers = answers

    def __getattr__(self, name):
        answer = self.answers[name]
        return answer if callable(answer) else (lambda *args, **kwargs: answer)


def _application(reference, group, stage, days_waiting):
    at = NOW - timedelta(days=days_waiting)
    return Application(reference=reference, force_id=FORCE, group_id=group, stage=stage, submitted_at=at,
                       updated_at=at, applicant={"given_name": "Sam", "family_name": "Lee",
                                                 "email": f"{reference}@example.org"}, answers={}, eligibility={})


def _service(repository, *, workflow=None, undelivered=(), incidents=(), actions=()):
    log = Log()
    roles = lambda operator, force_id: {"roles": [  # noqa: E731 (RoleService.list's answer)
        {"scope": "reading", "role": "iag_chair", "panel": "review panel", "holder": None},
        {"scope": "reading", "role": "police_coordinator", "panel": "review panel",
         "holder": {"name": "P C", "email": "pc@example.org"}}]}
    parts = ConsoleParts(
        forces=FORCES, repository=repository, workflow=workflow or Workflow(),
        decisions=(Stub(undelivered=list(undelivered)),), roles=roles, meetings=Stub(upcoming=[]),
        incidents=Stub(incidents=list(incidents)), elections=Stub(open_elections=[]),
        cycles=Stub(open_cycles=[], cycle=None), actions=Stub(actions=lambda force_id, group_id: [
            a for g, a in actions if g == group_id]),
        members=Stub(members=[]), access_log=log, clock=Clock())
    return ConsoleService(parts), log


def _repository(*applications):
    repository = FakeApplicationRepository()
    for application in applications:
        repository.add(application, [], equality=None, idempotency=None, guard=False)
    return repository


def test_queues_count_each_stage_and_say_how_long_the_longest_has_waited():
    repository = _repository(_application("TV-1", "reading", Stage.AWAITING_REVIEW, 9),
                             _application("TV-2", "reading", Stage.AWAITING_REVIEW, 2),
                             _application("TV-3", "reading", Stage.OFFERED, 4),
                             _application("TV-4", "reading", Stage.MEMBER, 30))
    service, log = _service(repository)
    admin = Operator("ann", Role.FORCE_ADMIN, FORCE)
    queues = service.dashboard(admin, FORCE)["queues"]
    assert {(q["stage"], q["count"], q["oldest_days"], q["oldest"]) for q in queues if q["group"] == "reading"} == {
        ("awaiting_review", 2, 9, "TV-1"), ("offered", 1, 4, "TV-3")}  # members wait for nobody
    assert log.entries == [("ann", FORCE, "view_dashboard", None)]


def test_a_coordinator_sees_only_their_groups_in_every_part():
    other = next(g.id for g in FORCES.get(FORCE).groups if g.id != "reading")
    repository = _repository(_application("TV-1", "reading", Stage.AWAITING_REVIEW, 1),
                             _application("TV-2", other, Stage.AWAITING_REVIEW, 1))
    incident = Incident("I-1", FORCE, "Flooding", "", (other,), NOW, NOW + timedelta(days=1), "Lead", "l@example.org",
                        "ann")
    action = Action("A-1", "m", "Write to the council", "Owner", "o@example.org", date(2026, 11, 25), False,
                    date(2026, 11, 1))
    service, _ = _service(repository, workflow=Workflow(failing=["TV-2"]), undelivered=["TV-2", "TV-1"],
                          incidents=[incident], actions=[(other, action), ("reading", action)])
    board = service.dashboard(Operator("cole", Role.COORDINATOR, FORCE, frozenset({"reading"})), FORCE)
    assert {q["group"] for q in board["queues"]} == {"reading"}
    assert board["trouble"]["runs"] == [] and [a["reference"] for a in board["trouble"]["undelivered"]] == ["TV-1"]
    assert board["callouts"] == [] and [d["group"] for d in board["actions"]] == ["reading"]
    assert [r["role"] for r in board["empty_roles"]] == ["iag_chair"]


def test_prefect_out_of_reach_is_said_and_the_rest_of_the_dashboard_still_shows():
    service, _ = _service(_repository(_application("TV-1", "reading", Stage.AWAITING_REVIEW, 1)),
                          workflow=Workflow(reachable=False), undelivered=["TV-1"])
    board = service.dashboard(Operator("ann", Role.FORCE_ADMIN, FORCE), FORCE)
    assert board["trouble"]["prefect_reachable"] is False
    assert [a["reference"] for a in board["trouble"]["undelivered"]] == ["TV-1"] and board["queues"]


def test_another_forces_operator_is_refused_before_anything_is_read():
    service, log = _service(_repository(_application("TV-1", "reading", Stage.AWAITING_REVIEW, 1)))
    for operator in (Operator("nia", Role.FORCE_ADMIN, "northamptonshire"),
                     Operator("nat", Role.AUDITOR, "northamptonshire"),
                     Operator("ned", Role.COORDINATOR, "northamptonshire", frozenset({"reading"}))):
        with pytest.raises(OperatorRefused):
            service.dashboard(operator, FORCE)
        with pytest.raises(OperatorRefused):
            service.members(operator, FORCE, "reading")
    assert log.entries == []
