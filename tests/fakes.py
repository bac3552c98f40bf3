"""In-memory fakes of our own ports (chalicelib/services/ports.py), for tests that need no AWS and no Prefect.

Each fake keeps the port's promises, not DynamoDB's mechanics: tests/contracts/ runs one suite against the fake
and against the DynamoDB adapter on moto, so the fake cannot drift from what production does.
"""
from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime
from typing import Iterator, Optional

from chalicelib.domain.application import Application, AuditEvent, applicant_key
from chalicelib.domain.lifecycle import Stage, is_live
from chalicelib.domain.links import Link
from chalicelib.domain.rate_limits import RateLimited, RateSpend, retry_after
from chalicelib.services.ports import (
    DuplicateLiveApplication, EmailMessage, EqualityRecord, IdempotencyRecord, IdempotentReplay, LinkConflict,
    Page, ReferenceTaken, StaleApplication,
)

from chalicelib.services.outbox import EmailKey

_PARTITIONS = {"application": "FORCE#{}#APP#{}", "pack_request": "FORCE#{}#PACK#{}"}


class FakeApplicationRepository:
    """ApplicationRepository in dictionaries. Every write is all-or-nothing, as the adapter's transactions are."""

    def __init__(self) -> None:
        self.applications: dict[tuple[str, str], Application] = {}
        self._events: dict[tuple[str, str], list[AuditEvent]] = {}
        self.equality: dict[tuple[str, str], EqualityRecord] = {}
        self._live: dict[tuple[str, str, str], str] = {}  # (force, person, group) -> reference
        self._idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        # (partition, kind) -> {"status": pending|sending|sent, "detail", "claimed_at", "message_id", "sent_at"}
        self.outbox: dict[tuple[str, str], dict] = {}
        self.links: dict[str, Link] = {}
        self.pack_requests: dict[tuple[str, str], dict] = {}
        self.rate_counters: dict[str, int] = {}

    # --- applications

    def add(self, application: Application, events: list[AuditEvent], *,
            equality: Optional[EqualityRecord], idempotency: Optional[IdempotencyRecord],
            emails: tuple[str, ...] = (), links: tuple[Link, ...] = (),
            rate_spends: tuple[RateSpend, ...] = ()) -> Application:
        key = (application.force_id, application.reference)
        if idempotency:
            held = self._idempotency.get((application.force_id, idempotency.key_hash))
            if held and not held.expires_at < idempotency.recorded_at:  # TTL deletes lazily: expired no longer counts
                raise IdempotentReplay(replace(held, recorded_at=None))
        guard = (application.force_id, application.applicant_key, application.group_id)
        if is_live(application.stage) and guard in self._live:
            raise DuplicateLiveApplication()
        if key in self.applications:
            raise ReferenceTaken()
        if any(link.token_hash in self.links for link in links):
            raise LinkConflict("a link with that token already exists")  # the adapter's transaction fails too
        self._spend(rate_spends, application.submitted_at)
        stored = replace(application, version=1)
        self.applications[key] = stored
        self._events[key] = list(events)
        if is_live(application.stage):
            self._live[guard] = application.reference
        if idempotency:
            self._idempotency[(application.force_id, idempotency.key_hash)] = idempotency
        if equality:
            self.equality[(equality.force_id, equality.reference)] = equality
        for kind in emails:
            self.outbox[(_partition(application), kind)] = _pending({}, application.submitted_at)
        for link in links:
            self.links[link.token_hash] = link
        return stored

    def get(self, force_id: str, reference: str) -> Optional[Application]:
        return self.applications.get((force_id, reference))

    def save_transition(self, application: Application, event: AuditEvent,
                        emails: tuple[tuple[str, dict], ...] = (), previous_group: Optional[str] = None) -> Application:
        key = (application.force_id, application.reference)
        current = self.applications.get(key)
        if current is None or current.version != application.version:
            raise StaleApplication(application.reference)
        partition = _partition(application)
        if any((partition, kind) in self.outbox for kind, _ in emails):
            raise RuntimeError("an email of that kind was already announced")  # the adapter's condition fails too
        stored = replace(application, version=application.version + 1)
        self.applications[key] = stored
        self._events[key].append(event)
        for kind, detail in emails:
            self.outbox[(partition, kind)] = _pending(detail, event.at)
        person = application.applicant_key
        if previous_group and previous_group != application.group_id:
            self._live.pop((application.force_id, person, previous_group), None)
            if is_live(event.to_stage):
                self._live[(application.force_id, person, application.group_id)] = application.reference
        elif event.from_stage is not None and is_live(event.from_stage) and not is_live(event.to_stage):
            self._live.pop((application.force_id, person, application.group_id), None)
        return stored

    def events(self, force_id: str, reference: str) -> list[AuditEvent]:
        return sorted(self._events.get((force_id, reference), []), key=lambda e: e.at)

    def list_by_stage(self, force_id: str, group_id: str, stage: Stage, *, limit: int = 25,
                      next_token: Optional[str] = None) -> Page:
        matching = sorted((a for a in self.applications.values()
                           if (a.force_id, a.group_id, a.stage) == (force_id, group_id, stage)),
                          key=lambda a: (a.submitted_at, a.reference), reverse=True)
        start = int(next_token) if next_token else 0
        items = matching[start:start + limit]
        more = start + limit < len(matching)
        return Page(items, str(start + limit) if more else None)

    def all_at(self, force_id: str, group_id: str, stage: Stage) -> Iterator[Application]:
        yield from self.list_by_stage(force_id, group_id, stage, limit=len(self.applications) or 1).items

    # --- the outbox

    def pending_emails(self, application: Application) -> list[tuple[str, dict]]:
        partition = _partition(application)
        return [(kind, dict(entry["detail"])) for (p, kind), entry in sorted(self.outbox.items())
                if p == partition and entry["status"] not in ("sent", "sent_unconfirmed")]

    def pending_email_references(self, force_id: str, before: datetime) -> list[str]:
        """Applications with an announced email unsent since before `before`, oldest first (the adapter's GSI1)."""
        marker = f"FORCE#{force_id}#APP#"
        waiting = sorted((entry["created_at"], partition) for (partition, _), entry in self.outbox.items()
                         if partition.startswith(marker) and entry["announced"]
                         and entry["status"] not in ("sent", "sent_unconfirmed")
                         and entry["created_at"] < before)
        return list(dict.fromkeys(partition[len(marker):] for _, partition in waiting))

    # --- requests for the application pack

    def add_pack_request(self, force_id: str, request_id: str, details: dict, at: datetime,
                         rate_spends: tuple[RateSpend, ...] = ()) -> None:
        if (force_id, request_id) in self.pack_requests:
            raise RuntimeError("that pack request already exists")
        self._spend(rate_spends, at)
        self.pack_requests[(force_id, request_id)] = dict(details)
        self.outbox[(_pack_partition(force_id, request_id), "pack_request")] = _pending({}, at)

    def get_pack_request(self, force_id: str, request_id: str) -> Optional[dict]:
        details = self.pack_requests.get((force_id, request_id))
        return None if details is None else {"request_id": request_id, "details": dict(details)}

    def _spend(self, spends: tuple[RateSpend, ...], at: datetime) -> None:
        """Count each use, all or none: a full counter refuses the whole write."""
        for spend in spends:
            if self.rate_counters.get(spend.key, 0) >= spend.limit:
                raise RateLimited(retry_after(spend, at))
        for spend in spends:
            self.rate_counters[spend.key] = self.rate_counters.get(spend.key, 0) + 1

    # --- what a test reads

    def email_status(self, application: Application, kind: str) -> Optional[str]:
        entry = self.outbox.get((_partition(application), kind))
        return entry["status"] if entry else None

    def live_guard(self, force_id: str, email: str, group_id: str) -> Optional[str]:
        return self._live.get((force_id, applicant_key(email), group_id))



