"""A membership's changes after joining, in the single table (keys as in adapters/dynamodb.py).

| item         | PK                               | SK                                  |
|--------------|----------------------------------|-------------------------------------|
| member       | FORCE#<force>#MEMBER#<member id> | GROUP#<group>   (dynamodb_joining)  |
| member event | FORCE#<force>#MEMBER#<member id> | EVENT#<at>#<group>#<what>           |

Every change is one conditional write: the member (only if `changes` is still what was read), its audit event,
the link that made it, spent, and, when the address changes, its person index entry moved to the new address.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.base import Item, connection, key_timestamp
from chalicelib.adapters.dynamodb.links import LinkItem, usable_link
from chalicelib.adapters.dynamodb.joining import (
    DynamoJoiningStore, MemberItem, lifecycle_attributes, member_index_item, member_pk,
)
from chalicelib.domain.links import Link
from chalicelib.domain.membership import Member, MemberEvent
from chalicelib.services.ports import LinkConflict, MemberConflict


class MemberEventItem(Item, discriminator="member_event"):
    """PK FORCE#<force>#MEMBER#<id>  SK EVENT#<at>#<group>#<what>"""
    member_id = UnicodeAttribute()
    group_id = UnicodeAttribute()
    what = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    by = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)


class DynamoMemberStore(DynamoJoiningStore):
    """The members (as the joining store reads them) and their changes."""

    def save_change(self, before: Member, after: Member, event: MemberEvent, link: Optional[Link] = None) -> None:
        """Raises MemberConflict if the member changed since `before` was read, LinkConflict if the link was spent."""
        item = MemberItem(pk=member_pk(after.force_id, after.member_id), sk=f"GROUP#{after.group_id}")
        values = {"email": after.email, "phone": after.phone or None, "term_ends_on": after.term_ends_on.isoformat(),
                  "contact_preferences": after.contact_preferences, "screening": after.screening,
                  "active": after.active, **lifecycle_attributes(after)}
        actions = [getattr(MemberItem, name).set(value) if value is not None else getattr(MemberItem, name).remove()
                   for name, value in values.items()]
        unchanged = (MemberItem.changes == before.changes) if before.changes else MemberItem.changes.does_not_exist()
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.update(item, actions=actions, condition=MemberItem.pk.exists() & unchanged)
                transaction.save(MemberEventItem(
                    pk=member_pk(after.force_id, after.member_id),
                    sk=f"EVENT#{key_timestamp(event.at)}#{event.group_id}#{event.what}", member_id=event.member_id,
                    group_id=event.group_id, what=event.what, at=event.at, by=event.by, reason=event.reason or None),
                    condition=MemberEventItem.pk.does_not_exist())
                if link is not None:
                    transaction.update(LinkItem(pk=f"LINK#{link.token_hash}", sk="LINK"),
                                       actions=[LinkItem.used_at.set(event.at)], condition=usable_link(event.at))
                if before.email.strip().lower() != after.email.strip().lower():  # found by the new address only
                    transaction.delete(member_index_item(before))
                    transaction.save(member_index_item(after))
        except TransactWriteError as error:
            reasons = [r.code if r else None for r in error.cancellation_reasons or []]
            if len(reasons) > 2 and reasons[2] == "ConditionalCheckFailed":
                raise LinkConflict() from None
            if "ConditionalCheckFailed" in reasons:
                raise MemberConflict(after.member_id) from None
            raise

    def member_events(self, force_id: str, member_id: str) -> list[MemberEvent]:
        return [MemberEvent(i.member_id, i.group_id, i.what, i.at, i.by, i.reason or "")
                for i in MemberEventItem.query(member_pk(force_id, member_id), MemberEventItem.sk.startswith("EVENT#"),
                                               consistent_read=True)]

    def spend(self, link: Link, at: datetime) -> None:
        """Spend a link that changed no membership (e.g. a data request); LinkConflict if already spent."""
        try:
            LinkItem(pk=f"LINK#{link.token_hash}", sk="LINK").update(actions=[LinkItem.used_at.set(at)],
                                                                     condition=usable_link(at))
        except Exception as error:
            if getattr(error, "cause_response_code", "") == "ConditionalCheckFailedException":
                raise LinkConflict() from None
            raise
