"""An application and the audit event that records each move it makes."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Optional

from .lifecycle import Action, Stage, is_live, next_stage


@dataclass(frozen=True)
class AuditEvent:
    reference: str
    at: datetime
    action: str
    from_stage: Optional[Stage]
    to_stage: Stage
    actor: str  # "applicant", "system", or a role such as "iag_chair"
    detail: dict[str, Any] = field(default_factory=dict)  # never personal data: it outlives erasure


@dataclass(frozen=True)
class Application:
    reference: str
    force_id: str
    group_id: str
    stage: Stage
    submitted_at: datetime
    updated_at: datetime
    applicant: dict[str, Any]  # given_name, family_name, email, phone, date_of_birth, postcode
    answers: dict[str, Any]  # connection, statements, declarations, requirements, accessibility
    eligibility: dict[str, Any]  # reasons, screening, panel_notes
    version: int = 0  # storage's optimistic lock; 0 until first stored
    # As stored, for the funnel's counters kept with each move: every stage its audit trail shows, and the group it
    # is counted in. Not part of what the application is (equality ignores them).
    stages_seen: frozenset[Stage] = field(default=frozenset(), compare=False)
    stored_group: str = field(default="", compare=False)

    @property
    def live(self) -> bool:
        return is_live(self.stage)

    @property
    def applicant_key(self) -> str:
        return applicant_key(self.applicant["email"])


def applicant_key(email: str) -> str:
    """Who applied, without the address: keys the one-live-application-per-group rule."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def apply(application: Application, action: Action, *, at: datetime, actor: str,
          detail: Optional[dict[str, Any]] = None) -> tuple[Application, AuditEvent]:
    """Move the application by one action; raises IllegalTransition if the table forbids it."""
    stage = next_stage(application.stage, action)
    event = AuditEvent(application.reference, at, action.value, application.stage, stage, actor, detail or {})
    return replace(application, stage=stage, updated_at=at), event
