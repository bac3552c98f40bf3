"""Unsent applications in the single table (keys as in adapters/dynamodb/base.py).

| item              | PK                                      | SK       |
|-------------------|-----------------------------------------|----------|
| draft             | FORCE#<force>#DRAFT#<draft id>          | DRAFT    |
| draft's equality  | FORCE#<force>#EQUALITY#DRAFT#<draft id> | EQUALITY |
| resume link       | LINK#<sha256(token)>                    | LINK     |
| resume email      | FORCE#<force>#DRAFT#<draft id>          | EMAIL#resume#<request> (adapters/dynamodb/outbox.py) |

Both draft items carry the TTL, so DynamoDB deletes an abandoned draft; the table's KMS key encrypts them
at rest like every other item. The equality answers sit under the equality prefix, apart from the rest.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Optional

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters.dynamodb.base import Item, conditional_update
from chalicelib.adapters.dynamodb.links import LinkItem, link_item, usable_link
from chalicelib.domain.links import Link, Purpose
from chalicelib.services.ports import Draft


class DraftItem(Item, discriminator="draft"):
    """PK FORCE#<force>#DRAFT#<id>  SK DRAFT: the answers so far (JSON), without equality answers."""
    force_id = UnicodeAttribute()
    draft_id = UnicodeAttribute()
    answers = UnicodeAttribute()
    done = UnicodeAttribute()  # JSON list of page names
    updated_at = UTCDateTimeAttribute()
    draft_expires_at = UTCDateTimeAttribute()


class DraftEqualityItem(Item, discriminator="draft_equality"):
    """PK FORCE#<force>#EQUALITY#DRAFT#<id>  SK EQUALITY: optional equality answers of an unsent application."""
    answers = UnicodeAttribute()


def draft_pk(force_id: str, draft_id: str) -> str:
    return f"FORCE#{force_id}#DRAFT#{draft_id}"


def _equality_pk(force_id: str, draft_id: str) -> str:
    return f"FORCE#{force_id}#EQUALITY#DRAFT#{draft_id}"


class DynamoDraftStore:
    def get(self, force_id: str, draft_id: str) -> Optional[Draft]:
        try:
            item = DraftItem.get(draft_pk(force_id, draft_id), "DRAFT", consistent_read=True)
        except DoesNotExist:
            return None
        try:
            equality = json.loads(DraftEqualityItem.get(_equality_pk(force_id, draft_id), "EQUALITY",
                                                        consistent_read=True).answers)
        except DoesNotExist:
            equality = {}
        return Draft(force_id=item.force_id, draft_id=item.draft_id, values=json.loads(item.answers),
                     done=tuple(json.loads(item.done)), updated_at=item.updated_at,
                     expires_at=item.draft_expires_at, equality=equality)

    def put(self, draft: Draft) -> None:
        DraftItem(pk=draft_pk(draft.force_id, draft.draft_id), sk="DRAFT", force_id=draft.force_id,
                  draft_id=draft.draft_id, answers=json.dumps(draft.values), done=json.dumps(list(draft.done)),
                  updated_at=draft.updated_at, draft_expires_at=draft.expires_at, expires_at=draft.expires_at).save()
        equality = DraftEqualityItem(pk=_equality_pk(draft.force_id, draft.draft_id), sk="EQUALITY",
                                     answers=json.dumps(draft.equality), expires_at=draft.expires_at)
        if draft.equality:
            equality.save()
        else:
            equality.delete()

    def delete(self, force_id: str, draft_id: str) -> None:
        DraftItem(pk=draft_pk(force_id, draft_id), sk="DRAFT").delete()
        DraftEqualityItem(pk=_equality_pk(force_id, draft_id), sk="EQUALITY").delete()

    def add_link(self, link: Link) -> None:
        link_item(link).save()

    def remove_link(self, link: Link) -> None:
        LinkItem(pk=f"LINK#{link.token_hash}", sk="LINK").delete()

    def link(self, token_hash: str) -> Optional[Link]:
        try:
            item = LinkItem.get(f"LINK#{token_hash}", "LINK", consistent_read=True)
        except DoesNotExist:
            return None
        return Link(token_hash=token_hash, purpose=Purpose(item.purpose), force_id=item.force_id,
                    reference=item.reference, role=item.role,
                    version=None if item.version is None else int(item.version),
                    expires_at=item.link_expires_at, used_at=item.used_at)

    def spend_link(self, link: Link, at: datetime) -> bool:
        return conditional_update(LinkItem(pk=f"LINK#{link.token_hash}", sk="LINK"),
                                  [LinkItem.used_at.set(at)], usable_link(at))
