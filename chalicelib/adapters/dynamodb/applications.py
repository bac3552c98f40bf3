"""Applications: the application item, its audit events, equality record, live guard, person index, idempotency
record and rate counters, and the repository the services use (keys as in base.py)."""
from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Optional

from pynamodb.attributes import (
    ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute,
)
from pynamodb.expressions.operand import Path
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.base import (
    Item, OutboxItem, applicant_partition, application_pk, connection, key_timestamp, outbox_item, outbox_values,
    pack_request_pk, pending_emails_key, stage_key,
)
from chalicelib.adapters.dynamodb.links import LinkItem, link_values
from chalicelib.adapters.dynamodb.wire import Transaction
from chalicelib.domain.lifecycle import Stage, is_live
from chalicelib.domain.links import Link
from chalicelib.domain.rate_limits import RateLimited, RateSpend, retry_after
from chalicelib.services import ports
from chalicelib.services.ports import (
    DuplicateLiveApplication, IdempotentReplay, LinkConflict, ReferenceTaken, StaleApplication,
)

if TYPE_CHECKING:
    from chalicelib.domain.application import Application, AuditEvent
    from chalicelib.services.ports import EqualityRecord, IdempotencyRecord, Page


class ApplicationItem(Item, discriminator="application"):
    """PK FORCE#<force>#APP#<ref>  SK APPLICATION  GSI1 FORCE#<force>#GROUP#<group>#STAGE#<stage> / <submitted>#<ref>"""
    reference = UnicodeAttribute()
    force_id = UnicodeAttribute()
    group_id = UnicodeAttribute()
    stage = UnicodeAttribute()
    submitted_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    applicant_key = UnicodeAttribute()
    applicant: MapAttribute[str, Any] = MapAttribute()
    answers: MapAttribute[str, Any] = MapAttribute()
    eligibility: MapAttribute[str, Any] = MapAttribute()
    version = VersionAttribute()
    stages_seen = ListAttribute(of=UnicodeAttribute, null=True)  # every stage its events name: the funnel's path


class FunnelCountItem(Item, discriminator="funnel_count"):
    """PK FORCE#<force>#COUNTS  SK FUNNEL#<group>: the group's recruitment funnel as counters (step_<step>,
    exit_<exit>, now_<stage>, deleted), changed in the same transaction as every move (domain/recruitment.py
    `counter_changes`), so a report reads one item a group and never an application."""


def funnel_key(force_id: str, group_id: str) -> tuple[str, str]:
    return f"FORCE#{force_id}#COUNTS", f"FUNNEL#{group_id}"


def funnel_updates(force_id: str, changes: dict[str, dict[str, int]]) -> list[tuple[str, str, list]]:
    """(PK, SK, actions) for each group's counters that `changes` moves."""
    return [(*funnel_key(force_id, group_id), [FunnelCountItem.type.set(FunnelCountItem),
                                               *(Path(name).add(n) for name, n in sorted(values.items()))])
            for group_id, values in sorted(changes.items())]


def count_in_funnel(transaction: TransactWrite, force_id: str, changes: dict[str, dict[str, int]]) -> None:
    for pk, sk, actions in funnel_updates(force_id, changes):
        transaction.update(FunnelCountItem(pk=pk, sk=sk), actions=actions)


class AuditEventItem(Item, discriminator="event"):
    """PK FORCE#<force>#APP#<ref>  SK EVENT#<at>#<n>: kept after erasure, so it holds no personal data."""
    reference = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    action = UnicodeAttribute()
    from_stage = UnicodeAttribute(null=True)
    to_stage = UnicodeAttribute()
    actor = UnicodeAttribute()
    detail: MapAttribute[str, Any] = MapAttribute(null=True)


class EqualityItem(Item, discriminator="equality"):
    """PK FORCE#<force>#EQUALITY#<ref>  SK EQUALITY  GSI1 FORCE#<force>#EQUALITY#GROUP#<group> / <recorded>#<ref>"""
    reference = UnicodeAttribute()
    group_id = UnicodeAttribute()
    answers: MapAttribute[str, Any] = MapAttribute()
    recorded_at = UTCDateTimeAttribute()


