"""Told, not only shown (issue 16, point 4), on fakes: each kind of trouble reaches the platform operator and the
force's IAG coordinator once, at once when urgent and otherwise in one daily digest."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.adapters.templates import render
from chalicelib.domain.alerts import Trouble
from chalicelib.services.alerts import AlertService
from chalicelib.services.events import EmailFailing, MessageBus, TroubleSeen
from chalicelib.services.outbox import About, EmailKey, Postbox
from chalicelib.services.ports import EmailMessage, MailNotSent
from chalicelib.services import role_notices
from tests.conftest import FixedClock
from tests.fakes import FakeAlertStore, FakeApplicationRepository, FakeLateDecisions, FakeMailer, FakeOutbox

pytestmark = pytest.mark.fast

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
FORCES = FileForceCatalogue()
NORTHANTS = FORCES.get("northamptonshire")
OPERATOR = NORTHANTS.contacts["platform_operator"].email
COORDINATOR = NORTHANTS.contacts["iag_coordinator"].email


class OneAddressFails(FakeMailer):
    """The provider fails (or refuses) sends to one address only, so the alerts about it still go."""

    def __init__(self) -> None:
        super().__init__()
        self.failing: dict[str, list[Exception]] = {}

    def send(self, message: EmailMessage) -> str:
        if self.failing.get(message.to):
            raise self.failing[message.to].pop(0)
        return super().send(message)


class World:
    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.mailer = OneAddressFails()
        self.bus = MessageBus()
        self.postbox = Postbox(FakeOutbox(FakeApplicationRepository()), self.mailer, self.clock, bus=self.bus)
        self.store = FakeAlertStore()
        self.decisions = FakeLateDecisions()
        self.alerts = AlertService(FORCES, self.postbox, render, self.store, self.decisions, self.clock,
                                   runs_url="http://127.0.0.1:4200")
        self.bus.subscribe(EmailFailing, self.alerts.email_failing)
        self.bus.subscribe(TroubleSeen, self.alerts.seen)

    def later(self, **delta) -> None:
        self.clock.moment += timedelta(**delta)

    def alerts_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.mailer.to(address) if "Needs attention" in m.subject or "to look at" in m.subject]


@pytest.fixture
def world() -> World:
    return World()


MEMBER_EMAIL = EmailKey(About("member", "northamptonshire", "m-17"), "agenda-2026-12")
AGENDA = EmailMessage(to="pat@example.org", subject="Agenda", text="Agenda", html="<p>Agenda</p>",
                      force_id="northamptonshire")


def try_to_send(world: World) -> None:
    """One wake-up of whatever owes the member's email (a flow pass)."""
    try:
        world.postbox.email(MEMBER_EMAIL, lambda: AGENDA)
    except MailNotSent:
        pass


def test_an_email_that_keeps_failing_reaches_the_operator_and_the_coordinator_once(world):
    world.mailer.failing["pat@example.org"] = [MailNotSent("provider unavailable", retryable=True, status=503)
                                               for _ in range(5)]
    try_to_send(world)
    try_to_send(world)
    assert world.alerts_to(OPERATOR) == []  # two outages in a row clear themselves often enough: nobody woken

    try_to_send(world)  # the third
    for address in (OPERATOR, COORDINATOR):
        [alert] = world.alerts_to(address)
        assert "agenda-2026-12" in alert.text and "3 times" in alert.text

    world.later(hours=1)
    try_to_send(world)
    try_to_send(world)  # still failing: not told again
    assert len(world.alerts_to(OPERATOR)) == 1 and len(world.alerts_to(COORDINATOR)) == 1

    try_to_send(world)  # the provider is back: the member finally gets it, once
    assert world.mailer.to("pat@example.org") == [AGENDA]


def test_a_refused_address_is_told_at_once_because_retrying_cannot_help(world):
    world.mailer.failing["pat@example.org"] = [
        MailNotSent("MessageRejected: pat@example.org is on the suppression list (bounced)", retryable=False,
                    status=400)]
    try_to_send(world)
    [alert] = world.alerts_to(OPERATOR)
    assert "bounced" in alert.text and "correct the address" in alert.text
    assert "pat@example.org" not in alert.text + alert.html + alert.subject  # the email is named, not the person
    assert len(world.alerts_to(COORDINATOR)) == 1


def test_a_decision_undelivered_for_over_an_hour_is_told_once(world):
    world.decisions.undelivered[("northamptonshire", "NOR-2026-000042")] = NOW  # Prefect was down as it was made
    world.later(minutes=59)
    assert world.alerts.watch("northamptonshire") == 0  # reconciliation may still deliver it

    world.later(minutes=2)
    assert world.alerts.watch("northamptonshire") == 2
    [alert] = world.alerts_to(OPERATOR)
    assert "NOR-2026-000042" in alert.subject and "Prefect" in alert.text
    assert len(world.alerts_to(COORDINATOR)) == 1

    world.later(hours=3)  # every later pass sees it again
    assert world.alerts.watch("northamptonshire") == 0
    assert world.alerts.watch("derbyshire") == 0  # another force's operator is not told
    assert len(world.mailer.sent) == 2


