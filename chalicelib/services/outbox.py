"""One outbox: every email the product sends goes out through `send_once`, so it goes once.

The rule, written here and nowhere else:
- claim (a conditional write in the outbox) → send → mark sent;
- a claim older than CLAIM_TIMEOUT is stale and may be taken again: a sender that died between claim and
  send does not lose the email;
- building or sending fails: the claim is released so a later wake-up sends it, the failure is logged once
  with what it was about and counted (the Postbox announces the count: services/alerts.py tells a person when an
  email keeps failing), and the error goes to the caller (who decides whether the others still go);
- the send succeeded but marking it fails: it is recorded as sent-unconfirmed and never released, because a
  second copy in someone's inbox is worse than an unconfirmed first one.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable, Optional, Protocol

# About and EmailKey are port types (the outbox adapter stores them); re-exported here for the services.
from chalicelib.services.events import EmailFailing, MessageBus
from chalicelib.services.ports import About as About
from chalicelib.services.ports import Clock, EmailMessage, Mailer
from chalicelib.services.ports import EmailKey as EmailKey

log = logging.getLogger(__name__)

CLAIM_TIMEOUT = timedelta(minutes=5)  # longer than any send takes; a claim this old belongs to a dead sender
NOBODY_TO_TELL = "nobody-to-tell"  # the message id recorded when an owed email turns out to have no recipient


class Outbox(Protocol):
    """Where each email's state is kept: pending (or absent) → sending → sent | sent-unconfirmed."""

    def claim(self, key: EmailKey, at: datetime, stale_before: datetime) -> bool:
        """True for exactly one caller: the email is absent, pending, or claimed before `stale_before`."""

    def release(self, key: EmailKey) -> int:
        """Back to pending: the send failed, a later wake-up may claim it. Returns the failed sends so far."""

    def mark_sent(self, key: EmailKey, message_id: str, at: datetime) -> None: ...

    def mark_unconfirmed(self, key: EmailKey, message_id: str, at: datetime) -> None:
        """Sent, but marking it failed: never claimable again."""


def send_once(outbox: Outbox, key: EmailKey, send: Callable[[], str], clock: Clock,
              failed: Optional[Callable[[EmailKey, int, Exception], object]] = None) -> bool:
    """Send one email at most once: `send` builds and sends it and returns the provider's message id.

    True if this call sent it; False if it was sent already or another sender holds a live claim.
    Raises what `send` raised, after releasing the claim and telling `failed` how many sends have failed."""
    now = clock.now()
    if not outbox.claim(key, now, stale_before=now - CLAIM_TIMEOUT):
        return False
    try:
        message_id = send()
    except Exception as error:
        log.exception("email %s about %s not sent; released for a later try", key.kind, key.about)
        try:
            failures = outbox.release(key)
        except Exception:  # noqa: BLE001 (the claim goes stale instead; the send error is the one that matters)
            log.warning("email %s about %s not released; its claim goes stale in %s", key.kind, key.about,
                        CLAIM_TIMEOUT)
        else:
            if failed is not None:
                try:
                    failed(key, failures, error)
                except Exception:
                    log.exception("email %s about %s: its failure could not be announced", key.kind, key.about)
        raise
    try:
        outbox.mark_sent(key, message_id, clock.now())
    except Exception:  # it went: never release it for a second send
        log.exception("email %s about %s sent as %s but not marked sent; kept as sent-unconfirmed", key.kind,
                      key.about, message_id)
        try:
            outbox.mark_unconfirmed(key, message_id, clock.now())
        except Exception:  # noqa: BLE001
            log.error("email %s about %s sent as %s: neither marked sent nor unconfirmed; its claim stays held "
                      "until it goes stale", key.kind, key.about, message_id)
        return True
    log.info("email %s about %s sent as %s", key.kind, key.about, message_id)
    return True


class Postbox:
    """`send_once` bound to the outbox, the mailer and the clock, for services that send emails."""

    def __init__(self, outbox: Outbox, mailer: Mailer, clock: Clock, bus: Optional[MessageBus] = None):
        self.outbox = outbox
        self._mailer = mailer
        self._clock = clock
        self._bus = bus  # told of each failed send (EmailFailing)

    def _failed(self, key: EmailKey, failures: int, error: Exception) -> None:
        self.announce(EmailFailing(key, failures, error))

    def announce(self, event: object) -> None:
        """Tell the bus (e.g. TroubleSeen), for a service that holds the postbox to write to people; an announcement
        that fails is logged, never in the way of the email the service was sending."""
        if self._bus is None:
            return
        try:
            self._bus.ask(event)
        except Exception:
            log.exception("%s not announced", type(event).__name__)

    def email(self, key: EmailKey, build: Callable[[], Optional[EmailMessage]]) -> bool:
        """Build the email and send it, once; `build` returning None means nobody is to get it."""
        def send() -> str:
            message = build()
            return self._mailer.send(message) if message is not None else NOBODY_TO_TELL
        return send_once(self.outbox, key, send, self._clock, self._failed)

    def act(self, key: EmailKey, send: Callable[[], str]) -> bool:
        """Once, for a message another transport carries (e.g. a screening provider); `send` returns its id."""
        return send_once(self.outbox, key, send, self._clock, self._failed)


class Referenced(Protocol):
    @property
    def force_id(self) -> str: ...
    @property
    def reference(self) -> str: ...


def application_email(application: Referenced, kind: str) -> EmailKey:
    """The email `kind` about an application (an Application, or anything with force_id and reference)."""
    return EmailKey(About("application", application.force_id, application.reference), kind)
