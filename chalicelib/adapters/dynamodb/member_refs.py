"""Index items that find what names a member outside their own partition (candidacies, nominations, availability).

| item       | PK                               | SK            |
|------------|----------------------------------|---------------|
| member ref | FORCE#<force>#MEMBER#<member id> | REF#<PK>#<SK> |

One per (member, item), written in the same transaction as the item it points to, so subject access and erasure
find a member's items by a Query on the member's partition (then a Get each), never by scanning the table.
"""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from chalicelib.adapters.dynamodb.base import Item


class MemberRefItem(Item, discriminator="member_ref"):
    """PK FORCE#<force>#MEMBER#<id>  SK REF#<PK>#<SK>: the item at ref_pk / ref_sk names this member."""
    ref_pk = UnicodeAttribute()
    ref_sk = UnicodeAttribute()


def member_ref(force_id: str, member_id: str, item: Item) -> MemberRefItem:
    return MemberRefItem(pk=f"FORCE#{force_id}#MEMBER#{member_id}", sk=f"REF#{item.pk}#{item.sk}",
                         ref_pk=item.pk, ref_sk=item.sk)


def member_refs(force_id: str, member_id: str) -> list[MemberRefItem]:
    return list(MemberRefItem.query(f"FORCE#{force_id}#MEMBER#{member_id}", MemberRefItem.sk.startswith("REF#"),
                                    consistent_read=True))
