"""In-memory fakes of our own ports (chalicelib/services/ports.py), for tests that need no AWS and no Prefect.

Each fake keeps the port's promises, not DynamoDB's mechanics: tests/contracts/ runs one suite against the fake
and against the DynamoDB adapter on moto, so the fake cannot drift from what production does.
"""
from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, datetime
from typing import Iterator, Optional

from chalicelib.domain.alerts import Alert
from chalicelib.domain.application import Application, AuditEvent, applicant_key
from chalicelib.domain.lifecycle import Stage, is_live
from chalicelib.domain.links import Link
from chalicelib.domain.membership import Member, MemberEvent
from chalicelib.domain.rate_limits import RateLimited, RateSpend, retry_after
from chalicelib.services.ports import (
    Draft, DuplicateLiveApplication, EmailMessage, EqualityRecord, IdempotencyRecord, IdempotentReplay, LinkConflict,
    MemberConflict, Page, ReferenceTaken, StaleApplication,
)

from chalicelib.services.outbox import EmailKey

_PARTITIONS = {"application": "FORCE#{}#APP#{}", "pack_request": "FORCE#{}#PACK#{}", "member": "FORCE#{}#MEMBER#{}",
               "meetings": "FORCE#{}#GROUP#{}#MEETINGS", "draft": "FORCE#{}#DRAFT#{}", "alert": "FORCE#{}#ALERT#{}"}


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
            rate_spends: tuple[RateSpend, ...] = (), guard: bool = True) -> Application:
        key = (application.force_id, application.reference)
        if idempotency:
            held = self._idempotency.get((application.force_id, idempotency.key_hash))
            if held and not held.expires_at < idempotency.recorded_at:  # TTL deletes lazily: expired no longer counts
                raise IdempotentReplay(replace(held, recorded_at=None))
        live_key = (application.force_id, application.applicant_key, application.group_id)
        if guard and is_live(application.stage) and live_key in self._live:
            raise DuplicateLiveApplication(self._live[live_key])
        if key in self.applications:
            raise ReferenceTaken()
        if any(link.token_hash in self.links for link in links):
            raise LinkConflict("a link with that token already exists")  # the adapter's transaction fails too
        self._spend(rate_spends, application.submitted_at)
        stored = replace(application, version=1)
        self.applications[key] = stored
        self._events[key] = list(events)
        if guard and is_live(application.stage):
            self._live[live_key] = application.reference
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

    def release(self, key: EmailKey) -> int:
        entry = self._entries.get(self._key(key))
        if not entry or entry["status"] != "sending":
            return 0
        entry.update(status="pending", failures=entry.get("failures", 0) + 1)
        return entry["failures"]

    def mark_sent(self, key: EmailKey, message_id: str, at: datetime) -> None:
        self._settle(key, "sent", message_id, at)

    def mark_unconfirmed(self, key: EmailKey, message_id: str, at: datetime) -> None:
        self._settle(key, "sent_unconfirmed", message_id, at)

    def _settle(self, key: EmailKey, status: str, message_id: str, at: datetime) -> None:
        entry = self._entries.get(self._key(key))
        if entry is not None and entry["status"] in ("pending", "sending"):
            entry.update(status=status, message_id=message_id, sent_at=at)
            self.sent_ids[message_id] = key  # as DynamoOutbox writes SENT#<message id>

    @property
    def sent_ids(self) -> dict[str, EmailKey]:
        return self.__dict__.setdefault("_sent_ids", {})

    def entry(self, key: EmailKey) -> dict:
        return self._entries[self._key(key)]


