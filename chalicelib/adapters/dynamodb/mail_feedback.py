"""Which email a provider's message id was, and the bounces and complaints told about it later.

SentEmailItem  PK SENT#<provider message id>  SK SENT: written when the outbox marks an email sent (outbox.py), so
a notification that names only the message id finds the email's outbox entry (PK <its partition>, SK EMAIL#<kind>).
It holds ids only, never an address, and expires after SENT_KEPT (bounces come within hours; complaints within days).
Like an email link it cannot start with the force (the notification does not name one): it is read by its key only.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Optional

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PutError

from chalicelib.adapters.dynamodb.applications import ApplicationItem, AuditEventItem
from chalicelib.adapters.dynamodb.base import Item, OutboxItem, application_pk, conditional_update, key_timestamp
from chalicelib.adapters.dynamodb.joining import MemberItem, member_pk
from chalicelib.adapters.dynamodb.membership import MemberEventItem
from chalicelib.domain.mail_feedback import Feedback, MailFeedback
from chalicelib.services.ports import About, EmailKey

log = logging.getLogger(__name__)

SENT_KEPT = timedelta(days=30)
FROM_PROVIDER = "mail provider"  # who the record says noted it
WHAT = {Feedback.PERMANENT_BOUNCE: "email undeliverable", Feedback.COMPLAINT: "email reported as spam",
        Feedback.TRANSIENT_BOUNCE: "email bounced for now"}
DELIVERY = {Feedback.PERMANENT_BOUNCE: "bounced", Feedback.COMPLAINT: "complained",
            Feedback.TRANSIENT_BOUNCE: "soft-bounced"}


class SentEmailItem(Item, discriminator="sent_email"):
    """PK SENT#<provider message id>  SK SENT: the email (outbox entry) the provider gave that id."""
    force_id = UnicodeAttribute()
    area = UnicodeAttribute()
    about_id = UnicodeAttribute()
    kind = UnicodeAttribute()


def sent_email_item(key: EmailKey, message_id: str, at: datetime) -> SentEmailItem:
    return SentEmailItem(pk=f"SENT#{message_id}", sk="SENT", force_id=key.about.force_id, area=key.about.area,
                         about_id=key.about.id, kind=key.kind, expires_at=at + SENT_KEPT)


def _outbox_item(key: EmailKey) -> OutboxItem:
    from chalicelib.adapters.dynamodb.outbox import partition  # outbox.py imports this module's item

    return OutboxItem(pk=partition(key.about), sk=f"EMAIL#{key.kind}")


def _tag(feedback: MailFeedback) -> str:
    """A short id of the notification for sort keys (feedback ids are long)."""
    return hashlib.sha256(feedback.feedback_id.encode()).hexdigest()[:12]


class DynamoMailFeedback:
    def sent_as(self, message_id: str) -> Optional[EmailKey]:
        try:
            item = SentEmailItem.get(f"SENT#{message_id}", "SENT")
        except SentEmailItem.DoesNotExist:
            return None
        return EmailKey(About(item.area, item.force_id, item.about_id), item.kind)

    def record_feedback(self, key: EmailKey, feedback: MailFeedback) -> bool:
        """The outbox entry's `delivery` (a permanent bounce or complaint is never overwritten by a later
        transient one) and the notification's id, once."""
        item = _outbox_item(key)
        seen = OutboxItem.feedback_ids.does_not_exist() | ~OutboxItem.feedback_ids.contains(feedback.feedback_id)
        delivery = DELIVERY[feedback.kind]
        actions = [OutboxItem.feedback_ids.add({feedback.feedback_id})]
        if feedback.kind is Feedback.TRANSIENT_BOUNCE:
            if conditional_update(item, actions=actions, condition=seen & OutboxItem.pk.exists()
                                  & OutboxItem.delivery.is_in("bounced", "complained")):
                return True  # worse news was recorded already: keep it
        return conditional_update(item, actions=[*actions, OutboxItem.delivery.set(delivery)],
                                  condition=seen & OutboxItem.pk.exists())

    def note_on_record(self, key: EmailKey, feedback: MailFeedback) -> int:
        about = key.about
        what = WHAT[feedback.kind]
        if about.area == "application":
            try:
                application = ApplicationItem.get(application_pk(about.force_id, about.id), "APPLICATION")
            except ApplicationItem.DoesNotExist:
                return 0  # erased meanwhile: nobody to note it on
            return self._put(AuditEventItem(
                pk=application_pk(about.force_id, about.id),
                sk=f"EVENT#{key_timestamp(feedback.at)}#99#{what}#{_tag(feedback)}", reference=about.id,
                at=feedback.at, action=what, from_stage=None, to_stage=application.stage, actor=FROM_PROVIDER,
                detail={"email": key.kind, "provider": feedback.detail}))
        if about.area == "member":
            groups = [m.group_id for m in MemberItem.query(member_pk(about.force_id, about.id),
                                                           MemberItem.sk.startswith("GROUP#"))]
            return sum(self._put(MemberEventItem(
                pk=member_pk(about.force_id, about.id), sk=f"EVENT#{key_timestamp(feedback.at)}#{group}#{what}"
                                                           f"#{_tag(feedback)}",
                member_id=about.id, group_id=group, what=what, at=feedback.at, by=FROM_PROVIDER,
                reason=f"The email '{key.kind}' {feedback.detail}: correct the member's address."))
                for group in groups)
        return 0

    @staticmethod
    def _put(item: Item) -> int:
        try:
            item.save(condition=Item.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return 0  # this notification was noted already
            raise
        return 1
