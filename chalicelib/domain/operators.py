"""Who an operator is and what each role may do: the table every admin entry point asks before acting.

Roles come from the operator pool (Cognito groups); the force and groups from the user's attributes.
A force's people never see another force: every permission is checked against the force in the request.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Optional


class Role(str, Enum):
    PLATFORM = "platform"  # runs the service for every force
    FORCE_ADMIN = "force_admin"  # one force: everything, data requests included
    COORDINATOR = "coordinator"  # the groups of one force: day-to-day recruitment
    AUDITOR = "auditor"  # one force, read-only


class Permission(str, Enum):
    LIST = "list"  # applications of a group by stage
    VIEW = "view"  # one application and its timeline
    EXPORT = "export"  # a group's applications as a file
    REPORT = "report"  # counts: funnel, queues, equality monitoring
    AUDIT = "audit"  # who read what
    RETRY = "retry"  # retry or cancel a flow run
    RESEND = "resend"  # send a link again
    REVIEWERS = "reviewers"  # who sits on a group's panel
    OPERATE = "operate"  # meetings, elections, call-outs, Strategic IAG cycles
    SUBJECT_ACCESS = "subject_access"  # start a request: the person gets the package, not the operator
    ERASE = "erase"  # erasure on request
    MEMBERSHIP = "membership"  # suspend, reinstate or remove a member (force administrators)


READS = frozenset({Permission.LIST, Permission.VIEW, Permission.EXPORT, Permission.REPORT, Permission.AUDIT})
EVERYTHING = frozenset(Permission)

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PLATFORM: EVERYTHING,
    Role.FORCE_ADMIN: EVERYTHING,
    Role.COORDINATOR: frozenset({Permission.LIST, Permission.VIEW, Permission.EXPORT, Permission.REPORT,
                                 Permission.RETRY, Permission.RESEND, Permission.REVIEWERS, Permission.OPERATE}),
    Role.AUDITOR: READS,
}


class OperatorRefused(PermissionError):
    pass


@dataclass(frozen=True)
class Operator:
    id: str  # the pool's subject: recorded with every read and change
    role: Role
    force_id: Optional[str] = None  # None only for the platform role
    group_ids: frozenset[str] = field(default_factory=frozenset)  # a coordinator's groups

    def __post_init__(self) -> None:
        if self.role is not Role.PLATFORM and not self.force_id:
            raise ValueError(f"a {self.role.value} belongs to one force")
        if self.role is Role.COORDINATOR and not self.group_ids:
            raise ValueError("a coordinator coordinates at least one group")

    def may(self, permission: Permission, force_id: str, group_id: Optional[str] = None) -> bool:
        if permission not in PERMISSIONS[self.role]:
            return False
        if self.role is Role.PLATFORM:
            return True
        if force_id != self.force_id:
            return False
        if self.role is Role.COORDINATOR:
            # Force-wide acts (group_id None) are beyond a coordinator: they see their own groups.
            return group_id is not None and group_id in self.group_ids
        return True

    def may_in_force(self, permission: Permission, force_id: str) -> bool:
        """Whether the role allows this anywhere in the force (for a coordinator: in one of their groups)."""
        return permission in PERMISSIONS[self.role] and (self.role is Role.PLATFORM or force_id == self.force_id)

    def authorise(self, permission: Permission, force_id: str, group_id: Optional[str] = None) -> None:
        if not self.may(permission, force_id, group_id):
            where = f"{force_id}/{group_id}" if group_id else force_id
            raise OperatorRefused(f"{self.role.value} {self.id} may not {permission.value} for {where}")

    def groups_in(self, force_id: str, all_groups: list[str]) -> list[str]:
        """The groups of `force_id` this operator may list (none for another force)."""
        if self.role is Role.PLATFORM or (self.force_id == force_id and self.role is not Role.COORDINATOR):
            return list(all_groups)
        if self.force_id != force_id:
            return []
        return [g for g in all_groups if g in self.group_ids]


def operator_from_claims(claims: dict[str, Any]) -> Operator:
    """An operator from a verified ID token: exactly one role group, the force and groups as attributes."""
    roles = [Role(g) for g in claims.get("cognito:groups") or [] if g in Role._value2member_map_]
    if len(roles) != 1:
        raise OperatorRefused("an operator must hold exactly one role")
    groups = frozenset(g.strip() for g in (claims.get("custom:group_ids") or "").split(",") if g.strip())
    try:
        return Operator(id=claims["sub"], role=roles[0], force_id=claims.get("custom:force_id") or None,
                        group_ids=groups)
    except (KeyError, ValueError) as error:
        raise OperatorRefused(f"the operator's account is incomplete: {error}") from None