class LiveApplicationItem(Item, discriminator="live"):
    """PK FORCE#<force>#APPLICANT#<sha256(email)>  SK GROUP#<group>: exists while that person's application there is live."""
    reference = UnicodeAttribute()


class ApplicantIndexItem(Item, discriminator="applicant_index"):
    """PK FORCE#<force>#APPLICANT#<sha256(email)>  SK APP#<ref> or PACK#<id>: what one person sent, for a subject
    access request (which arrives by email) to be answered with a Query."""
    reference = UnicodeAttribute()



class IdempotencyItem(Item, discriminator="idempotency"):
    """PK FORCE#<force>#IDEMPOTENCY#<sha256(key)>  SK IDEMPOTENCY: the first answer, returned to retries for 24 h."""
    request_hash = UnicodeAttribute()
    response: MapAttribute[str, Any] = MapAttribute()



class RateCounterItem(Item, discriminator="rate"):
    """PK RATE#<action>#<email|client>#<sha256 of the address>#<window start>  SK COUNT: uses in that window.
    Spent in the same transaction as what the request stores; TTL removes it when the window ends."""
    uses = NumberAttribute(default=0)


def _spend_update(spend: RateSpend) -> tuple[list, Any]:
    """The actions and condition that spend one use of a rate counter, refused once it is full."""
    return ([RateCounterItem.uses.add(1), RateCounterItem.type.set(RateCounterItem),
             RateCounterItem.expires_at.set(datetime.fromtimestamp(spend.window_ends, timezone.utc))],
            RateCounterItem.uses.does_not_exist() | (RateCounterItem.uses < spend.limit))


def _spend(transaction: TransactWrite, spend: RateSpend) -> None:
    actions, condition = _spend_update(spend)
    transaction.update(RateCounterItem(pk=spend.key, sk="COUNT"), actions=actions, condition=condition)


def _refused_spend(reasons, spends: tuple[RateSpend, ...], at: datetime) -> None:
    """Raise RateLimited when a counter was full. pynamodb sends updates after every put, so the counters'
    cancellation reasons are the last ones."""
    for spend, reason in zip(spends, (reasons or [])[len(reasons or []) - len(spends):], strict=False):
        if reason and reason.code == "ConditionalCheckFailed":
            raise RateLimited(retry_after(spend, at)) from None



class PackRequestItem(Item, discriminator="pack_request"):
    """PK FORCE#<force>#PACK#<id>  SK PACK: a request for the application pack in an accessible format."""
    force_id = UnicodeAttribute()
    request_id = UnicodeAttribute()
    requested_at = UTCDateTimeAttribute()
    details: MapAttribute[str, Any] = MapAttribute()



