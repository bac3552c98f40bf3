"""What the mail provider tells us later about an email it accepted: a bounce (permanent or transient) or a complaint.

SES sends these through SNS, either as identity notifications (`notificationType`) or as a configuration set's
event publishing (`eventType`); both carry the same `mail`, `bounce` and `complaint` objects
(docs.aws.amazon.com/ses/latest/dg/notification-contents.html and event-publishing-retrieving-sns-contents.html).
Only what the product acts on is kept: never a recipient's address (the outbox knows whose email it was).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Optional


class Feedback(str, Enum):
    PERMANENT_BOUNCE = "permanent-bounce"  # the address does not take mail: a person must correct it
    TRANSIENT_BOUNCE = "transient-bounce"  # a full mailbox, an auto-reply, a refusal today: noted, not alerted
    COMPLAINT = "complaint"  # the recipient marked it as spam: nobody should write to them again unasked

    @property
    def needs_a_person(self) -> bool:
        return self is not Feedback.TRANSIENT_BOUNCE


class MalformedFeedback(ValueError):
    """Not an SES notification we can read: logged and dropped (retrying it would fail the same way)."""


@dataclass(frozen=True)
class MailFeedback:
    kind: Feedback
    message_id: str  # the provider's id of the email, as the outbox recorded it when it was sent
    feedback_id: str  # one per notification: SNS may deliver the same one twice
    at: datetime
    detail: str  # e.g. "Permanent/NoEmail": the provider's type and subtype, never an address


def parse_feedback(message: Any) -> Optional[MailFeedback]:
    """The notification in an SNS record's Message (text or already parsed); None for types the product ignores
    (deliveries, sends, opens...); MalformedFeedback when it is not a readable SES notification."""
    if isinstance(message, (str, bytes)):
        try:
            message = json.loads(message)
        except ValueError:
            raise MalformedFeedback("the message is not JSON") from None
    if not isinstance(message, dict):
        raise MalformedFeedback("the message is not a JSON object")
    kind_name = message.get("notificationType") or message.get("eventType")
    if kind_name not in ("Bounce", "Complaint"):
        if isinstance(kind_name, str) and kind_name:
            return None
        raise MalformedFeedback("neither notificationType nor eventType says what happened")
    mail = message.get("mail")
    message_id = mail.get("messageId") if isinstance(mail, dict) else None
    if not isinstance(message_id, str) or not message_id.strip():
        raise MalformedFeedback("no mail.messageId")
    about = message.get(kind_name.lower())
    if not isinstance(about, dict):
        raise MalformedFeedback(f"a {kind_name} notification without its '{kind_name.lower()}' object")
    feedback_id, at = about.get("feedbackId"), _time(about.get("timestamp"))
    if not isinstance(feedback_id, str) or not feedback_id.strip():
        raise MalformedFeedback("no feedbackId")
    if kind_name == "Complaint":
        detail = str(about.get("complaintFeedbackType") or about.get("complaintSubType") or "complaint")
        return MailFeedback(Feedback.COMPLAINT, message_id.strip(), feedback_id, at, detail[:60])
    bounce_type = about.get("bounceType")
    if bounce_type not in ("Permanent", "Transient", "Undetermined"):
        raise MalformedFeedback("bounceType is not Permanent, Transient or Undetermined")
    # SES: "Undetermined": it could not tell why; treated as transient (nobody is alerted on a guess).
    kind = Feedback.PERMANENT_BOUNCE if bounce_type == "Permanent" else Feedback.TRANSIENT_BOUNCE
    return MailFeedback(kind, message_id.strip(), feedback_id, at,
                        f"{bounce_type}/{str(about.get('bounceSubType') or 'General')[:40]}")


def _time(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise MalformedFeedback("no readable timestamp") from None
    if moment.tzinfo is None:
        raise MalformedFeedback("a timestamp without its offset")
    return moment
