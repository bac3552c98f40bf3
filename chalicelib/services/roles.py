"""Who holds each role a force's documents name, set by operators (and by elections, for chairs).

A force administrator sets any role; a coordinator sets the roles of their own groups. When a role changes hands,
the previous holder's links stop working (each link names the person it was sent to, domain/links.py) and the new
holder is sent what waits for that role. One person never holds two roles of the same panel.
"""
from __future__ import annotations

import builtins
import logging
import re
from dataclasses import dataclass
from typing import Any, Callable, Optional, Protocol

from chalicelib.domain import roles
from chalicelib.domain.forces import ForceProfile
from chalicelib.domain.operators import Operator, Permission
from chalicelib.services.refusals import InvalidRequest, NotFound
from chalicelib.services.operators import AccessLog
from chalicelib.services.ports import Clock, ForceCatalogue

log = logging.getLogger(__name__)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class RoleHolders(Protocol):
    """Who holds each role, per scope (DynamoReviewStore: PK FORCE#<force>#PEOPLE  SK GROUP#<scope>#ROLE#<role>)."""

    def panel_members(self, force_id: str, group_id: str) -> dict[str, tuple[str, str]]: ...

    def put_reviewer(self, force_id: str, group_id: str, role: str, name: str, email: str) -> None: ...


class ReviewPanels(Protocol):
    """What waits for a review panel role (ReviewService)."""

    def panel_changed(self, force_id: str, group_id: str, role: str, email: str) -> int: ...


class AppealAndVetting(Protocol):
    """What waits for an appeal panel role or the vetting unit (JoiningService)."""

    def appeal_panel_changed(self, force_id: str, role: str, email: str) -> int: ...

    def vetting_unit_changed(self, force_id: str, email: str) -> int: ...


class StrategicRoles(Protocol):
    """What waits for a role in the Strategic IAG's cycles: a senior representative's poll, a local chair's request
    for nominees (StrategicService)."""

    def role_changed(self, force_id: str, scope: str, role: str, email: str) -> int: ...


@dataclass(frozen=True)
class RoleParts:
    forces: ForceCatalogue
    holders: RoleHolders
    access_log: AccessLog
    clock: Clock
    review: Callable[[], ReviewPanels]  # built when first needed: the services refer to each other
    joining: Callable[[], AppealAndVetting]
    contacts_changed: Callable[[str], None] = lambda force_id: None  # the catalogue forgets its copy of the contacts
    strategic: Optional[Callable[[], StrategicRoles]] = None