class DynamoApplicationRepository:
    def add(self, application: Application, events: list[AuditEvent], *,
            equality: Optional[EqualityRecord], idempotency: Optional[IdempotencyRecord],
            emails: tuple[str, ...] = (), links: tuple[Link, ...] = (),
            rate_spends: tuple[RateSpend, ...] = (), guard: bool = True) -> Application:
        from chalicelib.domain.recruitment import counter_changes  # on a write only: not at the Lambda's cold start

        seen = _seen(application, events)
        values = application_values(application, seen)
        with_guard = guard and is_live(application.stage)
        # The request is built from values (wire.py): model instances for its ten items were most of a
        # submission's own time. Order matters: cancellation reasons come back in this order.
        transaction = Transaction()
        version = transaction.put(ApplicationItem, values, condition=ApplicationItem.pk.does_not_exist())
        for n, event in enumerate(events):
            transaction.put(AuditEventItem, event_values(event, application.force_id, n))
        if with_guard:
            transaction.put(LiveApplicationItem, {
                "pk": f"FORCE#{application.force_id}#APPLICANT#{application.applicant_key}",
                "sk": f"GROUP#{application.group_id}", "reference": application.reference},
                condition=LiveApplicationItem.pk.does_not_exist(), return_values="ALL_OLD")
        if idempotency:
            transaction.put(IdempotencyItem, {
                "pk": f"FORCE#{application.force_id}#IDEMPOTENCY#{idempotency.key_hash}", "sk": "IDEMPOTENCY",
                "request_hash": idempotency.request_hash, "response": idempotency.response,
                "expires_at": idempotency.expires_at},
                # TTL deletes lazily: an expired record no longer counts.
                condition=IdempotencyItem.pk.does_not_exist() | (IdempotencyItem.expires_at < idempotency.recorded_at),
                return_values="ALL_OLD")
        if equality:
            transaction.put(EqualityItem, _equality_values(equality))
        for kind in emails:
            transaction.put(OutboxItem, outbox_values(application.force_id, values["pk"], kind, application.submitted_at))
        for link in links:
            transaction.put(LinkItem, link_values(link), condition=LinkItem.pk.does_not_exist())
        # Last, so the cancellation reasons above keep their places.
        transaction.put(ApplicantIndexItem, {
            "pk": applicant_partition(application.force_id, application.applicant_key),
            "sk": f"APP#{application.reference}", "reference": application.reference})
        for pk, sk, actions in funnel_updates(application.force_id, counter_changes(
                None, (application.group_id, application.stage, seen))):
            transaction.update(FunnelCountItem, pk, sk, actions)
        for spend in rate_spends:  # the last updates: _refused_spend reads their reasons from the end
            transaction.update(RateCounterItem, spend.key, "COUNT", *_spend_update(spend))
        try:
            transaction.commit()
        except TransactWriteError as error:
            reasons = error.cancellation_reasons
            failed = [i for i, r in enumerate(reasons) if r and r.code == "ConditionalCheckFailed"]
            idempotency_index = len(events) + 1 + int(with_guard)
            if idempotency and idempotency_index in failed:
                old = getattr(reasons[idempotency_index], "raw_item", None) or {}
                raise IdempotentReplay(_idempotency_record(old)) from None
            if with_guard and len(events) + 1 in failed:
                held = (getattr(reasons[len(events) + 1], "raw_item", None) or {}).get("reference", {}).get("S")
                raise DuplicateLiveApplication(held) from None
            if 0 in failed:
                raise ReferenceTaken() from None
            first_link = 1 + len(events) + int(with_guard) + int(bool(idempotency)) + int(bool(equality)) + len(emails)
            if any(first_link <= i < first_link + len(links) for i in failed):
                raise LinkConflict("a link with that token already exists") from None
            _refused_spend(reasons, rate_spends, application.submitted_at)
            raise
        return replace(application, version=version, stages_seen=seen, stored_group=application.group_id)

    def add_pack_request(self, force_id: str, request_id: str, details: dict, at: datetime,
                         rate_spends: tuple[RateSpend, ...] = ()) -> None:
        pk = pack_request_pk(force_id, request_id)
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.save(PackRequestItem(pk=pk, sk="PACK", force_id=force_id, request_id=request_id,
                                                 requested_at=at, details=details),
                                 condition=PackRequestItem.pk.does_not_exist())
                transaction.save(outbox_item(force_id, pk, "pack_request", at))
                if details.get("email"):
                    from chalicelib.domain.application import applicant_key as person_key

                    transaction.save(ApplicantIndexItem(pk=applicant_partition(force_id, person_key(details["email"])),
                                                        sk=f"PACK#{request_id}", reference=request_id))
                for spend in rate_spends:
                    _spend(transaction, spend)
        except TransactWriteError as error:
            _refused_spend(error.cancellation_reasons, rate_spends, at)
            raise

    def get_pack_request(self, force_id: str, request_id: str) -> Optional[dict]:
        try:
            item = PackRequestItem.get(pack_request_pk(force_id, request_id), "PACK")
        except PackRequestItem.DoesNotExist:
            return None
        return {"request_id": item.request_id, "requested_at": item.requested_at, "details": item.details.as_dict()}

    def pending_emails(self, application: Application) -> list[tuple[str, dict]]:
        items = OutboxItem.query(application_pk(application.force_id, application.reference),
                                 OutboxItem.sk.startswith("EMAIL#"), filter_condition=OutboxItem.status.is_in("pending", "sending"))
        return [(i.kind, i.detail.as_dict() if i.detail else {}) for i in items]

    def get(self, force_id: str, reference: str) -> Optional[Application]:
        try:
            # Strongly consistent: a step that just moved the application must read what it wrote.
            return application_from_item(ApplicationItem.get(application_pk(force_id, reference), "APPLICATION",
                                                  consistent_read=True))
        except ApplicationItem.DoesNotExist:
            return None

    def save_transition(self, application: Application, event: AuditEvent,
                        emails: tuple[tuple[str, dict], ...] = (), previous_group: Optional[str] = None) -> Application:
        return save_transition(application, event, emails, previous_group=previous_group)

    def list_by_stage(self, force_id: str, group_id: str, stage: Stage, *, limit: int = 25,
                      next_token: Optional[str] = None) -> Page:
        results = ApplicationItem.by_stage.query(
            stage_key(force_id, group_id, stage), scan_index_forward=False, limit=limit,
            last_evaluated_key=_decode_token(next_token))
        items = [application_from_item(i) for i in results]
        last = results.last_evaluated_key
        return ports.Page(items, _encode_token(last) if last else None)

    def all_at(self, force_id: str, group_id: str, stage: Stage):
        """Every application of a group at a stage, page by page."""
        token = None
        while True:
            page = self.list_by_stage(force_id, group_id, stage, limit=100, next_token=token)
            yield from page.items
            token = page.next_token
            if not token:
                return

    def pending_email_references(self, force_id: str, before: datetime) -> list[str]:
        """Applications with an announced email still unsent since before `before` (oldest first)."""
        items = OutboxItem.by_stage.query(pending_emails_key(force_id), OutboxItem.gsi1sk < key_timestamp(before))
        marker = f"FORCE#{force_id}#APP#"
        return list(dict.fromkeys(i.pk[len(marker):] for i in items if i.pk.startswith(marker)))

    def events(self, force_id: str, reference: str) -> list[AuditEvent]:
        from chalicelib.domain.application import AuditEvent

        return [
            AuditEvent(i.reference, i.at, i.action, Stage(i.from_stage) if i.from_stage else None,
                       Stage(i.to_stage), i.actor, i.detail.as_dict() if i.detail else {})
            for i in AuditEventItem.query(application_pk(force_id, reference), AuditEventItem.sk.startswith("EVENT#"))
        ]


