"""Email links, shared by every area: one item per token, found by the token's hash alone."""
from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.adapters.dynamodb.base import Item, key_timestamp
from chalicelib.domain.links import Link


class LinkItem(Item, discriminator="link"):
    """PK LINK#<sha256(token)>  SK LINK  GSI1 FORCE#<force>#EXPIRES#LINK / <expires_at>#<PK>: found by the token's
    hash alone; expires by check, and is deleted by the daily retention pass (a Query on GSI1) and by TTL."""
    purpose = UnicodeAttribute()
    force_id = UnicodeAttribute()
    reference = UnicodeAttribute()
    role = UnicodeAttribute()
    version = NumberAttribute(null=True)
    link_expires_at = UTCDateTimeAttribute()
    used_at = UTCDateTimeAttribute(null=True)
    holder = UnicodeAttribute(null=True)  # a role holder's person hash: the link dies when the role changes hands


def usable_link(at: datetime):
    """The condition under which a stored link may still act: present, unused, unexpired."""
    return LinkItem.pk.exists() & LinkItem.used_at.does_not_exist() & (LinkItem.link_expires_at > at)



def expiring_key(force_id: str, what: str) -> str:
    """GSI1 partition of a force's items that retention deletes once expired (links, screening outcomes): the
    sort key starts with the moment or day of expiry, so the daily pass reads only what is due."""
    return f"FORCE#{force_id}#EXPIRES#{what}"


def link_values(link: Link) -> dict:
    pk = f"LINK#{link.token_hash}"
    return dict(pk=pk, sk="LINK", purpose=link.purpose.value, force_id=link.force_id,
                reference=link.reference, role=link.role, version=link.version,
                link_expires_at=link.expires_at, expires_at=link.expires_at, holder=link.holder or None,
                gsi1pk=expiring_key(link.force_id, "LINK"), gsi1sk=f"{key_timestamp(link.expires_at)}#{pk}")


def link_item(link: Link) -> LinkItem:
    return LinkItem(**link_values(link))

