"""What the public may read about a force and its groups, computed for a given day."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.domain.forces import Contact, ForceProfile, Group

_INDEPENDENCE_WORDS = {
    "police_employee": "employed by the police",
    "police_connection": "substantially connected to the police",
    "judiciary_connection": "linked to the judiciary",
    "civic_role": "holding civic duties",
}


def eligibility_in_plain_english(force: ForceProfile) -> list[str]:
    rules = force.eligibility
    where = " or ".join(w for w in ("live", "work") if f"{w}s" in rules.area_connection)
    lines = [f"You must be {rules.minimum_age} or over.", f"You must {where} in {force.area_name}."]
    if rules.independence_exclusions:
        kinds = ", ".join(_INDEPENDENCE_WORDS[e] for e in rules.independence_exclusions)
        lines.append(f"Members must be independent: you cannot join if you are {kinds}.")
    if force.residency_evidence_required:
        lines.append("You will be asked to show where you live.")
    if not rules.convictions_bar:
        lines.append("Previous convictions or police contact are not a bar to joining.")
    return lines


def group_view(force: ForceProfile, group: Group, today: date) -> dict[str, Any]:
    openness = force.openness(group, today)
    view: dict[str, Any] = {
        "id": group.id,
        "name": group.name,
        "kind": group.kind.value,
        "area": group.area,
        "open_to_applicants": openness.open,
        "screening": group.screening,
        "commitment": group.commitment,
        "meetings": [{"name": m.name, "optional": m.optional, "description": m.describe()} for m in group.meetings],
        "requirements": [{"id": r.id, "text": r.text} for r in group.requirements],
        "called_for_incidents": group.called_for_incidents,
    }
    if not openness.open:
        view["closed_reason"] = openness.reason
    if group.maximum_age is not None:
        view["maximum_age"] = group.maximum_age
    return view


def force_summary(force: ForceProfile, today: date) -> dict[str, Any]:
    return {
        "id": force.id,
        "name": force.name,
        "area_name": force.area_name,
        "groups": [group_view(force, g, today) for g in force.groups],
        "links": {"self": f"/forces/{force.id}", "applications": f"/forces/{force.id}/applications"},
    }


def force_detail(force: ForceProfile, today: date) -> dict[str, Any]:
    return {
        **force_summary(force, today),
        "eligibility": {
            "minimum_age": force.eligibility.minimum_age,
            "area_connection": sorted(force.eligibility.area_connection),
            "independence_exclusions": list(force.eligibility.independence_exclusions),
            "convictions_bar": force.eligibility.convictions_bar,
            "summary": eligibility_in_plain_english(force),
        },
        "contacts": {role: _contact(force.contacts[role]) for role in ("recruitment", "accessible_formats")},
        "application_pack": {
            "on_request": force.application_pack_on_request,
            "accessible_formats": list(force.accessible_formats),
            "documents": [{"title": d.title, "path": f"/forces/{force.id}/application-pack/documents/{d.file}"}
                          for d in force.pack_documents],
        },
        "campaigns": [
            {"id": c.id, "name": c.name, "opens": c.opens.isoformat(),
             "closes": c.closes.isoformat() if c.closes else None, "open": c.is_open_on(today)}
            for c in force.campaigns
        ],
    }


def _contact(contact: Contact) -> dict[str, Any]:
    return {k: v for k, v in (("name", contact.name), ("email", contact.email), ("phone", contact.phone)) if v}