class ConditionFailed(Exception):
    """A condition other than the application's version failed (e.g. a link already used)."""


def save_transition(application: Application, event: AuditEvent, emails: tuple[tuple[str, dict], ...] = (),
                    more: Optional[Callable[[TransactWrite], None]] = None,
                    previous_group: Optional[str] = None) -> Application:
    """The moved application, its event, the emails it owes and whatever `more` adds, in one write.

    Raises StaleApplication if the application moved meanwhile, ConditionFailed if one of `more`'s conditions failed.
    """
    from chalicelib.domain.recruitment import counter_changes  # on a write only: not at the Lambda's cold start

    seen = _seen(application, [event])
    item = application_item(application, seen)
    before = (previous_group or application.stored_group or application.group_id, event.from_stage,
              application.stages_seen) if event.from_stage is not None else None
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(item)  # the version attribute adds the optimistic-lock condition
            transaction.save(event_item(event, application.force_id, 0))
            for kind, detail in emails:
                transaction.save(outbox_item(application.force_id, item.pk, kind, event.at, detail),
                                 condition=OutboxItem.pk.does_not_exist())
            guard_pk = f"FORCE#{application.force_id}#APPLICANT#{application.applicant_key}"
            if previous_group and previous_group != application.group_id:
                # Redirected: the person may apply to the first group again, and not twice to this one.
                transaction.delete(LiveApplicationItem(pk=guard_pk, sk=f"GROUP#{previous_group}"))
                if is_live(event.to_stage):
                    transaction.save(LiveApplicationItem(pk=guard_pk, sk=f"GROUP#{application.group_id}",
                                                         reference=application.reference))
            elif event.from_stage is not None and is_live(event.from_stage) and not is_live(event.to_stage):
                transaction.delete(LiveApplicationItem(pk=guard_pk, sk=f"GROUP#{application.group_id}"))
            if more:
                more(transaction)
            count_in_funnel(transaction, application.force_id,
                            counter_changes(before, (application.group_id, event.to_stage, seen)))
    except TransactWriteError as error:
        reasons = error.cancellation_reasons or []
        if reasons and reasons[0] and reasons[0].code == "ConditionalCheckFailed":
            raise StaleApplication(application.reference) from None
        if any(r and r.code == "ConditionalCheckFailed" for r in reasons):
            raise ConditionFailed(application.reference) from None
        raise
    return application_from_item(item)


