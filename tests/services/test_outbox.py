"""The one outbox, with faults injected: whatever fails, the recipient gets the email once, eventually.

Each case runs against the in-memory outbox below and against the DynamoDB outbox (moto), so the fake
cannot drift from the real conditional writes.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest

from chalicelib.adapters.dynamodb.outbox import DynamoOutbox
from chalicelib.services import outbox as one_outbox
from chalicelib.services.outbox import About, EmailKey, Postbox
from chalicelib.services.ports import EmailMessage, MailNotSent
from tests.conftest import TODAY, FixedClock

KEY = EmailKey(About("application", "thames-valley", "TVP-2026-000123"), "received")
MESSAGE = EmailMessage(to="sam@example.org", subject="Your application", text="Received", html="<p>Received</p>")


class MemoryOutbox:
    """The outbox port in memory, with the DynamoDB adapter's conditions."""

    def __init__(self):
        self.entries: dict[EmailKey, dict] = {}

    def claim(self, key: EmailKey, at: datetime, stale_before: datetime) -> bool:
        entry = self.entries.get(key)
        if entry is None or entry["status"] == "pending" or (
                entry["status"] == "sending" and entry["claimed_at"] < stale_before):
            self.entries[key] = {**(entry or {}), "status": "sending", "claimed_at": at}
            return True
        return False

    def release(self, key: EmailKey) -> int:
        entry = self.entries.get(key, {})
        if entry.get("status") != "sending":
            return 0
        entry.update(status="pending", failures=entry.get("failures", 0) + 1)
        return entry["failures"]

    def mark_sent(self, key: EmailKey, message_id: str, at: datetime) -> None:
        self._settle(key, "sent", message_id)

    def mark_unconfirmed(self, key: EmailKey, message_id: str, at: datetime) -> None:
        self._settle(key, "sent_unconfirmed", message_id)

    def _settle(self, key: EmailKey, status: str, message_id: str) -> None:
        if self.entries.get(key, {}).get("status") in ("pending", "sending"):
            self.entries[key].update(status=status, message_id=message_id)


class Inbox:
    """A mailer whose deliveries the test reads; it can fail, or do something while a send is in flight."""

    def __init__(self):
        self.delivered: list[EmailMessage] = []
        self.failures_left = 0
        self.while_sending = None  # called mid-send, before the message is delivered

    def send(self, message: EmailMessage) -> str:
        if self.failures_left:
            self.failures_left -= 1
            raise MailNotSent("provider unavailable", retryable=True, status=503)
        if self.while_sending:
            during, self.while_sending = self.while_sending, None
            during()
        self.delivered.append(message)
        return f"message-{len(self.delivered)}"


class MarkingFails:
    """An outbox whose 'mark sent' write fails (e.g. throttled) after the provider took the email."""

    def __init__(self, outbox):
        self._outbox = outbox

    def __getattr__(self, name):
        return getattr(self._outbox, name)

    def mark_sent(self, key: EmailKey, message_id: str, at: datetime) -> None:
        raise OSError("DynamoDB throttled the write")


class ProcessDied(BaseException):
    """What a killed process looks like from inside: nothing after this line runs, no handler tidies up."""


@pytest.fixture(params=["memory", "dynamodb"])
def outbox(request):
    if request.param == "memory":
        return MemoryOutbox()
    request.getfixturevalue("table")
    return DynamoOutbox()


@pytest.fixture
def inbox():
    return Inbox()


def wake_up(outbox, inbox: Inbox, clock: FixedClock) -> bool:
    """One wake-up of whatever owes the email (a flow step, reconciliation, a retry)."""
    return one_outbox.send_once(outbox, KEY, lambda: inbox.send(MESSAGE), clock)


def later(clock: FixedClock, **delta) -> FixedClock:
    clock.moment += timedelta(**delta)
    return clock


def test_a_send_that_fails_is_released_logged_once_and_sent_by_the_next_wake_up(outbox, inbox, clock, caplog):
    inbox.failures_left = 1
    with caplog.at_level(logging.INFO, logger="chalicelib.services.outbox"), pytest.raises(MailNotSent):
        wake_up(outbox, inbox, clock)
    assert inbox.delivered == []
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(failures) == 1 and "TVP-2026-000123" in failures[0].getMessage()

    assert wake_up(outbox, inbox, later(clock, seconds=30)) is True  # the next wake-up, well before any claim is stale
    assert not wake_up(outbox, inbox, later(clock, days=1))
    assert inbox.delivered == [MESSAGE]


def test_an_email_sent_but_not_marked_sent_is_never_sent_again(outbox, inbox, clock):
    assert wake_up(MarkingFails(outbox), inbox, clock) is True  # it went: the caller is not told it failed

    for delta in (timedelta(seconds=1), timedelta(minutes=10), timedelta(days=2)):  # well past any stale claim
        clock.moment = TODAY + delta
        assert not wake_up(outbox, inbox, clock)
    assert inbox.delivered == [MESSAGE]


def test_a_sender_that_died_between_claim_and_send_leaves_a_claim_taken_again_once_stale(outbox, inbox, clock):
    def dies_before_sending() -> str:
        raise ProcessDied()

    with pytest.raises(ProcessDied):
        one_outbox.send_once(outbox, KEY, dies_before_sending, clock)

    assert not wake_up(outbox, inbox, later(clock, minutes=1))  # its claim may still be live: wait
    assert inbox.delivered == []
    assert wake_up(outbox, inbox, later(clock, minutes=one_outbox.CLAIM_TIMEOUT.seconds // 60)) is True
    assert not wake_up(outbox, inbox, later(clock, hours=1))
    assert inbox.delivered == [MESSAGE]


def test_two_wake_ups_racing_send_one_email(outbox, inbox, clock):
    second = []
    inbox.while_sending = lambda: second.append(wake_up(outbox, inbox, clock))  # the other arrives mid-send

    assert wake_up(outbox, inbox, clock) is True
    assert second == [False]
    assert inbox.delivered == [MESSAGE]


def test_an_email_with_nobody_to_tell_is_settled_without_sending(outbox, inbox, clock):
    postbox = Postbox(outbox, inbox, clock)

    assert postbox.email(KEY, lambda: None) is True
    assert not postbox.email(KEY, lambda: MESSAGE)
    assert inbox.delivered == []


def test_each_failed_send_is_counted_and_announced_with_the_count(outbox, inbox, clock):
    told = []
    inbox.failures_left = 2
    for _ in range(2):
        with pytest.raises(MailNotSent):
            one_outbox.send_once(outbox, KEY, lambda: inbox.send(MESSAGE), clock,
                                 lambda key, failures, error: told.append((key, failures, str(error))))
    assert told == [(KEY, 1, "provider unavailable"), (KEY, 2, "provider unavailable")]
    assert one_outbox.send_once(outbox, KEY, lambda: inbox.send(MESSAGE), clock, lambda *failed: told.append(failed))
    assert len(told) == 2 and inbox.delivered == [MESSAGE]


def test_an_announcement_that_fails_does_not_hide_the_send_error(outbox, inbox, clock):
    def announcer_breaks(key, failures, error):
        raise RuntimeError("bus broken")

    inbox.failures_left = 1
    with pytest.raises(MailNotSent):
        one_outbox.send_once(outbox, KEY, lambda: inbox.send(MESSAGE), clock, announcer_breaks)
    assert one_outbox.send_once(outbox, KEY, lambda: inbox.send(MESSAGE), clock)  # released all the same
