"""The outbox in the single table: one item per email, PK the partition it is about, SK EMAIL#<kind>.

status: pending (announced in the same write as what it announces) → sending (claimed) → sent, or
sent_unconfirmed (it went but marking it failed once). Only pending, absent and stale sending items can be
claimed. GSI1 FORCE#<force>#OUTBOX#PENDING lists announced emails until they are settled.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable

from chalicelib.adapters.dynamodb.alerts import alert_pk
from chalicelib.adapters.dynamodb.base import OutboxItem, SETTLED, application_pk, conditional_update, pack_request_pk
from chalicelib.adapters.dynamodb.callouts import incident_pk
from chalicelib.adapters.dynamodb.drafts import draft_pk
from chalicelib.adapters.dynamodb.elections import election_pk
from chalicelib.adapters.dynamodb.joining import member_pk
from chalicelib.adapters.dynamodb.mail_feedback import sent_email_item
from chalicelib.adapters.dynamodb.meetings import meetings_pk
from chalicelib.adapters.dynamodb.strategic import cycle_pk
from chalicelib.adapters.dynamodb.subject_access import sar_pk
from chalicelib.domain.retention import DRAFT_LIFETIME
from chalicelib.services.ports import About, EmailKey

PARTITIONS: dict[str, Callable[[str, str], str]] = {
    "application": application_pk, "pack_request": pack_request_pk, "cycle": cycle_pk,
    "meetings": meetings_pk, "election": election_pk, "incident": incident_pk, "member": member_pk,
    "subject_access": sar_pk, "draft": draft_pk, "alert": alert_pk,
}
log = logging.getLogger(__name__)
NOBODY_TO_TELL = "nobody-to-tell"  # services/outbox.py's id for an email that had no recipient: nothing to bounce
# Emails about something that DynamoDB's TTL removes carry a TTL too, so their records go with it.
LIFETIMES: dict[str, timedelta] = {"draft": DRAFT_LIFETIME}


def partition(about: About) -> str:
    return PARTITIONS[about.area](about.force_id, about.id)


def _item(key: EmailKey) -> OutboxItem:
    return OutboxItem(pk=partition(key.about), sk=f"EMAIL#{key.kind}")


class DynamoOutbox:
    def claim(self, key: EmailKey, at: datetime, stale_before: datetime) -> bool:
        """Creates the entry if no write announced it (e.g. review requests)."""
        lifetime = LIFETIMES.get(key.about.area)
        return conditional_update(
            _item(key),
            actions=[OutboxItem.status.set("sending"), OutboxItem.claimed_at.set(at),
                     OutboxItem.kind.set(key.kind), OutboxItem.type.set(OutboxItem),
                     OutboxItem.created_at.set(OutboxItem.created_at | at),
                     *([OutboxItem.expires_at.set(at + lifetime)] if lifetime else [])],
            condition=OutboxItem.pk.does_not_exist() | (OutboxItem.status == "pending")
            | ((OutboxItem.status == "sending") & (OutboxItem.claimed_at < stale_before)))

    def release(self, key: EmailKey) -> int:
        item = _item(key)  # update() leaves the item as written: its failures count after this one
        if not conditional_update(item, actions=[OutboxItem.status.set("pending"), OutboxItem.failures.add(1)],
                                  condition=OutboxItem.status == "sending"):
            return 0
        return int(item.failures or 0)

    def mark_sent(self, key: EmailKey, message_id: str, at: datetime) -> None:
        self._settle(key, "sent", message_id, at)

    def mark_unconfirmed(self, key: EmailKey, message_id: str, at: datetime) -> None:
        self._settle(key, "sent_unconfirmed", message_id, at)

    @staticmethod
    def _settle(key: EmailKey, status: str, message_id: str, at: datetime) -> None:
        """An email another sender settled meanwhile stays as they left it."""
        conditional_update(
            _item(key),
            actions=[OutboxItem.status.set(status), OutboxItem.message_id.set(message_id), OutboxItem.sent_at.set(at),
                     OutboxItem.gsi1pk.remove(), OutboxItem.gsi1sk.remove()],
            condition=OutboxItem.status.is_in("pending", "sending"))
        if message_id and message_id != NOBODY_TO_TELL:
            try:  # so a bounce told later by message id finds this email (mail_feedback.py)
                sent_email_item(key, message_id, at).save()
            except Exception:  # noqa: BLE001 (the email went and is marked: only a later bounce would go unmatched)
                log.warning("email %s about %s sent as %s: its message id not recorded; a later bounce of it will "
                            "not be matched", key.kind, key.about, message_id)

    def settled(self, key: EmailKey) -> bool:
        try:
            item = OutboxItem.get(partition(key.about), f"EMAIL#{key.kind}", consistent_read=True)
        except OutboxItem.DoesNotExist:
            return False
        return item.status in SETTLED
