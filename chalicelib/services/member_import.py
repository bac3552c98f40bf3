"""Import a force's serving members from a CSV (domain/member_import.py documents the columns).

A dry run reports every problem by line and column and changes nothing. A real run changes nothing unless the
whole file is right, then writes every change at once (all or nothing, each change audited), and is idempotent:
a member is found by group and email, so the same file twice changes nothing, and a changed row updates that
member. Members the import created are welcomed once, through the one outbox, with their next meetings and (if
they have not signed the current agreement) a link to sign it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Callable, Optional, Protocol

from chalicelib.domain import member_import as rows_
from chalicelib.domain.forces import ForceProfile
from chalicelib.domain.links import Link, LinkProblem, Purpose, new_token, problem_with, token_hash
from chalicelib.domain.membership import Member, Role, SignedAgreement
from chalicelib.domain.operators import Operator, Permission
from chalicelib.domain.roles import person
from chalicelib.domain.validation import FieldError
from chalicelib.services.refusals import AdminConflict, NotFound
from chalicelib.services.joining import InvalidAnswer
from chalicelib.services.joining_mail import day_at
from chalicelib.services.outbox import About, EmailKey, Postbox
from chalicelib.services.ports import (
    Clock, EmailMessage, ForceCatalogue, LinkConflict, MemberChange, MemberConflict, RandomSource,
)
from chalicelib.services.refusals import LinkRefused

log = logging.getLogger(__name__)

ROW_SCHEMA = "member_import_row"
AGREEMENT_LINK_DAYS = 28




class MemberImportStore(Protocol):
    def members(self, force_id: str, group_id: str) -> list[Member]: ...

    def member(self, force_id: str, member_id: str, group_id: str) -> Optional[Member]: ...

    def sign_agreement(self, member: Member, agreement: SignedAgreement, link: Link) -> None:
        """The signed agreement, the member's agreement version and the link spent, in one write; raises
        LinkConflict when the link was used or expired meanwhile."""

    def apply_import(self, force_id: str, changes: list[MemberChange], actor: str, at: datetime) -> None:
        """Every change with its audit entry, all or nothing; raises MemberConflict when a member changed
        meanwhile (nothing is then kept)."""


class ImportConflict(AdminConflict):
    """A member changed between reading and writing: run the import again."""


class Links(Protocol):
    def add_links(self, links: list[Link]) -> None: ...

    def link(self, token_hash: str) -> Optional[Link]: ...


@dataclass(frozen=True)
class MemberImportParts:
    forces: ForceCatalogue
    store: MemberImportStore
    validate: Callable[[dict[str, str], str], list[FieldError]]
    clock: Clock
    postbox: Postbox
    render: Callable[..., str]
    holidays: Callable[[list[int]], frozenset[date]]  # years -> bank holidays to avoid
    links: Links
    random_bytes: RandomSource
    base_url: str
    fingerprint: Callable[[str, str], str]  # (force id, document file) -> the stored file's fingerprint
    office_filled: Callable[[str, str, str, str, str], object] = (  # RoleService.office_filled
        lambda force_id, group_id, office, name, email: [])
    # a member -> their step-down and details links, which every member email carries
    member_links: Optional[Callable[[Member], dict[str, str]]] = None


class MemberImportService:
    def __init__(self, parts: MemberImportParts):
        self._p = parts

    def run(self, operator: Operator, force_id: str, text: str, *, dry_run: bool) -> dict[str, Any]:
        force = self._p.forces.get(force_id)
        if force is None:
            raise NotFound(f"there is no force '{force_id}'")
        if not operator.may_in_force(Permission.OPERATE, force_id):
            operator.authorise(Permission.OPERATE, force_id)
        rows, problems = rows_.read_rows(text)
        checked = []
        for row in rows:
            shape = [rows_.Problem(row.line, e.pointer.lstrip("/").split("/")[0], e.message)
                     for e in self._p.validate(row.values, ROW_SCHEMA)]
            if shape:
                problems += shape
                continue
            found = rows_.check_row(force, row)
            if not found:
                operator.authorise(Permission.OPERATE, force_id, row.values["group"])  # a coordinator's own groups
                checked.append(row)
            problems += found
        problems += rows_.check_file(force, rows)
        changes = [] if problems else self._changes(force, checked)
        report = {"dry_run": dry_run, "applied": False, "rows": len(rows),
                  "problems": [p.to_dict() for p in sorted(problems, key=lambda p: (p.line, p.column))],
                  "created": [c.after.member_id for c in changes if c.before is None],
                  "updated": [{"line": c.line, "member": c.after.member_id, "fields": list(c.fields)}
                              for c in changes if c.before is not None],
                  "unchanged": len(checked) - len(changes) if not problems else 0, "welcomed": 0,
                  # What a person checks before confirming: who, where, and what changes for each.
                  "changes": [{"line": c.line, "name": c.after.name, "group": c.after.group_id,
                               "role": c.after.role.value, "new": c.before is None,
                               "fields": [] if c.before is None else list(c.fields)} for c in changes]}
        if dry_run or problems:
            return report
        now = self._p.clock.now()
        if changes:
            try:
                self._p.store.apply_import(force.id, changes, at=now,
                                           actor=f"import by {operator.role.value} {operator.id}")
            except MemberConflict:
                raise ImportConflict("a member changed while the import ran; nothing was kept") from None
        report["applied"] = True
        for change in changes:
            if change.after.role in (Role.CHAIR, Role.VICE_CHAIR) and "role" in change.fields:
                self._p.office_filled(force.id, change.after.group_id, change.after.role.value, change.after.name,
                                      change.after.email)
        report["welcomed"] = self._welcome_all(force, checked)
        return report

    def _changes(self, force: ForceProfile, rows: list[rows_.Row]) -> list[MemberChange]:
        by_group: dict[str, dict[str, Member]] = {}
        changes = []
        for row in rows:
            group_id = row.values["group"]
            if group_id not in by_group:
                by_group[group_id] = {m.email.strip().lower(): m for m in self._p.store.members(force.id, group_id)}
            existing = by_group[group_id].get(row.values["email"])
            member = rows_.member_from_row(force, row, existing)
            if existing is None:
                changes.append(MemberChange(row.line, None, member, rows_.IMPORTED_FIELDS))
            elif rows_.changes(existing, member):
                changes.append(MemberChange(row.line, existing, member, tuple(rows_.changes(existing, member))))
        return changes

    def _welcome_all(self, force: ForceProfile, rows: list[rows_.Row]) -> int:
        """Every member this import (or an earlier run of it) created is welcomed once; a failed send is sent by
        the next run of the same file."""
        welcomed = 0
        members = {}
        for row in rows:
            group_id = row.values["group"]
            if group_id not in members:
                members[group_id] = {m.email.strip().lower(): m for m in self._p.store.members(force.id, group_id)}
            member = members[group_id].get(row.values["email"])
            if member is None or member.member_id != rows_.member_id_for(force.id, member.email):
                continue  # joined through an application: already welcomed by the joining flow
            try:
                if self._p.postbox.email(member_email(member, f"welcome-import-{member.group_id}"),
                                         partial(self._welcome, force, member)):
                    welcomed += 1
            except Exception:  # noqa: BLE001 (released by the outbox; the next run of the file sends it)
                log.warning("welcome to %s not sent; the next run of the import sends it", member.member_id)
        return welcomed

    def _welcome(self, force: ForceProfile, member: Member) -> EmailMessage:
        from chalicelib.domain.meetings import upcoming_for_group

        group = force.require_group(member.group_id)
        now = self._p.clock.now()
        meetings = upcoming_for_group(force, group, after=now, count=force.onboarding.dates_shown,
                                      avoid=self._p.holidays([now.year, now.year + 1]),
                                      opted_into=member.optional_series)  # no scrutiny panel they did not choose
        agreement_url = None if rows_.has_signed_current(force, member) else \
            self._agreement_link(member, now + timedelta(days=AGREEMENT_LINK_DAYS))
        contact = force.contacts.get("iag_coordinator") or force.contacts["recruitment"]
        context = {"force": force, "group": group, "member": member, "meetings": meetings, "when": day_at,
                   "agreement": force.onboarding.agreement, "agreement_url": agreement_url,
                   "link_days": AGREEMENT_LINK_DAYS, "contact": contact,
                   "member_links": self._p.member_links(member) if self._p.member_links else None}
        return EmailMessage(to=member.email, subject=f"{group.name}: your membership in the new system",
                            text=self._p.render("email/member_welcome.txt", **context),
                            html=self._p.render("email/member_welcome.html", **context), force_id=force.id,
                            reply_to=contact.email)


    # --- an imported member signs the current agreement (GET shows, POST signs: web/members.py) ---

    def _agreement_link(self, member: Member, expires: datetime) -> str:
        token = new_token(self._p.random_bytes(32))
        self._p.links.add_links([Link(token_hash(token), Purpose.MEMBER_AGREEMENT, member.force_id, member.member_id,
                                      member.group_id, None, expires, holder=person(member.email))])
        return f"{self._p.base_url}/members/agreement/{token}"

    def open_agreement(self, token: str) -> tuple[Link, Member, ForceProfile]:
        """The link's member, for showing; raises LinkRefused. Never changes anything."""
        link = self._p.links.link(token_hash(token))
        if link is None or link.purpose is not Purpose.MEMBER_AGREEMENT:
            raise LinkRefused(LinkProblem.UNKNOWN)
        member = self._p.store.member(link.force_id, link.reference, link.role)
        force = self._p.forces.get(link.force_id)
        if member is None or force is None:
            raise LinkRefused(LinkProblem.UNKNOWN)
        problem = problem_with(link, now=self._p.clock.now(), current_version=None)
        if problem is None and (not member.active or person(member.email) != link.holder):
            problem = LinkProblem.SUPERSEDED  # no longer a member, or their address changed
        if problem is None and rows_.has_signed_current(force, member):
            problem = LinkProblem.USED
        if problem:
            raise LinkRefused(problem)
        return link, member, force

    def sign_agreement(self, token: str, *, signed_name: str, confirmed: bool, source_ip: str,
                       user_agent: str = "") -> Member:
        link, member, force = self.open_agreement(token)
        signed_name = " ".join(signed_name.split())
        if not confirmed:
            raise InvalidAnswer("Confirm that you have read and agree to the confidentiality agreement")
        if not signed_name or len(signed_name) > 200:
            raise InvalidAnswer("Type your full name to sign")
        document = force.onboarding.agreement
        agreement = SignedAgreement(member.member_id, document.id, document.version,
                                    self._p.fingerprint(force.id, document.file), signed_name, self._p.clock.now(),
                                    source_ip or "unknown", user_agent[:300])
        try:
            self._p.store.sign_agreement(member, agreement, link)
        except LinkConflict:
            raise LinkRefused(LinkProblem.USED) from None
        return member


def member_email(member: Member, kind: str) -> EmailKey:
    return EmailKey(About("member", member.force_id, member.member_id), kind)
