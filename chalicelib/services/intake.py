"""Submitting an application: validate, assess eligibility at once, store in one write, start its run.

Nothing else happens in the request: the confirmation email is announced (pending) in that write and sent
through the one outbox by the application's flow run on its first pass, or, for an ineligible application (which
starts no run), by reconciliation's pass over emails left pending."""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Callable, Optional
from zoneinfo import ZoneInfo

from chalicelib.domain.application import Application, AuditEvent, apply
from chalicelib.domain.eligibility import Candidate, assess
from chalicelib.domain.forces import ForceProfile, Group
# One exception each for a force or group that does not exist, whoever meets it (the API answers 404).
from chalicelib.domain.forces import UnknownGroup as UnknownGroup
from chalicelib.domain.lifecycle import Action, Stage
from chalicelib.domain.rate_limits import spends
from chalicelib.domain.references import new_reference
from chalicelib.domain.validation import FieldError
from chalicelib.services.log_context import about
from chalicelib.services.review import ReviewService
from chalicelib.services.ports import (
    ApplicationRepository, Clock, DuplicateLiveApplication, EqualityRecord, ForceCatalogue,
    IdempotencyRecord, IdempotentReplay, RandomSource, ReferenceTaken,
)
from chalicelib.services.ports import UnknownForce as UnknownForce

log = logging.getLogger(__name__)

UK = ZoneInfo("Europe/London")
IDEMPOTENCY_WINDOW = timedelta(hours=24)
_REFERENCE_ATTEMPTS = 3


Validator = Callable[[Any, str], list[FieldError]]  # (payload, schema name) -> every error


class GroupClosed(Exception):
    pass


class InvalidApplication(Exception):
    def __init__(self, errors: list[Any]):
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


class IdempotencyKeyReused(Exception):
    pass


@dataclass(frozen=True)
class Submission:
    """What the applicant is told; also what a retry with the same Idempotency-Key gets back."""
    reference: str
    force_id: str
    group_id: str
    status: str
    reasons: list[dict[str, Any]] = field(default_factory=list)
    screening: str = "none"
    submitted_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "force": self.force_id, "group": self.group_id,
                "status": self.status, "reasons": self.reasons, "screening": self.screening,
                "submitted_at": self.submitted_at}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Submission":
        return cls(d["reference"], d["force"], d["group"], d["status"], list(d["reasons"]), d["screening"], d["submitted_at"])


