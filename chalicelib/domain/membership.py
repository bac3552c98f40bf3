"""Members of a group, created only when onboarding completes, and the agreement each one signed."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any, Optional

from .application import Application
from .forces import ForceProfile
from .screening import ScreeningResult, add_months


class Role(str, Enum):
    MEMBER = "member"
    CHAIR = "chair"
    VICE_CHAIR = "vice_chair"
    STRATEGIC_NOMINEE = "strategic_nominee"


@dataclass(frozen=True)
class SignedAgreement:
    """Who signed which version of which document, when, and from where."""
    reference: str
    document_id: str
    document_version: str
    document_fingerprint: str  # the stored file shown, e.g. its ETag and S3 version
    signed_name: str  # the name the person typed
    signed_at: datetime
    source_ip: str
    user_agent: str = ""


@dataclass(frozen=True)
class Member:
    member_id: str  # the reference of the application that made them a member
    force_id: str
    group_id: str
    role: Role
    name: str
    email: str
    phone: str
    joined_on: date
    term_ends_on: date
    contact_preferences: dict[str, Any] = field(default_factory=dict)  # e.g. {"email": True, "phone": False}
    screening: Optional[dict[str, Any]] = None  # level, outcome, completed_on, expires_on: never more
    agreement_version: str = ""
    active: bool = True

    def serving(self, today: date) -> bool:
        """Active and within their term: asked to meetings, call-outs and votes."""
        return self.active and today < self.term_ends_on


def member_from(application: Application, force: ForceProfile, joined_on: date, agreement: SignedAgreement,
                screening: Optional[ScreeningResult]) -> Member:
    applicant = application.applicant
    phone = applicant.get("phone") or ""
    return Member(
        member_id=application.reference, force_id=application.force_id, group_id=application.group_id,
        role=Role.MEMBER, name=f"{applicant['given_name']} {applicant['family_name']}", email=applicant["email"],
        phone=phone, joined_on=joined_on, term_ends_on=add_months(joined_on, 12 * force.onboarding.term_years),
        contact_preferences={"email": True, "phone": bool(phone)},
        screening=None if screening is None else {
            "level": screening.level, "outcome": screening.outcome.value,
            "completed_on": screening.completed_on.isoformat(), "expires_on": screening.expires_on.isoformat()},
        agreement_version=f"{agreement.document_id}@{agreement.document_version}")
