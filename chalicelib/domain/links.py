"""Links in emails that let a person act without logging in.

The token is random (256 bits) and lives only in the email; storage keeps its
SHA-256. A link is bound to one person, one application and, for reviews, the
application's version: once the application moves on, the link is superseded.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Optional

TOKEN_BYTES = 32


class Purpose(str, Enum):
    REVIEW = "review"  # a panel member decides
    WITHDRAW = "withdraw"  # the applicant withdraws
    OFFER = "offer"  # the applicant accepts or declines the offer
    AGREEMENT = "agreement"  # the new member signs the confidentiality agreement
    APPEAL = "appeal"  # the rejected applicant appeals
    APPEAL_REVIEW = "appeal-review"  # an appeal panel member decides
    SCREENING = "screening"  # the vetting unit records an outcome
    RESIDENCY = "residency"  # the applicant uploads evidence of residency
    CALLOUT = "callout"  # a member answers a critical-incident call-out
    NOMINATION = "nomination"  # a member (or a group) names a candidate or nominee
    BALLOT = "ballot"  # a member votes in an election
    AVAILABILITY = "availability"  # a person answers an availability poll
    RESUME = "resume"  # an applicant comes back to a saved, unsent application
    MEMBER_AGREEMENT = "member-agreement"  # an imported member signs the current agreement
    STEP_DOWN = "step-down"  # a member steps down
    MEMBER_DETAILS = "member-details"  # a member sees and updates their details, or asks for their data
    RENEWAL = "renewal"  # a member asks to continue for another term
    ATTENDANCE = "attendance"  # a member answers an invitation: attending or apologies
    PAPERS = "papers"  # a member reads a meeting's agenda and papers (read only)
    AGENDA = "agenda"  # someone the profile names proposes an agenda item
    SUBJECT_ACCESS = "subject-access"  # a person collects the package of everything held about them


@dataclass(frozen=True)
class Link:
    token_hash: str
    purpose: Purpose
    force_id: str
    reference: str
    role: str  # who may use it: a panel role, or "applicant"
    version: Optional[int]  # the application version it acts on; None: any (withdrawal)
    expires_at: datetime
    used_at: Optional[datetime] = None
    holder: str = ""  # domain/roles.person() of whoever holds `role` when it was sent: the link follows them


class LinkProblem(str, Enum):
    UNKNOWN = "unknown"  # tampered, mistyped or deleted
    EXPIRED = "expired"
    USED = "used"
    SUPERSEDED = "superseded"


def new_token(random_bytes: bytes) -> str:
    if len(random_bytes) < 16:
        raise ValueError("a link token needs at least 128 random bits")
    return base64.urlsafe_b64encode(random_bytes).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def problem_with(link: Optional[Link], *, now: datetime, current_version: Optional[int]) -> Optional[LinkProblem]:
    """Why this link cannot act now, or None when it can."""
    if link is None:
        return LinkProblem.UNKNOWN
    if link.used_at is not None:
        return LinkProblem.USED
    if now >= link.expires_at:
        return LinkProblem.EXPIRED
    if link.version is not None and current_version != link.version:
        return LinkProblem.SUPERSEDED
    return None