class FakeOutbox:
    """The Outbox port over the fake repository's outbox entries, as DynamoOutbox works on the table's items:
    an email announced with an application is the same entry the outbox claims."""

    def __init__(self, repository: FakeApplicationRepository) -> None:
        self._entries = repository.outbox

    @staticmethod
    def _key(key: EmailKey) -> tuple[str, str]:
        return _PARTITIONS[key.about.area].format(key.about.force_id, key.about.id), key.kind

    def claim(self, key: EmailKey, at: datetime, stale_before: datetime) -> bool:
        entry = self._entries.get(self._key(key))
        if entry is None:
            entry = self._entries[self._key(key)] = _pending({}, at, announced=False)
        stale = entry["status"] == "sending" and entry["claimed_at"] < stale_before
        if entry["status"] != "pending" and not stale:
            return False
        entry.update(status="sending", claimed_at=at)
        return True

    def release(self, key: EmailKey) -> None:
        entry = self._entries.get(self._key(key))
        if entry and entry["status"] == "sending":
            entry["status"] = "pending"

    def mark_sent(self, key: EmailKey, message_id: str, at: datetime) -> None:
        self._settle(key, "sent", message_id, at)

    def mark_unconfirmed(self, key: EmailKey, message_id: str, at: datetime) -> None:
        self._settle(key, "sent_unconfirmed", message_id, at)

    def _settle(self, key: EmailKey, status: str, message_id: str, at: datetime) -> None:
        entry = self._entries.get(self._key(key))
        if entry is not None and entry["status"] in ("pending", "sending"):
            entry.update(status=status, message_id=message_id, sent_at=at)


class FakeMailer:
    """Mailer: keeps what it sent; `failures` makes the next sends raise, as a provider outage would."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.failures: list[Exception] = []
        self._ids = itertools.count(1)

    def send(self, message: EmailMessage) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return f"message-{next(self._ids)}"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.sent if m.to == address]


def _partition(application: Application) -> str:
    return f"FORCE#{application.force_id}#APP#{application.reference}"


def _pack_partition(force_id: str, request_id: str) -> str:
    return f"FORCE#{force_id}#PACK#{request_id}"


def _pending(detail: dict, created_at: datetime, announced: bool = True) -> dict:
    """An outbox entry; `announced`: written with what it announces (so reconciliation finds it), not created by a
    first claim."""
    return {"status": "pending", "detail": dict(detail or {}), "created_at": created_at, "announced": announced,
            "claimed_at": None, "message_id": None, "sent_at": None}
