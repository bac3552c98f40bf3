"""A person's rights over their data (subject access, erasure) and the retention pass.

Authorisation and the audit of operators' reads are the caller's (the admin API); this service trusts it.
Prefect is not touched: a run of an erased application is cancelled by the caller, and the application
is withdrawn first so a run that wakes has nothing left to send.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Callable, Iterator, Optional, Protocol
from zoneinfo import ZoneInfo

from chalicelib.domain.application import Application, AuditEvent, applicant_key, apply
from chalicelib.domain.forces import ForceProfile
from chalicelib.domain.lifecycle import Action, IllegalTransition, Stage
from chalicelib.domain.retention import UNSUCCESSFUL, deletion_date, due_for_deletion, earliest_undue_submission
from chalicelib.services.intake import UnknownForce
from chalicelib.services.ports import Clock, ForceCatalogue, Record, StaleApplication

LONDON = ZoneInfo("Europe/London")
_MAX_HOPS = 4  # address -> applications and memberships -> their other addresses -> ...: bounded all the same




class DataProtectionStore(Protocol):
    def references_for(self, force_id: str, key: str) -> list[str]: ...
    def pack_requests_for(self, force_id: str, key: str) -> list[str]: ...
    def members_for(self, force_id: str, key: str) -> list[str]:
        """Member ids held under the address with this key (the person index)."""
    def member_emails(self, force_id: str, member_id: str) -> set[str]:
        """The addresses on this id's memberships; empty if it has none."""
    def application(self, force_id: str, reference: str) -> Optional[Application]:
        """None if there is none or it has been erased."""
    def is_erased(self, force_id: str, reference: str) -> bool: ...
    def save_transition(self, application: Application, event: AuditEvent) -> Application: ...
    def records(self, force_id: str, references: list[str], pack_ids: list[str], emails: set[str],
                member_ids: tuple[str, ...] = ()) -> list[Record]: ...
    def erase(self, force_id: str, references: list[str], pack_ids: list[str], emails: set[str],
              events: dict[str, AuditEvent], member_ids: tuple[str, ...] = ()) -> dict[str, int]: ...
    def at_stage_submitted_before(self, force_id: str, group_id: str, stage: Stage, before: datetime
                                  ) -> Iterator[Application]: ...
    def delete_application(self, force_id: str, reference: str, stage: Stage, version: int) -> int: ...
    def delete_expired(self, force_id: str, now: datetime, today: date) -> dict[str, int]: ...


class Evidence(Protocol):
    """Files an applicant uploaded (S3Documents: evidence/<force>/<reference>/)."""

    def delete_evidence(self, force_id: str, reference: str) -> int: ...


class UnknownApplication(Exception):
    pass


@dataclass(frozen=True)
class Person:
    """Everything one person is known by in a force: found from an address or an id, then from every address
    those lead to (an application's, a membership's), until nothing new turns up."""
    references: list[str]  # their applications (an erased one's shell included)
    member_ids: tuple[str, ...]  # their memberships' ids, imported ones (MEM-...) included
    pack_ids: list[str]
    emails: set[str]
    address: Optional[str]  # where to write to them: a current membership's, else the latest application's


# What each kind of item is called in an export, in the order shown. Equality answers are kept apart.
SECTIONS: list[tuple[str, str, tuple[str, ...]]] = [
    ("applications", "Your applications", ("application",)),
    ("history", "What happened to each application", ("event",)),
    ("decisions", "The panel's decisions about you", ("decision",)),
    ("screening", "Police screening results", ("screening",)),
    ("appeals", "Your appeals", ("appeal",)),
    ("agreements", "Agreements you signed", ("agreement",)),
    ("emails", "Emails we sent you or about you", ("email",)),
    ("membership", "Your membership", ("member",)),
    ("membership_history", "Changes to your membership", ("member_event", "member_audit")),
    ("callouts", "Your answers to critical-incident call-outs", ("callout_response",)),
    ("elections", "Elections you stood in", ("candidate",)),
    ("strategic", "The Strategic IAG", ("strategic_nominations", "strategic_availability")),
    ("panel_roles", "Panel roles you hold", ("reviewer",)),
    ("pack_requests", "Your requests for the application pack", ("pack_request",)),
    ("lookups", "Records we keep to find your applications", ("live", "applicant_index", "wake")),
]
EQUALITY = ("equality_monitoring", "Your equality monitoring answers")
_IDENTIFYING = ("given_name", "family_name", "email", "phone", "date_of_birth", "postcode")


