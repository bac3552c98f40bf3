"""What operators do, for the admin API and the CLI alike: every call names the operator, is checked against
their role and force (domain/operators.py), and every read of personal data is recorded in the access log.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol

from chalicelib.domain.application import Application
from chalicelib.domain.forces import ForceProfile, Group
from chalicelib.domain.lifecycle import Stage, is_live
from chalicelib.domain.operators import Operator, Permission
from chalicelib.services.operators import AccessLog
from chalicelib.services.ports import ApplicationRepository, Clock, ForceCatalogue, Workflow, WorkflowUnavailable
# The admin service's refusals live in a light module (routes catch them at the cold start), re-exported here.
from chalicelib.services.refusals import AdminConflict as AdminConflict, InvalidRequest as InvalidRequest
from chalicelib.services.refusals import NotFound as NotFound

if TYPE_CHECKING:  # built lazily by the container: not imported on the admin API's path
    from chalicelib.domain.equality_report import EqualityReport
    from chalicelib.services.data_protection import DataProtectionService
    from chalicelib.services.reports import ReportService
    from chalicelib.services.roles import RoleService
    from chalicelib.services.subject_access import SubjectAccessService

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FINAL_RUN_STATES = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")
EXPORT_COLUMNS = ("reference", "group", "stage", "submitted_at", "updated_at", "given_name", "family_name", "email",
                  "phone")


class Reviewers(Protocol):
    """Who sits on each panel (DynamoReviewStore)."""

    def panel_members(self, force_id: str, group_id: str) -> dict[str, tuple[str, str]]: ...

    def put_reviewer(self, force_id: str, group_id: str, role: str, name: str, email: str) -> None: ...


@dataclass(frozen=True)
class AdminParts:
    forces: ForceCatalogue
    repository: ApplicationRepository
    workflow: Workflow
    access_log: AccessLog
    clock: Clock
    review: Callable[..., Any]  # () -> ReviewService, built on use
    joining: Callable[..., Any]  # () -> JoiningService
    reviewers: Reviewers
    reports: Callable[[], ReportService]  # built when first asked for
    data_protection: Callable[[], DataProtectionService]
    roles: Callable[[], RoleService]
    subject_access: Callable[[], SubjectAccessService]


class AdminService:
    def __init__(self, parts: AdminParts):
        self._p = parts

    # --- reading ---

    def applications(self, operator: Operator, force_id: str, group_id: str, stage: str, *, limit: int = 25,
                     next_token: Optional[str] = None) -> dict[str, Any]:
        self._group(force_id, group_id)
        operator.authorise(Permission.LIST, force_id, group_id)
        try:
            wanted = Stage(stage)
        except ValueError:
            raise InvalidRequest(f"stage must be one of: {', '.join(s.value for s in Stage)}") from None
        if not 1 <= limit <= 100:
            raise InvalidRequest("limit must be from 1 to 100")
        page = self._p.repository.list_by_stage(force_id, group_id, wanted, limit=limit, next_token=next_token)
        self._p.access_log.record(operator, force_id, f"list:{wanted.value}", self._p.clock.now(), group_id=group_id)
        return {"applications": [_summary(a) for a in page.items], "next": page.next_token}

    def application(self, operator: Operator, force_id: str, reference: str) -> dict[str, Any]:
        application = self._application(operator, Permission.VIEW, force_id, reference)
        self._p.access_log.record(operator, force_id, "view", self._p.clock.now(), reference=reference)
        return {**_summary(application), "applicant": application.applicant, "answers": application.answers,
                "eligibility": application.eligibility, "version": application.version,
                "timeline": self.timeline(force_id, reference), "runs": self._runs(reference)}

    def timeline(self, force_id: str, reference: str) -> list[dict[str, Any]]:
        """Moves and decisions, and who read the application, oldest first."""
        events = [{"at": _iso(e.at), "what": e.action, "from": e.from_stage.value if e.from_stage else None,
                   "to": e.to_stage.value, "by": e.actor, **({"detail": e.detail} if e.detail else {})}
                  for e in self._p.repository.events(force_id, reference)]
        reads = [{"at": r["at"], "what": f"operator {r['action']}", "by": f"{r['role']} {r['operator']}"}
                 for r in self._p.access_log.reads_of(force_id, reference)]
        return sorted(events + reads, key=lambda entry: entry["at"])

    def pack_request(self, operator: Operator, force_id: str, request_id: str) -> dict[str, Any]:
        """A request for the application pack, with what the requester typed (never repeated by email)."""
        self._force(force_id)
        if not operator.may_in_force(Permission.VIEW, force_id):
            operator.authorise(Permission.VIEW, force_id)  # refused before the lookup, as for applications
        found = self._p.repository.get_pack_request(force_id, request_id)
        if found is None:
            raise NotFound(f"{force_id} has no pack request {request_id}")
        self._p.access_log.record(operator, force_id, "view", self._p.clock.now(), reference=request_id)
        return found

    def export(self, operator: Operator, force_id: str, group_id: str) -> str:
        """The group's applications at every stage as CSV (no equality answers: those are reported in aggregate)."""
        self._group(force_id, group_id)
        operator.authorise(Permission.EXPORT, force_id, group_id)
        self._p.access_log.record(operator, force_id, "export", self._p.clock.now(), group_id=group_id)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for stage in Stage:
            for application in self._p.repository.all_at(force_id, group_id, stage):
                row = {**_summary(application), **{k: application.applicant.get(k, "") for k in EXPORT_COLUMNS[5:]}}
                writer.writerow({k: _safe_cell(v) for k, v in row.items()})
        return out.getvalue()

    def equality_report(self, operator: Operator, force_id: str, period_id: Optional[str] = None) -> EqualityReport:
        """Counts with small numbers hidden, for a closed period (the latest by default), for the force's
        equality duty: force-wide readers only."""
        from chalicelib.services.reports import UnknownPeriod

        self._force(force_id)
        operator.authorise(Permission.REPORT, force_id)
        try:
            return self._p.reports().equality(force_id, period_id)
        except UnknownPeriod:
            raise NotFound(f"No ended period {period_id!r}: the report lists the periods it can show") from None

    def recruitment(self, operator: Operator, force_id: str, group_id: Optional[str] = None) -> dict[str, Any]:
        """The funnel and the review queues: the force's, or one group's (a coordinator's view)."""
        if group_id:
            self._group(force_id, group_id)
        else:
            self._force(force_id)
        operator.authorise(Permission.REPORT, force_id, group_id)
        reports = self._p.reports()
        funnel, queues = reports.funnel(force_id, group_id), reports.queues(force_id, group_id)
        if group_id:
            return {"force_id": force_id, "group_id": group_id, "funnel": funnel.group(group_id).to_dict(),
                    "queue": queues.group(group_id).to_dict()}
        return {"funnel": funnel, "queues": queues}

    # --- data protection ---

    def request_subject_access(self, operator: Operator, force_id: str, *, email: Optional[str] = None,
                               reference: Optional[str] = None) -> dict[str, Any]:
        """Start a subject-access request for one person (found by email or by one reference): the package goes
        to the person's address on file through a single-use link; the operator sees only the request.
        Force administrators only (an auditor reads the record of requests, never starts one)."""
        from chalicelib.services.subject_access import NobodyFound

        self._force(force_id)
        operator.authorise(Permission.SUBJECT_ACCESS, force_id)
        if bool(email) == bool(reference):
            raise InvalidRequest("give the person's email or one application's reference, not both")
        if email and not EMAIL.match(email.strip()):
            raise InvalidRequest("that is not an email address")
        try:
            request = self._p.subject_access().request(force_id, operator.id, email=email and email.strip(),
                                                       reference=reference)
        except NobodyFound:
            raise NotFound(f"{force_id} has no application from that person: nothing was sent") from None
        now = self._p.clock.now()
        for found in request.references:
            self._p.access_log.record(operator, force_id, "subject_access_requested", now, reference=found)
        return request.to_dict()

    def subject_access_requests(self, operator: Operator, force_id: str) -> list[dict[str, Any]]:
        """Who asked for which person's package, when, and when it was delivered: never the package."""
        self._force(force_id)
        operator.authorise(Permission.AUDIT, force_id)
        return [r.to_dict() for r in self._p.subject_access().requests(force_id)]

    def erase(self, operator: Operator, force_id: str, reference: str, *, reason: str, confirm: str) -> dict[str, Any]:
        """Erasure on request: identity removed everywhere, anonymised audit kept, the person's runs stopped."""
        self._force(force_id)
        operator.authorise(Permission.ERASE, force_id)
        if (confirm or "").strip() != reference:
            raise InvalidRequest("to confirm, repeat the application's reference in 'confirm'")
        if not (reason or "").strip() or len(reason) > 500:
            raise InvalidRequest("say why (the request's date and channel, up to 500 characters)")
        from chalicelib.services.data_protection import UnknownApplication  # lazily, as the service itself

        try:  # an application's reference, or a member id (an imported member has no application)
            result = self._p.data_protection().erase(force_id, reference, requested_by=operator.id,
                                                     reason=reason.strip())
        except UnknownApplication:
            raise NotFound(f"{force_id} has no application or member {reference}") from None
        self._p.access_log.record(operator, force_id, "erase", self._p.clock.now(), reference=reference)
        result["runs_cancelled"] = self._stop_runs(result.get("references", [reference]))
        return result

    def _stop_runs(self, references: list[str]) -> list[str]:
        """A run left waiting would only find an erased, ended application; stopping it keeps the UI honest."""
        stopped = []
        for reference in references:
            try:
                for run in self._p.workflow.runs(reference):
                    if run["state"] not in FINAL_RUN_STATES:
                        self._p.workflow.cancel(run["id"])
                        stopped.append(run["id"])
            except WorkflowUnavailable:
                pass  # the run wakes later, finds the application withdrawn and ends
        return stopped

    def access_log(self, operator: Operator, force_id: str, month: datetime) -> list[dict[str, Any]]:
        self._force(force_id)
        operator.authorise(Permission.AUDIT, force_id)
        return self._p.access_log.month(force_id, month)

    # --- changing ---

    def retry(self, operator: Operator, force_id: str, reference: str) -> dict[str, Any]:
        """Get a stuck application moving: start its run if it has none, rerun a dead one, wake a suspended one."""
        application = self._application(operator, Permission.RETRY, force_id, reference)
        if not is_live(application.stage):
            raise AdminConflict(f"{reference} has ended ({application.stage.value}): there is nothing to retry")
        review = self._p.review()
        try:
            runs = self._p.workflow.runs(reference)
            if not runs:
                run_id = review.start(application)
                if run_id is None:
                    raise WorkflowUnavailable("Prefect did not start the run")
                return {"done": "started", "run": run_id}
            latest = runs[0]
            if latest["state"] in FINAL_RUN_STATES:
                self._p.workflow.retry(latest["id"])
                return {"done": "retried", "run": latest["id"]}
            if latest["state"] == "PAUSED":
                woken = review.wake(force_id, reference, "operator")
                return {"done": "woken" if woken else "waiting", "run": latest["id"]}
        except WorkflowUnavailable as error:
            raise AdminConflict(f"Prefect cannot be reached ({error}); reconciliation will catch up") from None
        raise AdminConflict(f"the run of {reference} is {latest['state'].lower()}: it is already moving")

    def cancel(self, operator: Operator, force_id: str, reference: str) -> dict[str, Any]:
        """Stop the application's run; the application keeps its stage, and a retry starts it again."""
        self._application(operator, Permission.RETRY, force_id, reference)
        try:
            stopped = [r["id"] for r in self._p.workflow.runs(reference) if r["state"] not in FINAL_RUN_STATES]
            for run_id in stopped:
                self._p.workflow.cancel(run_id)
        except WorkflowUnavailable as error:
            raise AdminConflict(f"Prefect cannot be reached ({error})") from None
        if not stopped:
            raise AdminConflict(f"{reference} has no run to cancel")
        return {"done": "cancelled", "runs": stopped}

    def resend(self, operator: Operator, force_id: str, reference: str) -> dict[str, Any]:
        """Fresh links to whoever the application waits for: the panel, or the applicant's offer or agreement."""
        application = self._application(operator, Permission.RESEND, force_id, reference)
        stamp = self._p.clock.now().strftime("%Y%m%d%H%M")  # one resend a minute: a double click sends once
        if application.stage in (Stage.AWAITING_REVIEW, Stage.DISCUSSION_REQUESTED):
            sent = self._p.review().resend(application, stamp)
            return {"done": "resent", "emails": sent}
        if application.stage in (Stage.OFFERED, Stage.ONBOARDING):
            return {"done": "resent", "emails": int(self._p.joining().resend(application, stamp))}
        raise AdminConflict(f"{reference} is {application.stage.value}: no link of ours is waiting on anyone")

    def confirm_residency(self, operator: Operator, force_id: str, reference: str) -> dict[str, str]:
        """A coordinator has seen the applicant's evidence of residency another way (in person, by post)."""
        application = self._application(operator, Permission.OPERATE, force_id, reference)
        if application.stage is not Stage.RESIDENCY:
            raise AdminConflict(f"{reference} is {application.stage.value}: it is not waiting for evidence of "
                                "residency")
        moved = self._p.joining().confirm_residency_seen(application, operator.id)
        return {"done": "residency confirmed", "stage": moved.stage.value}

    def set_reviewer(self, operator: Operator, force_id: str, group_id: str, role: str, name: str,
                     email: str) -> dict[str, Any]:
        """One of the group's review panel (services/roles.py sets every other role the same way)."""
        group = self._group(force_id, group_id)
        operator.authorise(Permission.REVIEWERS, force_id, group_id)
        if role not in group.panel:
            raise InvalidRequest(f"{group_id}'s panel roles are: {', '.join(group.panel)}")
        answer = self._p.roles().set(operator, force_id, group_id, role, name, email)
        return {"group": group_id, **{k: v for k, v in answer.items() if k != "scope"}}

    def reviewers(self, operator: Operator, force_id: str, group_id: str) -> dict[str, Any]:
        self._group(force_id, group_id)
        operator.authorise(Permission.VIEW, force_id, group_id)
        members = self._p.reviewers.panel_members(force_id, group_id)
        return {"group": group_id, "panel": {role: {"name": n, "email": e} for role, (n, e) in members.items()}}

    # --- helpers ---

    def _force(self, force_id: str) -> ForceProfile:
        force = self._p.forces.get(force_id)
        if force is None:
            raise NotFound(f"there is no force '{force_id}'")
        return force

    def _group(self, force_id: str, group_id: str) -> Group:
        group = self._force(force_id).group(group_id)
        if group is None:
            raise NotFound(f"{force_id} has no group '{group_id}'")
        return group

    def _application(self, operator: Operator, permission: Permission, force_id: str, reference: str) -> Application:
        self._force(force_id)
        if not operator.may_in_force(permission, force_id):
            # Refused before the lookup: another force's operator learns nothing, not even whether it exists.
            operator.authorise(permission, force_id)
        application = self._p.repository.get(force_id, reference)
        if application is None:
            raise NotFound(f"{force_id} has no application {reference}")
        operator.authorise(permission, force_id, application.group_id)
        return application

    def _runs(self, reference: str) -> list[dict[str, Any]]:
        try:
            return self._p.workflow.runs(reference)
        except WorkflowUnavailable as error:
            return [{"error": f"Prefect cannot be reached: {error}"}]


def _summary(application: Application) -> dict[str, Any]:
    return {"reference": application.reference, "group": application.group_id, "stage": application.stage.value,
            "submitted_at": _iso(application.submitted_at), "updated_at": _iso(application.updated_at),
            "name": f"{application.applicant.get('given_name', '')} {application.applicant.get('family_name', '')}".strip()}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _safe_cell(value: object) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: such text is quoted (CSV injection)."""
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