class FakeSentEmails:
    """SentEmails (services/mail_feedback.py) over a FakeOutbox, as DynamoMailFeedback works on the table."""

    def __init__(self, outbox: FakeOutbox) -> None:
        self._outbox = outbox
        self.noted: list[tuple[EmailKey, str]] = []  # (email, feedback id) noted on a person's record

    def sent_as(self, message_id: str) -> Optional[EmailKey]:
        return self._outbox.sent_ids.get(message_id)

    def record_feedback(self, key: EmailKey, feedback) -> bool:
        entry = self._outbox.entry(key)
        seen = entry.setdefault("feedback_ids", set())
        if feedback.feedback_id in seen:
            return False
        seen.add(feedback.feedback_id)
        if entry.get("delivery") not in ("bounced", "complained"):
            entry["delivery"] = {"permanent-bounce": "bounced", "complaint": "complained"}.get(
                feedback.kind.value, "soft-bounced")
        return True

    def note_on_record(self, key: EmailKey, feedback) -> int:
        if key.about.area not in ("application", "member") or (key, feedback.feedback_id) in self.noted:
            return 0
        self.noted.append((key, feedback.feedback_id))
        return 1


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


class FakeMemberStore:
    """MemberStore (services/membership.py) and the links port, as DynamoMemberStore keeps them: a change is
    refused when the member changed since it was read, or when its link is spent, and then nothing is written."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str, str], Member] = {}  # (force, member, group)
        self.events: list[MemberEvent] = []
        self.links: dict[str, Link] = {}

    def put(self, member: Member) -> Member:
        self.by_key[(member.force_id, member.member_id, member.group_id)] = member
        return member

    def members(self, force_id: str, group_id: str) -> list[Member]:
        return sorted((m for (f, _, g), m in self.by_key.items() if (f, g) == (force_id, group_id)),
                      key=lambda m: (m.joined_on, m.member_id))

    def member(self, force_id: str, member_id: str, group_id: str) -> Optional[Member]:
        return self.by_key.get((force_id, member_id, group_id))

    def save_change(self, before: Member, after: Member, event: MemberEvent, link: Optional[Link] = None) -> None:
        current = self.member(before.force_id, before.member_id, before.group_id)
        if current is None or current.changes != before.changes:
            raise MemberConflict(before.member_id)
        if link is not None:
            self._usable(link, event.at)
        self.put(after)
        self.events.append(event)
        if link is not None:
            self.links[link.token_hash] = replace(self.links[link.token_hash], used_at=event.at)

    def member_events(self, force_id: str, member_id: str) -> list[MemberEvent]:
        return [e for e in self.events if e.member_id == member_id]

    def spend(self, link: Link, at: datetime) -> None:
        self._usable(link, at)
        self.links[link.token_hash] = replace(self.links[link.token_hash], used_at=at)
    def add_links(self, links: list[Link]) -> None:
        for link in links:
            self.links[link.token_hash] = link

    def link(self, token_hash: str) -> Optional[Link]:
        return self.links.get(token_hash)

    def _usable(self, link: Link, at: datetime) -> None:
        stored = self.links.get(link.token_hash)
        if stored is None or stored.used_at is not None or stored.expires_at <= at:
            raise LinkConflict()


class FakeMeetingStore:
    """MeetingStore (services/meetings.py): a change is refused when the meeting moved on since it was read."""

    def __init__(self) -> None:
        from chalicelib.domain.meeting_plans import PlannedMeeting  # noqa: F401 (for the type only)
        self.planned: dict[tuple[str, str, str], object] = {}

    def add(self, force_id, group_id, planned, at) -> bool:
        key = (force_id, group_id, planned.meeting.uid_key)
        if key in self.planned:
            return False
        self.planned[key] = planned
        return True

    def all(self, force_id, group_id) -> list:
        return sorted((p for (f, g, _), p in self.planned.items() if (f, g) == (force_id, group_id)),
                      key=lambda p: p.meeting.starts_at)

    def get(self, force_id, group_id, uid_key):
        return self.planned.get((force_id, group_id, uid_key))

    def change(self, force_id, group_id, before, after, at) -> bool:
        key = (force_id, group_id, before.meeting.uid_key)
        if key not in self.planned or self.planned[key].sequence != before.sequence:
            return False
        self.planned[key] = after
        return True


class FakeMeetingRecords:
    """MeetingRecords (services/meeting_business.py), spending links as DynamoMeetingRecords does."""

    def __init__(self, links: dict) -> None:
        self._links = links  # token hash -> Link, shared with the links fake
        self.agendas: dict[tuple, list] = {}
        self.paper_list: dict[tuple, list] = {}
        self.answer_map: dict[tuple, dict] = {}
        self.attended: dict[tuple, tuple] = {}
        self.minute_map: dict[tuple, object] = {}
        self.action_map: dict[tuple, dict] = {}

    def _spend(self, link: Link, at: datetime) -> None:
        stored = self._links.get(link.token_hash)
        if stored is None or stored.used_at is not None or stored.expires_at <= at:
            raise LinkConflict()
        self._links[link.token_hash] = replace(stored, used_at=at)

    def add_agenda_items(self, force_id, group_id, uid_key, items, link) -> None:
        self._spend(link, items[0].at)
        self.agendas.setdefault((force_id, group_id, uid_key), []).extend(items)

    def agenda(self, force_id, group_id, uid_key) -> list:
        return list(self.agendas.get((force_id, group_id, uid_key), []))

    def add_paper(self, force_id, group_id, uid_key, paper) -> None:
        papers = self.paper_list.setdefault((force_id, group_id, uid_key), [])
        papers[:] = [p for p in papers if p.filename != paper.filename] + [paper]

    def papers(self, force_id, group_id, uid_key) -> list:
        return sorted(self.paper_list.get((force_id, group_id, uid_key), []), key=lambda p: p.filename)

    def record_answer(self, force_id, group_id, uid_key, member_id, answer, at, link) -> None:
        self._spend(link, at)
        self.answer_map.setdefault((force_id, group_id, uid_key), {})[member_id] = answer

    def answers(self, force_id, group_id, uid_key) -> dict:
        return dict(self.answer_map.get((force_id, group_id, uid_key), {}))

    def confirm_attendance(self, force_id, group_id, uid_key, present, by, at) -> None:
        self.attended[(force_id, group_id, uid_key)] = present

    def attendance(self, force_id, group_id, uid_key):
        return self.attended.get((force_id, group_id, uid_key))

    def publish_minutes(self, force_id, group_id, uid_key, minutes, actions) -> bool:
        if (force_id, group_id, uid_key) in self.minute_map:
            return False
        self.minute_map[(force_id, group_id, uid_key)] = minutes
        for action in actions:
            self.action_map[(force_id, group_id, action.id)] = action
        return True

    def minutes(self, force_id, group_id, uid_key):
        return self.minute_map.get((force_id, group_id, uid_key))

    def actions(self, force_id, group_id) -> list:
        return sorted((a for (f, g, _), a in self.action_map.items() if (f, g) == (force_id, group_id)),
                      key=lambda a: a.id)

    def close_action(self, force_id, group_id, action_id, on) -> bool:
        action = self.action_map.get((force_id, group_id, action_id))
        if action is None or action.closed_on is not None:
            return False
        self.action_map[(force_id, group_id, action_id)] = replace(action, closed_on=on)
        return True


class FakePaperFiles:
    """The private bucket: what was put, and links that name the key and how long they work."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    def put_paper(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = (data, content_type)

    def paper_url(self, key: str, filename: str, expires_in: int) -> str:
        return f"https://bucket.example/{key}?X-Amz-Expires={expires_in}"