def test_a_run_failing_twice_reaches_its_forces_operator_and_coordinator_once(world):
    tags = ["application", "force:northamptonshire", "group:northampton"]
    assert world.alerts.run_failing("6a1f-run", "NOR-2026-000042", tags, "CRASHED") == 2
    assert world.alerts.run_failing("6a1f-run", "NOR-2026-000042", tags, "FAILED") == 0
    [alert] = world.alerts_to(COORDINATOR)
    assert "NOR-2026-000042" in alert.subject and "http://127.0.0.1:4200/runs/flow-run/6a1f-run" in alert.text
    assert {m.to for m in world.mailer.sent} == {OPERATOR, COORDINATOR}


def test_a_housekeeping_run_failing_twice_reaches_each_platform_operator_once_and_no_coordinator(world):
    sent = world.alerts.run_failing("9c2e-run", "reconcile-reviews-calm-fox", ["housekeeping"], "FAILED")
    operators = {force.contacts["platform_operator"].email for force in FORCES.all()}
    assert sent == len(operators) and {m.to for m in world.mailer.sent} == operators
    assert world.alerts.run_failing("9c2e-run", "reconcile-reviews-calm-fox", ["housekeeping"], "FAILED") == 0


class OneForce:
    """A catalogue of one force whose coordinator also runs the platform, as in a small force."""

    def __init__(self, force):
        self.force = replace(force, contacts={**force.contacts, "platform_operator": force.contacts["iag_coordinator"]})

    def require(self, force_id):
        return self.force

    def get(self, force_id):
        return self.force if force_id == self.force.id else None

    def all(self):
        return [self.force]


def test_one_address_holding_both_roles_gets_one_copy(world):
    alerts = AlertService(OneForce(FORCES.get("derbyshire")), world.postbox, render, world.store, world.decisions,
                          world.clock)
    assert alerts.run_failing("run-1", "DER-2026-000001", ["force:derbyshire"], "FAILED") == 1
    assert len(world.mailer.sent) == 1


def test_an_empty_role_and_a_cycle_without_quorum_wait_for_the_next_days_digest_in_one_email(world):
    key = EmailKey(About("application", "northamptonshire", "NOR-2026-000042"), "role-empty-v3-police_coordinator")
    role_notices.role_empty(world.postbox, render, NORTHANTS, key, "police_coordinator", "the Northampton IAG",
                            "Application NOR-2026-000042")
    role_notices.role_empty(world.postbox, render, NORTHANTS, key, "police_coordinator", "the Northampton IAG",
                            "Application NOR-2026-000042")  # seen again by the next pass
    world.bus.ask(TroubleSeen("northamptonshire", Trouble.NO_QUORUM.value, "2027-spring",
                              "the Strategic IAG cycle 2027-spring found no date with a quorum", "Set the date."))
    assert world.alerts_to(OPERATOR) == []  # not urgent: the coordinator's own notice went, the digest waits
    assert world.alerts.send_digests("northamptonshire") == 0  # today's digest goes tomorrow

    world.later(days=1)
    assert world.alerts.send_digests("northamptonshire") == 2
    for address in (OPERATOR, COORDINATOR):
        [digest] = world.alerts_to(address)
        assert "2 things to look at from 25 November 2026" in digest.subject
        assert digest.text.count("NOR-2026-000042") == 1 and "2027-spring" in digest.text

    world.later(hours=6)  # the digest flow runs again (a retry, a second schedule): nothing twice
    assert world.alerts.send_digests("northamptonshire") == 0
    assert len(world.alerts_to(OPERATOR)) == 1


def test_nothing_is_sent_on_a_day_with_nothing_to_say(world):
    world.later(days=1)
    assert [world.alerts.send_digests(force_id) for force_id in FORCES.ids()] == [0] * len(FORCES.ids())
    assert world.mailer.sent == []


def test_a_digest_missed_while_the_scheduler_was_down_still_goes_once(world):
    world.alerts.note("northamptonshire", Trouble.ROLE_EMPTY, "x", "nobody is the chair", "Set the chair.")
    world.later(days=3)  # two daily runs missed
    assert world.alerts.send_digests("northamptonshire") == 2
    world.later(days=1)
    assert world.alerts.send_digests("northamptonshire") == 0


def test_an_alert_email_that_fails_raises_no_alert_about_itself(world):
    world.mailer.failures = [MailNotSent("refused", retryable=False, status=400) for _ in range(10)]
    with pytest.raises(MailNotSent):
        world.alerts.run_failing("run-2", "NOR-2026-000043", ["force:northamptonshire"], "FAILED")
    assert len(world.mailer.failures) == 8  # each recipient tried once, no alert about the alert
    assert world.mailer.sent == []