class DataProtectionService:
    def __init__(self, forces: ForceCatalogue, store: DataProtectionStore, clock: Clock,
                 render: Optional[Callable[..., str]] = None, evidence: Optional[Evidence] = None):
        self._evidence = evidence
        self._forces = forces
        self._store = store
        self._clock = clock
        self._render = render

    def references_for(self, force_id: str, email: str) -> list[str]:
        """Every application and membership id of the person with this email in the force (person index Queries)."""
        person = self.person(force_id, email=email)
        return list(dict.fromkeys([*person.references, *person.member_ids]))

    def person(self, force_id: str, email: Optional[str] = None, reference: Optional[str] = None) -> Person:
        """The person with this address, or who made this application or holds this member id."""
        if not email and not reference:
            raise ValueError("give an email or a reference")
        references: list[str] = []
        members: list[str] = []
        packs: list[str] = []
        emails: set[str] = set()
        latest: Optional[Application] = None
        member_address: Optional[str] = None
        new_ids = [reference] if reference else []
        new_emails = {email.strip()} if email else set()
        seen_keys: set[str] = set()
        for _ in range(_MAX_HOPS):  # each hop follows new addresses and ids; a person has few of either
            for ref in new_ids:
                application = self._store.application(force_id, ref)
                on_file = self._store.member_emails(force_id, ref)
                if application is not None:
                    references.append(ref)
                    new_emails.add(application.applicant["email"])
                    if latest is None or application.submitted_at > latest.submitted_at:
                        latest = application
                elif not on_file and self._store.is_erased(force_id, ref):
                    references.append(ref)  # the shell: shown, and nothing more to follow
                if on_file:
                    members.append(ref)
                    member_address = member_address or sorted(on_file)[0]
                    new_emails |= on_file
            new_ids = []
            for address in sorted(new_emails):
                emails.add(address)
                key = applicant_key(address)
                if key in seen_keys:
                    continue
                seen_keys.add(key)
                packs += [p for p in self._store.pack_requests_for(force_id, key) if p not in packs]
                found = [*self._store.references_for(force_id, key), *self._store.members_for(force_id, key)]
                new_ids += [i for i in dict.fromkeys(found) if i not in references and i not in members
                            and i not in new_ids]
            new_emails = set()
            if not new_ids:
                break
        if member_address is None and latest is not None:
            member_address = latest.applicant["email"]
        return Person(references, tuple(members), packs, emails, member_address)

    # --- subject access ---

    def subject_access(self, force_id: str, email: Optional[str] = None, reference: Optional[str] = None) -> dict[str, Any]:
        """Everything held about one person, found by email or by one application's reference."""
        force = self._known_force(force_id)
        person = self.person(force_id, email, reference)
        records = self._store.records(force_id, person.references, person.pack_ids, person.emails, person.member_ids)
        applications = {r.reference: r for r in records if r.kind == "application"}
        months = force.unsuccessful_retention_months

        def shown(record: Record) -> dict[str, Any]:
            return {"what": record.kind, "source": record.source, "reference": record.reference,
                    "kept_until": self._kept_until(record, applications.get(record.reference), months),
                    "data": record.data}

        sections = [{"id": section_id, "title": title, "records": [shown(r) for r in records if r.kind in kinds]}
                    for section_id, title, kinds in SECTIONS]
        return {
            "force": {"id": force.id, "name": force.name},
            "generated_at": _iso(self._clock.now()),
            "found_by": {"email": email, "reference": reference},
            "references": list(dict.fromkeys([*person.references, *person.member_ids])),
            "sections": [s for s in sections if s["records"]],
            EQUALITY[0]: {"title": EQUALITY[1],
                          "note": "Special category data. You gave these answers by choice. They are stored apart "
                                  "from your application, never shown to the people who reviewed it, and only "
                                  "ever reported as totals.",
                          "records": [shown(r) for r in records if r.kind == "equality"]},
            "not_included": "Links we emailed you and their security codes, which only act, never describe you.",
        }

    def subject_access_html(self, export: dict[str, Any]) -> str:
        """The export as a readable page, dates and times in London time."""
        if self._render is None:
            raise RuntimeError("built without a template renderer (the container passes one)")
        return self._render("admin/subject_access.html", export=_readable(export), title_of=_title)

    # --- erasure ---

    def erase(self, force_id: str, reference: str, *, requested_by: str, reason: str) -> dict[str, Any]:
        """Remove the identity of the person who made this application from everything held about them.

        Covers all their applications and pack requests in the force. A live application is withdrawn first.
        `requested_by` is an operator id; the reason is kept in the audit with the person's details taken out.
        Erasing again changes nothing.
        """
        self._known_force(force_id)
        if self._store.application(force_id, reference) is None and not self._store.member_emails(force_id, reference):
            if self._store.is_erased(force_id, reference):
                return {"references": [reference], "already_erased": True, "withdrawn": 0, "deleted": 0,
                        "anonymised": 0, "pack_requests": 0}
            raise UnknownApplication(reference)
        person = self.person(force_id, reference=reference)
        now = self._clock.now()
        withdrawn, stages, identity = 0, {}, set()
        for ref in person.references:
            current = self._store.application(force_id, ref)
            if current is None:
                continue  # erased or deleted already
            identity |= _identity(current.applicant)
            moved = self._withdraw(current, now, requested_by)
            withdrawn += moved is not current
            stages[ref] = moved.stage
        identity |= person.emails
        reason = _without(reason, identity)
        events = {ref: AuditEvent(ref, now, "erase", stage, stage, requested_by, {"reason": reason})
                  for ref, stage in stages.items()}
        counts = self._store.erase(force_id, person.references, person.pack_ids, person.emails, events,
                                   person.member_ids)
        counts["evidence_files"] = self._delete_evidence(force_id, person.references)
        return {"references": list(dict.fromkeys([*person.references, *person.member_ids])),
                "already_erased": False, "withdrawn": withdrawn, **counts, "pack_requests": len(person.pack_ids)}

    def _withdraw(self, application: Application, now: datetime, actor: str) -> Application:
        """Through the lifecycle, so the run that wakes sees it ended; no email (the address is about to go)."""
        for _ in range(3):
            try:
                moved, event = apply(application, Action.WITHDRAW, at=now, actor=actor, detail={"reason": "erasure"})
            except IllegalTransition:
                return application  # ended already, or a member
            try:
                return self._store.save_transition(moved, event)
            except StaleApplication:
                fresh = self._store.application(application.force_id, application.reference)
                if fresh is None:  # gone meanwhile: asking again finishes the erasure
                    raise StaleApplication(application.reference) from None
                application = fresh
        raise StaleApplication(application.reference)

    # --- retention ---

    def sweep(self, force_id: str) -> dict[str, Any]:
        """Delete unsuccessful applications past the force's period (leaving counts), expired screening outcomes
        and expired links."""
        force = self._known_force(force_id)
        months = force.unsuccessful_retention_months
        now = self._clock.now()
        today = now.astimezone(LONDON).date()
        before = datetime.combine(earliest_undue_submission(today, months), time(), tzinfo=LONDON)
        counts = {"applications": 0, "items": 0, "evidence_files": 0}
        for group in force.groups:
            for stage in sorted(UNSUCCESSFUL):
                for application in self._store.at_stage_submitted_before(force_id, group.id, stage, before):
                    if not due_for_deletion(application.stage, application.updated_at, months, today):
                        continue
                    deleted = self._store.delete_application(force_id, application.reference, application.stage,
                                                             application.version)
                    counts["applications"] += deleted > 0
                    counts["items"] += deleted
                    counts["evidence_files"] += self._delete_evidence(force_id, [application.reference])
        return {**counts, **self._store.delete_expired(force_id, now, today)}

    # --- helpers ---

    def _delete_evidence(self, force_id: str, references: list[str]) -> int:
        """Uploaded files go with the application (e.g. evidence of residency)."""
        if self._evidence is None:
            return 0
        return sum(self._evidence.delete_evidence(force_id, reference) for reference in references)

    def _known_force(self, force_id: str) -> ForceProfile:
        force = self._forces.get(force_id)
        if force is None:
            raise UnknownForce(force_id)
        return force

    @staticmethod
    def _kept_until(record: Record, application: Optional[Record], months: int) -> str:
        if record.kind == "screening":
            return f"{record.data.get('expires_on')}, when the result expires"
        if record.kind == "member":
            return "while you are a member"
        if record.kind in ("member_event", "member_audit"):
            return "as the group's record of its membership; a reason you gave goes if you ask us to erase your data"
        if record.kind in ("pack_request", "reviewer", "callout_response", "candidate", "strategic_nominations",
                           "strategic_availability"):
            return "while it is needed for the group's work, or until you ask us to erase it"
        if application is None:
            return "until you ask us to erase it"
        stage = Stage(application.data["stage"])
        decided = datetime.fromisoformat(application.data["updated_at"].replace("Z", "+00:00"))
        deleted_on = deletion_date(stage, decided, months)
        if deleted_on is not None:
            return deleted_on.isoformat()
        if stage is Stage.MEMBER:
            return "while you are a member"
        return f"{months} months after a decision, if the application does not succeed"


def _identity(applicant: dict[str, Any]) -> set[str]:
    values = {str(applicant[k]) for k in _IDENTIFYING if applicant.get(k)}
    if applicant.get("given_name") and applicant.get("family_name"):
        values.add(f"{applicant['given_name']} {applicant['family_name']}")
    return values


def _without(text: str, identity: set[str]) -> str:
    """The reason with the person's details taken out: the audit outlives erasure."""
    for value in sorted(identity, key=len, reverse=True):
        text = re.sub(re.escape(value), "[removed]", text, flags=re.IGNORECASE)
    return text


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")


def _readable(value: Any) -> Any:
    """Moments shown in London time, as people read them."""
    if isinstance(value, str) and _ISO_MOMENT.match(value):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(LONDON)
        return moment.strftime("%-d %B %Y at %H:%M")
    if isinstance(value, dict):
        return {k: _readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_readable(v) for v in value]
    return value


def _title(name: str) -> str:
    return name.replace("_", " ").capitalize()
