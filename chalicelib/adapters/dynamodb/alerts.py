"""Alerts kept for the daily digest, in the single table (keys as in adapters/dynamodb/base.py).

| item          | PK                                | SK                          |
|---------------|-----------------------------------|-----------------------------|
| noted alert   | FORCE#<force>#ALERTS#<yyyy-mm-dd> | ALERT#<trouble>:<incident>  |
| alert email   | FORCE#<force>#ALERT#<incident>    | EMAIL#to-<address hash> (the outbox's item) |

One partition per force and day: the digest reads it with one Query. An incident is noted once per day
(a conditional put); items expire after NOTED_FOR, long after their digest went.
"""
from __future__ import annotations

from datetime import date, timedelta

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.adapters.dynamodb.base import Item, conditional_save
from chalicelib.domain.alerts import Alert, Trouble

NOTED_FOR = timedelta(days=30)


def alert_pk(force_id: str, incident: str) -> str:
    return f"FORCE#{force_id}#ALERT#{incident}"


def noted_pk(force_id: str, day: date) -> str:
    return f"FORCE#{force_id}#ALERTS#{day.isoformat()}"


class NotedAlertItem(Item, discriminator="noted_alert"):
    """PK FORCE#<force>#ALERTS#<day>  SK ALERT#<trouble>:<incident>"""
    force_id = UnicodeAttribute()
    trouble = UnicodeAttribute()
    incident = UnicodeAttribute()
    summary = UnicodeAttribute()
    action = UnicodeAttribute()
    seen_at = UTCDateTimeAttribute()


class DynamoAlertStore:
    def note(self, alert: Alert, day: date) -> bool:
        item = NotedAlertItem(pk=noted_pk(alert.force_id, day), sk=f"ALERT#{alert.key}", force_id=alert.force_id,
                              trouble=alert.trouble.value, incident=alert.incident, summary=alert.summary,
                              action=alert.action, seen_at=alert.seen_at,
                              expires_at=alert.seen_at + NOTED_FOR)
        return conditional_save(item, NotedAlertItem.pk.does_not_exist())

    def noted(self, force_id: str, day: date) -> list[Alert]:
        return [Alert(i.force_id, Trouble(i.trouble), i.incident, i.summary, i.action, i.seen_at)
                for i in NotedAlertItem.query(noted_pk(force_id, day), NotedAlertItem.sk.startswith("ALERT#"))]