class RoleService:
    def __init__(self, parts: RoleParts):
        self._p = parts

    def list(self, operator: Operator, force_id: str) -> dict[str, Any]:
        """Every role the operator may see, with who holds it (null: nobody yet)."""
        force = self._force(force_id)
        if not operator.may_in_force(Permission.VIEW, force_id):
            operator.authorise(Permission.VIEW, force_id)  # another force's operator: refused, not an empty list
        answer = []
        held_by_scope: dict[str, dict[str, tuple[str, str]]] = {}
        for office in roles.offices(force):
            if not operator.may(Permission.VIEW, force_id, self._group_of(office.scope)):
                continue
            held = held_by_scope.setdefault(office.scope, self._p.holders.panel_members(force_id, office.scope))
            holder = held.get(office.role)
            if holder is None and office.scope == roles.FORCE and office.role in force.contacts:
                contact = force.contacts[office.role]  # still as the profile file says
                holder = (contact.name, contact.email or "")
            answer.append({"scope": office.scope, "role": office.role, "panel": office.panel,
                           "holder": {"name": holder[0], "email": holder[1]} if holder else None})
        return {"force": force_id, "roles": answer}

    def set(self, operator: Operator, force_id: str, scope: str, role: str, name: str, email: str) -> dict[str, Any]:
        """Set who holds `role` in `scope` (a group id, "appeal" or "force"); bad input changes nothing."""
        force = self._force(force_id)
        if scope not in (roles.APPEAL, roles.FORCE) and force.group(scope) is None:
            raise NotFound(f"{force_id} has no group '{scope}' (scopes: a group id, 'appeal' or 'force')")
        operator.authorise(Permission.REVIEWERS, force_id, self._group_of(scope))
        office = roles.office(force, scope, role)
        if office is None:
            names = [o.role for o in roles.offices(force) if o.scope == scope]
            raise InvalidRequest(f"the roles of {scope} are: {', '.join(names)}")
        name, email = (name or "").strip(), (email or "").strip()
        if not name or len(name) > 120:
            raise InvalidRequest("give the holder's name (up to 120 characters)")
        if not EMAIL.match(email) or len(email) > 254:
            raise InvalidRequest("give the holder's email address")
        previous = self._put(force, office, name, email)
        self._p.access_log.record(operator, force_id, f"set_role:{scope}:{role}", self._p.clock.now(),
                                  group_id=self._group_of(scope))
        sent = 0 if previous and roles.same_person(previous[1], email) else self._follow(force.id, office, email)
        return {"scope": scope, "role": role, "name": name, "email": email, "requests_sent": sent}

    def office_filled(self, force_id: str, group_id: str, elected: str, name: str,
                      email: str) -> builtins.list[str]:  # (`list` here is the method above)
        """An elected chair or vice chair takes the matching panel roles (unless the profile turns that off)."""
        force = self._force(force_id)
        taken = []
        for office in roles.office_role(force, group_id, elected):
            try:
                previous = self._put(force, office, name, email)
            except InvalidRequest as error:
                log.warning("%s: the elected %s of %s does not take %s: %s", force_id, elected, group_id, office.role,
                            error)
                continue
            if not (previous and roles.same_person(previous[1], email)):
                self._follow(force.id, office, email)
            taken.append(f"{office.scope}:{office.role}")
        return taken

    def _put(self, force: ForceProfile, office: roles.Office, name: str, email: str) -> Optional[tuple[str, str]]:
        held = self._p.holders.panel_members(force.id, office.scope)
        if office.panel:
            same_panel = roles.panel_of(force, office.scope, office.panel)
            clash = [other for other, (_, by) in held.items()
                     if other != office.role and other in same_panel and roles.same_person(by, email)]
            if clash:
                raise InvalidRequest(f"{email} already holds {clash[0]} on the {office.panel} of {office.scope}: "
                                     f"a panel needs distinct people")
        self._p.holders.put_reviewer(force.id, office.scope, office.role, name, email)
        if office.scope == roles.FORCE:
            self._p.contacts_changed(force.id)
        return held.get(office.role)

    def _follow(self, force_id: str, office: roles.Office, email: str) -> int:
        """The new holder gets what waits for the role; the previous holder's links already refuse them.

        One role can wait in more than one place (a local IAG's chair reviews applications and nominates to the
        Strategic IAG): every service with links for roles is told."""
        sent = 0
        if office.panel == roles.REVIEW_PANEL:
            sent += self._p.review().panel_changed(force_id, office.scope, office.role, email)
        if office.panel == roles.APPEAL_PANEL:
            sent += self._p.joining().appeal_panel_changed(force_id, office.role, email)
        if office.scope == roles.FORCE and office.role == "vetting_unit":
            sent += self._p.joining().vetting_unit_changed(force_id, email)
        if self._p.strategic is not None:
            sent += self._p.strategic().role_changed(force_id, office.scope, office.role, email)
        return sent

    def _force(self, force_id: str) -> ForceProfile:
        force = self._p.forces.get(force_id)
        if force is None:
            raise NotFound(f"there is no force '{force_id}'")
        return force

    @staticmethod
    def _group_of(scope: str) -> Optional[str]:
        """Force-wide roles (appeal panel, contacts) are a force administrator's; a group's, its coordinator's too."""
        return None if scope in (roles.APPEAL, roles.FORCE) else scope