class FakeMemberImportStore:
    """MemberImportStore in dictionaries: an import is all or nothing, as the adapter's transactions (and their
    undo) make it; `fail_after` makes the write fail after that many changes, as a cancelled transaction would."""

    def __init__(self) -> None:
        self.members_by_key: dict = {}  # (force, member id, group) -> Member
        self.audit: list[dict] = []
        self.agreements: list = []
        self.links: dict[str, Link] = {}
        self.fail_after: Optional[int] = None

    def members(self, force_id: str, group_id: str) -> list:
        return [m for (f, _, g), m in self.members_by_key.items() if f == force_id and g == group_id]

    def member(self, force_id: str, member_id: str, group_id: str):
        return self.members_by_key.get((force_id, member_id, group_id))

    def apply_import(self, force_id: str, changes: list, actor: str, at: datetime) -> None:
        if self.fail_after is not None and len(changes) > self.fail_after:
            raise RuntimeError("the write failed part way: nothing is kept")
        for change in changes:
            member = change.after
            self.members_by_key[(member.force_id, member.member_id, member.group_id)] = member
            self.audit.append({"member": member.member_id, "fields": list(change.fields), "by": actor, "at": at,
                               "created": change.before is None})

    def sign_agreement(self, member, agreement, link: Link) -> None:
        from chalicelib.services.ports import LinkConflict

        stored = self.links.get(link.token_hash)
        if stored is None or stored.used_at is not None or agreement.signed_at >= stored.expires_at:
            raise LinkConflict()
        self.links[link.token_hash] = replace(stored, used_at=agreement.signed_at)
        key = (member.force_id, member.member_id, member.group_id)
        self.members_by_key[key] = replace(self.members_by_key[key], agreement_version=(
            f"{agreement.document_id}@{agreement.document_version}"))
        self.agreements.append(agreement)

    # the Links port, over the same links
    def add_links(self, links: list[Link]) -> None:
        for link in links:
            self.links[link.token_hash] = link

    def link(self, token_hash: str) -> Optional[Link]:
        return self.links.get(token_hash)