class IntakeService:
    def __init__(self, forces: ForceCatalogue, repository: ApplicationRepository, validate: Validator,
                 clock: Clock, random_bytes: RandomSource, review: ReviewService):
        self._review = review
        self._forces = forces
        self._repository = repository
        self._validate = validate
        self._clock = clock
        self._random_bytes = random_bytes

    def submit(self, force_id: str, payload: Any, idempotency_key: Optional[str] = None,
               client_address: Optional[str] = None) -> Submission:
        force = self._forces.get(force_id)
        if force is None:
            raise UnknownForce(force_id)
        now = self._clock.now()
        today = now.astimezone(UK).date()
        errors = list(self._validate(payload, "application")) or _date_of_birth_errors(payload, today)
        if errors:
            raise InvalidApplication(errors)
        group = force.group(payload["group"])
        if group is None:
            raise UnknownGroup(payload["group"])
        openness = force.openness(group, today)
        if not openness.open:
            raise GroupClosed(openness.reason)

        idempotency = None
        if idempotency_key:
            idempotency = (_hash(f"{force.id}\n{idempotency_key}"), _hash(json.dumps(payload, sort_keys=True)))
        limits = spends("apply", now, email=payload["applicant"]["email"], client=client_address)
        for _ in range(_REFERENCE_ATTEMPTS):
            application, events = self._assessed_application(force, group, payload, now, today)
            submission = _submission(application)
            record = None
            if idempotency:
                record = IdempotencyRecord(idempotency[0], idempotency[1], submission.to_dict(), now, now + IDEMPOTENCY_WINDOW)
            store = partial(self._repository.add, events=events, equality=_equality(application, payload, now),
                            idempotency=record, emails=("received",), rate_spends=limits)
            try:
                try:
                    stored = store(application)
                except DuplicateLiveApplication as duplicate:
                    # Answered like any application, so the answer never tells whether an address has applied;
                    # the panel sees it is a repeat and the address's owner is told by email (docs/security.md).
                    stored = store(as_repeat(application, duplicate.reference), guard=False)
            except IdempotentReplay as replay:
                if idempotency is None or replay.record.request_hash != idempotency[1]:
                    raise IdempotencyKeyReused() from None
                return Submission.from_dict(replay.record.response)
            except ReferenceTaken:
                continue
            with about(reference=stored.reference, force=force.id):
                log.info("application received for %s: %s", group.id, stored.stage.value)
                if stored.live:  # an ineligible application has ended: no run to start, nothing for one to do
                    self._review.start(stored)
            return submission
        raise RuntimeError("could not find a free application reference")

    def _assessed_application(self, force: ForceProfile, group: Group, payload: dict[str, Any], now: datetime,
                              today: date) -> tuple[Application, list[AuditEvent]]:
        assessment = assess(force, group, _candidate(payload), today)
        reference = new_reference(force.reference_prefix, today.year, self._random_bytes(5))
        submitted = Application(
            reference=reference, force_id=force.id, group_id=group.id, stage=Stage.SUBMITTED,
            submitted_at=now, updated_at=now,
            applicant=dict(payload["applicant"]),
            answers={k: payload[k] for k in ("connection_to_area", "work_postcode", "statements", "declarations",
                                             "group_requirements_met", "accessibility") if k in payload},
            eligibility={"reasons": [{"code": r.code, "message": r.message} for r in assessment.reasons],
                         "screening": assessment.screening, "panel_notes": list(assessment.panel_notes)},
        )
        received = AuditEvent(reference, now, "submit", None, Stage.SUBMITTED, "applicant")
        action = Action.PASS_ELIGIBILITY if assessment.eligible else Action.FAIL_ELIGIBILITY
        assessed, event = apply(submitted, action, at=now, actor="system",
                                detail={"reasons": [r.code for r in assessment.reasons]})
        return assessed, [received, event]


def as_repeat(application: Application, earlier: Optional[str]) -> Application:
    """An application from an address that already has one live in the group: it goes ahead, marked for the panel
    and for the confirmation email (which goes to that address, so only its owner learns of the earlier one)."""
    note = (f"The same email address has another application to this group being considered ({earlier})."
            if earlier else "The same email address has another application to this group being considered.")
    eligibility = {**application.eligibility, "repeat_of": earlier,
                   "panel_notes": [*application.eligibility.get("panel_notes", []), note]}
    return replace(application, eligibility=eligibility)


def _candidate(payload: dict[str, Any]) -> Candidate:
    declarations = payload["declarations"]
    return Candidate(
        date_of_birth=date.fromisoformat(payload["applicant"]["date_of_birth"]),
        postcode=payload["applicant"]["postcode"],
        connection_to_area=payload["connection_to_area"],
        work_postcode=payload.get("work_postcode"),
        declarations={k: v for k, v in declarations.items() if isinstance(v, bool)},
        convictions_or_police_contact=declarations["convictions_or_police_contact"],
        requirements_confirmed=frozenset(payload.get("group_requirements_met", ())),
    )


def _date_of_birth_errors(payload: dict[str, Any], today: date) -> list[FieldError]:
    born = date.fromisoformat(payload["applicant"]["date_of_birth"])
    if born > today:
        return [FieldError("/applicant/date_of_birth", "Date of birth must be in the past")]
    if born.year < today.year - 120:
        return [FieldError("/applicant/date_of_birth", "Enter your real date of birth")]
    return []


def _equality(application: Application, payload: dict[str, Any], now: datetime) -> Optional[EqualityRecord]:
    answers = payload.get("equality_monitoring")
    if not answers:
        return None
    return EqualityRecord(application.force_id, application.group_id, application.reference, dict(answers), now)


def _submission(application: Application) -> Submission:
    return Submission(
        reference=application.reference, force_id=application.force_id, group_id=application.group_id,
        status=application.stage.value, reasons=application.eligibility["reasons"],
        screening=application.eligibility["screening"],
        submitted_at=application.submitted_at.isoformat().replace("+00:00", "Z"),
    )


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
