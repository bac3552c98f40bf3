"""The record of operators' reads, in the same single table.

| item   | PK                          | SK                                        | GSI1PK                          | GSI1SK |
|--------|-----------------------------|-------------------------------------------|---------------------------------|--------|
| access | FORCE#<force>#ACCESS#<yyyy-mm> | <at>#<operator>#<action>#<reference or group>#<random> | FORCE#<force>#ACCESSED#<ref> (reads of one application) | <at> |

Kept apart from the application's partition so that neither retention nor erasure removes who read what.
It holds the operator's id, the action and the reference: no personal data of the person read about.
"""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Optional

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.adapters.dynamodb.base import Item, key_timestamp
from chalicelib.domain.operators import Operator


class AccessItem(Item, discriminator="access"):
    """PK FORCE#<force>#ACCESS#<yyyy-mm>  SK <at>#<operator>#<action>#<what>  GSI1 FORCE#<force>#ACCESSED#<ref> / <at>"""
    operator_id = UnicodeAttribute()
    role = UnicodeAttribute()
    action = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    reference = UnicodeAttribute(null=True)
    group_id = UnicodeAttribute(null=True)


def _month_key(force_id: str, at: datetime) -> str:
    return f"FORCE#{force_id}#ACCESS#{at:%Y-%m}"


class DynamoAccessLog:
    def record(self, operator: Operator, force_id: str, action: str, at: datetime, *,
               reference: Optional[str] = None, group_id: Optional[str] = None) -> None:
        # The random tail keeps two reads in the same microsecond (or under a test's fixed clock) apart.
        item = AccessItem(pk=_month_key(force_id, at),
                          sk=f"{key_timestamp(at)}#{operator.id}#{action}#{reference or group_id or '-'}#{secrets.token_hex(4)}",
                          operator_id=operator.id, role=operator.role.value, action=action, at=at,
                          reference=reference, group_id=group_id)
        if reference:
            item.gsi1pk, item.gsi1sk = f"FORCE#{force_id}#ACCESSED#{reference}", key_timestamp(at)
        item.save()

    def reads_of(self, force_id: str, reference: str) -> list[dict]:
        return [_view(i) for i in AccessItem.by_stage.query(f"FORCE#{force_id}#ACCESSED#{reference}")]

    def month(self, force_id: str, month: datetime) -> list[dict]:
        return [_view(i) for i in AccessItem.query(_month_key(force_id, month))]


def _view(item: AccessItem) -> dict:
    return {"at": key_timestamp(item.at), "operator": item.operator_id, "role": item.role, "action": item.action,
            "reference": item.reference, "group": item.group_id}
