"""The value types of the ports (services/ports.py): records services and adapters pass each other.

Imported through ports.py as before (`from chalicelib.services.ports import EmailMessage`), which loads this module
the first time one of them is named: creating a dataclass compiles its methods (0.1-0.3 ms each), and the Lambda's
cold start (`import app`) imports ports.py for its protocols and exceptions but needs none of these.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from chalicelib.domain.application import Application
    from chalicelib.domain.membership import Member


@dataclass(frozen=True)
class EqualityRecord:
    """Special-category answers, kept apart from the application they came with."""
    force_id: str
    group_id: str
    reference: str
    answers: dict[str, Any]
    recorded_at: datetime


@dataclass(frozen=True)
class IdempotencyRecord:
    key_hash: str
    request_hash: str
    response: dict[str, Any]
    recorded_at: Optional[datetime]
    expires_at: datetime


@dataclass(frozen=True)
class Page:
    items: list[Application]
    next_token: Optional[str]


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=PUBLISH"
    data: bytes


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str
    reply_to: Optional[str] = None
    attachments: tuple[Attachment, ...] = ()
    force_id: Optional[str] = None  # whose transport sends it (the force's profile may choose GOV.UK Notify)


@dataclass(frozen=True)
class About:
    """What an email is about, in the product's words; the outbox adapter decides where that is stored.

    area: application | pack_request | cycle | meetings | election | incident | member | subject_access | draft; `id`
    is the application's reference, the request's, cycle's, election's, incident's or subject access request's id,
    (meetings) the group id, the member's id, or (draft) the unsent application's id."""
    area: str
    force_id: str
    id: str

    def __str__(self) -> str:
        return f"{self.area} {self.force_id}/{self.id}"


@dataclass(frozen=True)
class EmailKey:
    """One email: at most one copy of it is ever sent."""
    about: About
    kind: str


@dataclass(frozen=True)
class MemberChange:
    """One imported row's change to a member (services/member_import.py)."""
    line: int
    before: Optional[Member]  # None: a new member
    after: Member
    fields: tuple[str, ...]  # what changed (every imported field for a new member)


@dataclass(frozen=True)
class Draft:
    force_id: str
    draft_id: str
    values: dict[str, Any]  # the form's field names -> answers (a list for checkboxes)
    done: tuple[str, ...]  # pages sent at least once
    updated_at: datetime
    expires_at: datetime
    equality: dict[str, Any] = field(default_factory=dict)  # kept in its own item

    @property
    def answers(self) -> dict[str, Any]:
        return {**self.values, **self.equality}


@dataclass(frozen=True)
class Record:
    """One stored item about the person, as they may read it."""
    kind: str  # the item's type, e.g. "application", "decision", "equality"
    source: str  # where it is stored: "<PK> / <SK>"
    data: dict[str, Any]  # its attributes, JSON-serialisable; never a token or a token's hash
    reference: Optional[str] = None  # the application it belongs to, if any


@dataclass(frozen=True)
class SubjectAccessRequest:
    id: str
    force_id: str
    requested_by: str  # the operator's id
    requested_at: datetime
    references: tuple[str, ...]  # the applications the package covers (all the person's, in the force)
    link_expires_at: datetime
    delivered_at: Optional[datetime] = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "force": self.force_id, "requested_by": self.requested_by,
                "requested_at": _utc_text(self.requested_at), "references": list(self.references),
                "link_expires_at": _utc_text(self.link_expires_at),
                "delivered_at": _utc_text(self.delivered_at) if self.delivered_at else None}


def _utc_text(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