class FakeDraftStore:
    """DraftStore (services/drafts.py) in dictionaries; links by their hash, spent once, as DynamoDraftStore."""

    def __init__(self) -> None:
        self.drafts: dict[tuple[str, str], Draft] = {}
        self.links: dict[str, Link] = {}

    def get(self, force_id: str, draft_id: str) -> Optional[Draft]:
        return self.drafts.get((force_id, draft_id))

    def put(self, draft: Draft) -> None:
        self.drafts[(draft.force_id, draft.draft_id)] = draft

    def delete(self, force_id: str, draft_id: str) -> None:
        self.drafts.pop((force_id, draft_id), None)

    def add_link(self, link: Link) -> None:
        self.links[link.token_hash] = link

    def remove_link(self, link: Link) -> None:
        self.links.pop(link.token_hash, None)

    def link(self, token_hash: str) -> Optional[Link]:
        return self.links.get(token_hash)

    def spend_link(self, link: Link, at: datetime) -> bool:
        stored = self.links.get(link.token_hash)
        if stored is None or stored.used_at is not None or stored.expires_at <= at:
            return False
        self.links[link.token_hash] = replace(stored, used_at=at)
        return True


class FakeAlertStore:
    """AlertStore: alerts noted for each force's day, each incident once a day, as DynamoAlertStore."""

    def __init__(self) -> None:
        self.days: dict[tuple[str, date], dict[str, Alert]] = {}

    def note(self, alert: Alert, day: date) -> bool:
        noted = self.days.setdefault((alert.force_id, day), {})
        if alert.key in noted:
            return False
        noted[alert.key] = alert
        return True

    def noted(self, force_id: str, day: date) -> list[Alert]:
        return list(self.days.get((force_id, day), {}).values())


class FakeLateDecisions:
    """LateDecisions: decisions the test records as made and not yet told to their runs."""

    def __init__(self) -> None:
        self.undelivered: dict[tuple[str, str], datetime] = {}

    def undelivered_before(self, force_id: str, before: datetime) -> list[tuple[str, datetime]]:
        return [(reference, at) for (force, reference), at in self.undelivered.items()
                if force == force_id and at < before]
