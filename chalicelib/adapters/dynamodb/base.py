"""The single table: its base model and keys, the outbox item every area writes, and the helpers they share.


One table; every item has PK, SK and a `type`. Keys always start with the
force, so a query can never reach another force's data. Access is by key or
by the GSI1 index; nothing on a request path scans.

| item            | PK                                         | SK               | GSI1PK                                          | GSI1SK                   |
|-----------------|--------------------------------------------|------------------|-------------------------------------------------|--------------------------|
| application     | FORCE#<force>#APP#<ref>                    | APPLICATION      | FORCE#<force>#GROUP#<group>#STAGE#<stage>       | <submitted_at>#<ref>     |
| audit event     | FORCE#<force>#APP#<ref>                    | EVENT#<at>#<n>   |                                                 |                          |
| equality record | FORCE#<force>#EQUALITY#<ref>               | EQUALITY         | FORCE#<force>#EQUALITY#GROUP#<group>            | <recorded_at>#<ref>      |
| live guard      | FORCE#<force>#APPLICANT#<sha256(email)>    | GROUP#<group>    |                                                 |                          |
| person index    | FORCE#<force>#APPLICANT#<sha256(email)>    | APP#<ref>, PACK#<id> |                                             |                          |
| idempotency     | FORCE#<force>#IDEMPOTENCY#<sha256(key)>    | IDEMPOTENCY      |                                                 |                          |
| email outbox    | the partition the email is about           | EMAIL#<kind>     | FORCE#<force>#OUTBOX#PENDING (while unsent)     | <created_at>#<PK>        |
| pack request    | FORCE#<force>#PACK#<id>                    | PACK             |                                                 |                          |
| email link      | LINK#<sha256(token)>                       | LINK             | FORCE#<force>#EXPIRES#LINK (retention's index)  | <expires_at>#<PK>        |
| sent email      | SENT#<provider message id>                 | SENT             |                                                 |                          |

Equality records live in their own partitions so that IAM can deny them to
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from pynamodb.attributes import (
    DiscriminatorAttribute, MapAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection, TableConnection
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.domain.lifecycle import Stage
from chalicelib.settings import Settings

_configured = False  # set by configure(); until then no model connects anywhere


class StorageNotConfigured(RuntimeError):
    """A model was used before configure(settings): refused rather than sent to real AWS."""


class ByStageIndex(GlobalSecondaryIndex):
    """Applications of a force and group at one stage, newest first (query with scan_index_forward=False)."""

    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")


class Item(Model):
    class Meta:
        # Until configure(settings) these are only names: a model used before then refuses to connect (see below).
        table_name = "iag-backoffice"
        region = "eu-west-2"

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    type = DiscriminatorAttribute()
    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    by_stage = ByStageIndex()
    expires_at = TTLAttribute(null=True, attr_name="ttl")


    @classmethod
    def _get_connection(cls) -> TableConnection:
        # Every pynamodb call goes through here: without configure() it would reach real AWS with whatever
        # credentials the machine has, so it fails instead.
        if not _configured:
            raise StorageNotConfigured("the storage models were used before configure(settings) pointed them at a "
                                       "table and an endpoint")
        if cls is not Item:
            # Every item class is in the one table with Item's keys and indexes: one connection for all of them.
            # pynamodb would make one per class, each with its own botocore session and client (about 0.2 s of
            # CPU apiece), several times over in a cold Lambda and in every test.
            return Item._get_connection()
        return super()._get_connection()



class OutboxItem(Item, discriminator="email"):
    """PK <the partition it is about>  SK EMAIL#<kind>  GSI1 FORCE#<force>#OUTBOX#PENDING / <created>#<PK> until sent.

    Written in the same transaction as what it announces, so an email that
    could not be sent is still known and can be sent again.
    """
    kind = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | sending | sent | sent_unconfirmed (adapters/dynamodb/outbox.py)
    created_at = UTCDateTimeAttribute()
    claimed_at = UTCDateTimeAttribute(null=True)
    detail: MapAttribute[str, Any] = MapAttribute(null=True)  # what the email needs beyond the application (never a token)
    sent_at = UTCDateTimeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)
    failures = NumberAttribute(null=True)  # sends that failed (the alerts service tells a person when it grows)
    # Told later by the provider (adapters/dynamodb/mail_feedback.py): bounced | complained | soft-bounced, and the
    # ids of the notifications applied, so a notification delivered twice is applied once.
    delivery = UnicodeAttribute(null=True)
    feedback_ids = UnicodeSetAttribute(null=True)



SETTLED = ("sent", "sent_unconfirmed")  # an email in either state is never sent again

def pending_emails_key(force_id: str) -> str:
    return f"FORCE#{force_id}#OUTBOX#PENDING"


def outbox_values(force_id: str, pk: str, kind: str, at: datetime, detail: Optional[dict] = None) -> dict[str, Any]:
    return dict(pk=pk, sk=f"EMAIL#{kind}", kind=kind, status="pending", created_at=at, detail=detail,
                gsi1pk=pending_emails_key(force_id), gsi1sk=f"{key_timestamp(at)}#{pk}")


def outbox_item(force_id: str, pk: str, kind: str, at: datetime, detail: Optional[dict] = None) -> OutboxItem:
    return OutboxItem(**outbox_values(force_id, pk, kind, at, detail))



def conditional_update(item: Item, actions: list, condition) -> bool:
    """Apply the update if the condition holds; False (not an error) when it does not."""
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def conditional_save(item: Item, condition) -> bool:
    """Write the item if the condition holds (e.g. it does not exist yet); False (not an error) when it does not."""
    try:
        item.save(condition=condition)
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True



def all_models() -> list[type[Item]]:
    """Item and every item class defined on it, wherever it is defined."""
    found, pending = [], [Item]
    while pending:
        model = pending.pop()
        found.append(model)
        pending.extend(model.__subclasses__())
    return found


def warm_connections() -> None:
    """Build each model's client now (botocore parses a large JSON model for it), e.g. once in a process that
    flow runs fork from; clients hold no connection yet, so each run still opens its own."""
    for model in all_models():
        if getattr(getattr(model, "Meta", None), "table_name", None):
            model._get_connection().connection.client  # noqa: B018 -- built and cached on the model class


def configure(settings: Settings) -> None:
    """Point every model at the settings' table and endpoint; drops cached connections."""
    global _configured
    for model in all_models():
        model.Meta.table_name = settings.table_name
        model.Meta.region = settings.region
        model.Meta.host = settings.dynamodb_endpoint  # type: ignore[attr-defined]  # optional in pynamodb's Meta
        model._connection = None
    _configured = True


def create_table_if_missing() -> bool:
    if Item.exists():
        return False
    Item.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    return True



def connection() -> Connection:
    """The models' connection, for transactions that span several item classes."""
    return Item._get_connection().connection


def applicant_partition(force_id: str, key: str) -> str:
    return f"FORCE#{force_id}#APPLICANT#{key}"



def application_pk(force_id: str, reference: str) -> str:
    return f"FORCE#{force_id}#APP#{reference}"


def pack_request_pk(force_id: str, request_id: str) -> str:
    return f"FORCE#{force_id}#PACK#{request_id}"


def stage_key(force_id: str, group_id: str, stage: Stage) -> str:
    return f"FORCE#{force_id}#GROUP#{group_id}#STAGE#{stage.value}"



def key_timestamp(moment: datetime) -> str:
    """A moment as it is written in sort keys: UTC, to the microsecond, so keys sort by time."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

