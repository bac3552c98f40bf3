"""Every role a force's documents name, where it is held, and which roles sit on one panel.

A role is held in a scope: a group (its review panel, its senior representatives, who agrees its agenda), the
force's appeal panel, or the force itself (its contacts: the IAG coordinator, the vetting unit, the media contact).
Everything here is read from the profile, so a force that names a new role needs no new code.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from .group_kind import GroupKind

if TYPE_CHECKING:
    from .forces import ForceProfile

APPEAL = "appeal"  # the appeal panel serves the whole force (stored as services/joining.py's APPEAL_PANEL)
FORCE = "force"  # the force's contacts
FORCE_CONTACTS = ("iag_coordinator", "vetting_unit", "media")  # the contacts a seed names; the profile may add more

REVIEW_PANEL = "review panel"
APPEAL_PANEL = "appeal panel"
SENIOR_REPRESENTATIVES = "senior representatives"

# An elected office and the panel role its holder takes (issue 15: "an elected chair takes the matching panel role").
# A local or specialist group's chair sits on its review panel as the IAG Chair; the Strategic IAG's chair is the
# Strategic IAG Chair, who agrees its agenda and (Avon and Somerset) hears appeals. No seed names a vice chair's
# panel role: a profile that adds one (e.g. "iag_vice_chair") gets it filled the same way.
OFFICE_ROLES = {
    (GroupKind.LOCAL, "chair"): "iag_chair", (GroupKind.SPECIALIST, "chair"): "iag_chair",
    (GroupKind.STRATEGIC, "chair"): "strategic_iag_chair",
    (GroupKind.LOCAL, "vice_chair"): "iag_vice_chair", (GroupKind.SPECIALIST, "vice_chair"): "iag_vice_chair",
    (GroupKind.STRATEGIC, "vice_chair"): "strategic_iag_vice_chair",
}


@dataclass(frozen=True)
class Office:
    scope: str  # a group id, APPEAL or FORCE
    role: str
    panel: Optional[str]  # the panel it sits on (its holders must be distinct people); None for a contact or agenda


def offices(force: ForceProfile) -> list[Office]:
    """Every role of the force that an operator can fill, in the order the profile names them."""
    found: dict[tuple[str, str], Office] = {}

    def add(scope: str, role: str, panel: Optional[str]) -> None:
        known = found.get((scope, role))
        if known is None or (known.panel is None and panel is not None):
            found[(scope, role)] = Office(scope, role, panel)

    for group in force.groups:
        for role in group.panel:
            add(group.id, role, REVIEW_PANEL)
        for role in group.composition.get("senior_representatives", ()):
            add(group.id, role, SENIOR_REPRESENTATIVES)
        if group.composition.get("arranged_by"):
            add(group.id, group.composition["arranged_by"], None)
        for series in group.meetings:
            for role in series.agenda_by:
                add(group.id, role, None)
    for role in force.appeal.panel:
        add(APPEAL, role, APPEAL_PANEL)
    for role in (*FORCE_CONTACTS, *(r for r in force.contacts if r not in FORCE_CONTACTS)):
        add(FORCE, role, None)
    return list(found.values())


def office(force: ForceProfile, scope: str, role: str) -> Optional[Office]:
    return next((o for o in offices(force) if o.scope == scope and o.role == role), None)


def panel_of(force: ForceProfile, scope: str, panel: str) -> list[str]:
    return [o.role for o in offices(force) if o.scope == scope and o.panel == panel]


def office_role(force: ForceProfile, group_id: str, elected: str) -> list[Office]:
    """The panel roles an elected chair or vice chair of the group takes: none when the profile turns it off."""
    if not force.raw.get("offices", {}).get("elected_take_panel_role", True):
        return []
    group = force.group(group_id)
    role = OFFICE_ROLES.get((group.kind, elected)) if group else None
    if group is None or role is None:
        return []
    return [o for o in offices(force) if o.role == role and o.scope in (group_id, APPEAL)
            and (o.scope == group_id or group.kind is GroupKind.STRATEGIC)]


def person(email: str) -> str:
    """Who holds a link, without keeping their address on it: the same for any spelling of one address."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def same_person(one: str, other: str) -> bool:
    return bool(one) and bool(other) and one.strip().lower() == other.strip().lower()
