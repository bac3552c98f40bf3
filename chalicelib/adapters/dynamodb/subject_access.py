"""Subject-access requests in the single table (keys as in adapters/dynamodb.py).

| item    | PK                     | SK   | GSI1PK                 | GSI1SK               |
|---------|------------------------|------|------------------------|----------------------|
| request | FORCE#<force>#SAR#<id> | SAR  | FORCE#<force>#SARS     | <requested_at>#<id>  |
| link    | LINK#<sha256(token)>   | LINK |                        |                      |

A request records who asked, when, the references it covers and when the person collected the package: never
the package itself, nor the person's address. The link is the shared LinkItem (purpose subject-access, reference
the request id). Collecting spends the link and stamps the request in one transaction.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from pynamodb.attributes import ListAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.base import Item, connection, key_timestamp
from chalicelib.adapters.dynamodb.links import LinkItem, link_item, usable_link
from chalicelib.domain.links import Link, Purpose
from chalicelib.services.ports import LinkSpent, SubjectAccessRequest


class SubjectAccessItem(Item, discriminator="subject_access"):
    """PK FORCE#<force>#SAR#<id>  SK SAR  GSI1 FORCE#<force>#SARS / <requested_at>#<id>"""
    request_id = UnicodeAttribute()
    force_id = UnicodeAttribute()
    requested_by = UnicodeAttribute()
    requested_at = UTCDateTimeAttribute()
    references = ListAttribute(of=UnicodeAttribute)
    link_expires_at = UTCDateTimeAttribute()
    delivered_at = UTCDateTimeAttribute(null=True)


def sar_pk(force_id: str, request_id: str) -> str:
    return f"FORCE#{force_id}#SAR#{request_id}"


class DynamoSubjectAccessStore:
    def add(self, request: SubjectAccessRequest, link: Link) -> None:
        """The request and its link, in one write."""
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(SubjectAccessItem(
                pk=sar_pk(request.force_id, request.id), sk="SAR", gsi1pk=f"FORCE#{request.force_id}#SARS",
                gsi1sk=f"{key_timestamp(request.requested_at)}#{request.id}", request_id=request.id,
                force_id=request.force_id, requested_by=request.requested_by, requested_at=request.requested_at,
                references=list(request.references), link_expires_at=request.link_expires_at),
                condition=SubjectAccessItem.pk.does_not_exist())
            transaction.save(link_item(link), condition=LinkItem.pk.does_not_exist())

    def get(self, force_id: str, request_id: str) -> Optional[SubjectAccessRequest]:
        try:
            return _request(SubjectAccessItem.get(sar_pk(force_id, request_id), "SAR", consistent_read=True))
        except SubjectAccessItem.DoesNotExist:
            return None

    def requests(self, force_id: str) -> list[SubjectAccessRequest]:
        """The force's requests, newest first."""
        return [_request(i) for i in SubjectAccessItem.by_stage.query(f"FORCE#{force_id}#SARS",
                                                                      scan_index_forward=False)]

    def link(self, token_hash: str) -> Optional[Link]:
        try:
            item = LinkItem.get(f"LINK#{token_hash}", "LINK", consistent_read=True)
        except LinkItem.DoesNotExist:
            return None
        if item.purpose != Purpose.SUBJECT_ACCESS.value:
            return None  # another kind of link: not for this store to read
        return Link(token_hash, Purpose.SUBJECT_ACCESS, item.force_id, item.reference, item.role, None,
                    item.link_expires_at, item.used_at)

    def deliver(self, link: Link, at: datetime) -> None:
        """Spend the link and record the delivery; raises LinkSpent if the link could not act any more."""
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.update(LinkItem(pk=f"LINK#{link.token_hash}", sk="LINK"),
                                   actions=[LinkItem.used_at.set(at)], condition=usable_link(at))
                transaction.update(SubjectAccessItem(pk=sar_pk(link.force_id, link.reference), sk="SAR"),
                                   actions=[SubjectAccessItem.delivered_at.set(at)],
                                   condition=SubjectAccessItem.pk.exists())
        except TransactWriteError as error:
            if any(r and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons or []):
                raise LinkSpent() from None
            raise


def _request(item: SubjectAccessItem) -> SubjectAccessRequest:
    return SubjectAccessRequest(item.request_id, item.force_id, item.requested_by, item.requested_at,
                                tuple(str(r) for r in item.references), item.link_expires_at, item.delivered_at)