def _seen(application: Application, events: list[AuditEvent]) -> frozenset[Stage]:
    return application.stages_seen | {s for e in events for s in (e.from_stage, e.to_stage) if s is not None}


def application_values(application: Application, seen: Optional[frozenset[Stage]] = None) -> dict[str, Any]:
    """The application item's attributes (names as ApplicationItem's); version only once stored."""
    seen = application.stages_seen if seen is None else seen
    values: dict[str, Any] = dict(
        pk=application_pk(application.force_id, application.reference), sk="APPLICATION",
        gsi1pk=stage_key(application.force_id, application.group_id, application.stage),
        gsi1sk=f"{key_timestamp(application.submitted_at)}#{application.reference}",
        reference=application.reference, force_id=application.force_id, group_id=application.group_id,
        stage=application.stage.value, submitted_at=application.submitted_at, updated_at=application.updated_at,
        applicant_key=application.applicant_key, applicant=application.applicant, answers=application.answers,
        eligibility=application.eligibility, stages_seen=sorted(s.value for s in seen) or None)
    if application.version:
        values["version"] = application.version
    return values


def application_item(application: Application, seen: Optional[frozenset[Stage]] = None) -> ApplicationItem:
    return ApplicationItem(**application_values(application, seen))


def application_from_item(item: ApplicationItem) -> Application:
    # The domain's applications are imported by the requests that read or write one, not at the cold start.
    from chalicelib.domain.application import Application

    return Application(
        reference=item.reference, force_id=item.force_id, group_id=item.group_id, stage=Stage(item.stage),
        submitted_at=item.submitted_at, updated_at=item.updated_at, applicant=item.applicant.as_dict(),
        answers=item.answers.as_dict(), eligibility=item.eligibility.as_dict(), version=item.version,
        stages_seen=frozenset(Stage(s) for s in item.stages_seen or ()), stored_group=item.group_id)


def event_values(event: AuditEvent, force_id: str, n: int) -> dict[str, Any]:
    # Time, then order within one write, then who did what: two events never share a key.
    return dict(
        pk=application_pk(force_id, event.reference), sk=f"EVENT#{key_timestamp(event.at)}#{n:02d}#{event.action}#{event.actor}",
        reference=event.reference, at=event.at, action=event.action,
        from_stage=event.from_stage.value if event.from_stage else None, to_stage=event.to_stage.value,
        actor=event.actor, detail=event.detail or None)


def event_item(event: AuditEvent, force_id: str, n: int) -> AuditEventItem:
    return AuditEventItem(**event_values(event, force_id, n))


def _equality_values(record: EqualityRecord) -> dict[str, Any]:
    return dict(
        pk=f"FORCE#{record.force_id}#EQUALITY#{record.reference}", sk="EQUALITY",
        gsi1pk=f"FORCE#{record.force_id}#EQUALITY#GROUP#{record.group_id}",
        gsi1sk=f"{key_timestamp(record.recorded_at)}#{record.reference}",
        reference=record.reference, group_id=record.group_id, answers=record.answers,
        recorded_at=record.recorded_at)


def _idempotency_record(raw: dict) -> IdempotencyRecord:
    item = IdempotencyItem.from_raw_data(raw)
    return ports.IdempotencyRecord(item.pk.rsplit("#", 1)[-1], item.request_hash, item.response.as_dict(),
                                   recorded_at=None, expires_at=item.expires_at)


def _encode_token(key: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode_token(token: Optional[str]) -> Optional[dict]:
    if not token:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError:
        raise ValueError("not a page token from this service") from None
    if not isinstance(key, dict):
        raise ValueError("not a page token from this service")
    return key
