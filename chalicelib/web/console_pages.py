"""The console's dashboard, applications, people, reports and data requests (web/console.py is the frame).

Every read and change here is a call the admin API makes too (services/admin.py, roles.py, membership.py,
member_import.py): the same role, force and group checks, the same audit.
"""
from __future__ import annotations

from typing import Optional

from chalicelib import bootstrap
from chalicelib.domain.lifecycle import Stage
from chalicelib.domain.operators import Permission
from chalicelib.domain.role_titles import actor_words, role_title
from chalicelib.domain.roles import APPEAL, APPEAL_PANEL, FORCE, REVIEW_PANEL
from chalicelib.services.refusals import InvalidRequest, NotFound
from chalicelib.web.console import (
    NOTICES, PREFIX, SignedIn, confirmed, console_action, console_page, force_of, query_params,
)
from chalicelib.web.operator_pages import HOME

NOTICES.update({
    "retried": "The application's run was started again.",
    "resent": "Fresh links were sent to whoever the application waits for.",
    "cancelled": "The application's run was stopped. It keeps its stage; Retry starts it again.",
    "role-set": "The role has a new holder. Their fresh links are on their way.",
    "member-changed": "The member's standing was changed and they were told.",
    "member-saved": "The member's details were saved.",
    "imported": "The import was applied.",
    "subject-access": "The request was started: the person is sent their data by a single-use link.",
})
STAGE_WORDS = {s.value: s.value.replace("_", " ").capitalize() for s in Stage}
CHANGE_WORDS = {
    "suspend": ("Suspend", "They stop receiving meeting invitations, call-outs and ballots until reinstated."),
    "reinstate": ("Reinstate", "They receive invitations, call-outs and ballots again."),
    "remove": ("Remove", "They leave the group for good: their links stop working and they are no longer invited."),
}
MEMBER_FIELDS = ("name", "email", "phone", "role", "joined_on", "term_ends_on", "screening_outcome", "screening_level",
                 "screening_date", "screening_expires")


def _container():
    return bootstrap.container()


# --- home: the operator's own force ---

@console_page(PREFIX, section="dashboard")
def console_home(you: SignedIn):
    """A force's operator goes to their force; the platform's chooses one on the home page."""
    return you.done(f"{PREFIX}/{you.operator.force_id}" if you.operator.force_id else HOME)


# --- dashboard ---

@console_page(PREFIX + "/{force_id}", section="dashboard")
def dashboard(you: SignedIn, force_id: str):
    force = force_of(force_id)
    board = _container().console.dashboard(you.operator, force_id)
    return you.page("operators/console_dashboard.html", section="dashboard", force=force, board=board,
                    stage_words=STAGE_WORDS, group_names={g.id: g.name for g in force.groups},
                    today=_container().clock.now())


# --- applications ---

@console_page(PREFIX + "/{force_id}/applications", section="applications")
def applications(you: SignedIn, force_id: str):
    force = force_of(force_id)
    groups = _container().console.visible_groups(you.operator, force_id)
    query = query_params()
    group_id = query.get("group") or groups[0]
    stage = query.get("stage") or Stage.AWAITING_REVIEW.value
    listed = _container().admin.applications(you.operator, force_id, group_id, stage, limit=25,
                                             next_token=query.get("next"))
    return you.page("operators/console_applications.html", section="applications", force=force, listed=listed,
                    groups=[g for g in force.groups if g.id in groups], group_id=group_id, stage=stage,
                    stage_words=STAGE_WORDS)


@console_page(PREFIX + "/{force_id}/applications/{reference}", section="applications")
def application(you: SignedIn, force_id: str, reference: str):
    force = force_of(force_id)
    found = _container().admin.application(you.operator, force_id, reference)
    runs = [r for r in found["runs"] if "error" not in r]
    group = force.group(found["group"])
    return you.page("operators/console_application.html", section="applications", force=force, app=found,
                    group_name=group.name if group else found["group"],
                    run=runs[0] if runs else None, run_error=next((r["error"] for r in found["runs"] if "error" in r),
                                                                  None),
                    stage_words=STAGE_WORDS, may_act=you.operator.may_in_force(Permission.RETRY, force_id),
                    may_resend=you.operator.may_in_force(Permission.RESEND, force_id), actor_words=actor_words,
                    what_words=timeline_what)


def timeline_what(what: str) -> str:
    """A timeline entry's "what": a move ("pass_eligibility") or an operator's read or change from the access log
    ("operator view", "operator console:resend_application"), as words."""
    action = what.removeprefix("operator ").removeprefix("console:")
    return {"view": "viewed"}.get(action, action.replace("_", " "))


def _back_to(force_id: str, reference: str) -> str:
    return f"{PREFIX}/{force_id}/applications/{reference}"


@console_action(PREFIX + "/{force_id}/applications/{reference}/retry", section="applications")
def retry_application(you: SignedIn, form: dict, force_id: str, reference: str):
    _container().admin.retry(you.operator, force_id, reference)
    return you.done(_back_to(force_id, reference), "retried")


@console_action(PREFIX + "/{force_id}/applications/{reference}/resend", section="applications")
def resend_application(you: SignedIn, form: dict, force_id: str, reference: str):
    _container().admin.resend(you.operator, force_id, reference)
    return you.done(_back_to(force_id, reference), "resent")


@console_action(PREFIX + "/{force_id}/applications/{reference}/cancel", section="applications")
def cancel_application(you: SignedIn, form: dict, force_id: str, reference: str):
    force = force_of(force_id)
    if not confirmed(form):
        _authorise_on(you, Permission.RETRY, force_id, reference)  # a refused operator is not asked to confirm
        return you.confirm(force, action=f"{_back_to(force_id, reference)}/cancel", section="applications",
                           heading=f"Stop the run of {reference}?", button="Stop the run",
                           back=_back_to(force_id, reference),
                           consequences=["Its Prefect run is cancelled: no reminder or email of it is sent meanwhile.",
                                         "The application keeps its stage and everything recorded about it.",
                                         "Retry starts a new run whenever you want it to move again."])
    _container().admin.cancel(you.operator, force_id, reference)
    return you.done(_back_to(force_id, reference), "cancelled")


def _authorise_on(you: SignedIn, permission: Permission, force_id: str, reference: str) -> None:
    """As the admin service asks: refused before the lookup when the role has no such right in the force."""
    if not you.operator.may_in_force(permission, force_id):
        you.operator.authorise(permission, force_id)
    found = _container().repository.get(force_id, reference)
    if found is None:
        raise NotFound(f"{force_id} has no application {reference}")
    you.operator.authorise(permission, force_id, found.group_id)


# --- people: members, panels and officers ---

@console_page(PREFIX + "/{force_id}/people", section="people")
def people(you: SignedIn, force_id: str):
    force = force_of(force_id)
    groups = _container().console.visible_groups(you.operator, force_id, Permission.VIEW)
    query = query_params()
    group_id = query.get("group") or groups[0]
    members = _container().console.members(you.operator, force_id, group_id)
    roles = [r for r in _container().roles.list(you.operator, force_id)["roles"]
             if r["scope"] in (group_id, APPEAL, FORCE)]
    return you.page("operators/console_people.html", section="people", force=force, group_id=group_id,
                    groups=[g for g in force.groups if g.id in groups], members=members, roles=roles,
                    may_change=you.operator.may(Permission.MEMBERSHIP, force_id, group_id),
                    may_edit=you.operator.may(Permission.OPERATE, force_id, group_id),
                    may_set=lambda scope: you.operator.may(Permission.REVIEWERS, force_id,
                                                           None if scope in (APPEAL, FORCE) else scope))


@console_action(PREFIX + "/{force_id}/people/import", section="people")
def import_members(you: SignedIn, form: dict, force_id: str):
    """Always a dry run first: its report is shown, and only its page offers to apply the same file."""
    force = force_of(force_id)
    text = form.get("csv", "")
    if not text.strip():
        raise InvalidRequest("choose the CSV file to import (or paste its text)")
    apply = confirmed(form)
    report = _container().member_import.run(you.operator, force_id, text, dry_run=not apply)
    if apply and report["applied"]:
        return you.done(f"{PREFIX}/{force_id}/people", "imported")
    return you.page("operators/console_import.html", section="people", force=force, report=report, csv=text,
                    group_names={g.id: g.name for g in force.groups}, status=422 if report["problems"] else 200)


@console_page(PREFIX + "/{force_id}/people/{group_id}/member", section="people")
def member_form(you: SignedIn, force_id: str, group_id: str):
    """Add a member (no `id`), or edit one: saved through the import, so the same checks and audit apply."""
    from chalicelib.domain.membership import Role

    force = force_of(force_id)
    group = force.group(group_id)
    if group is None:
        raise NotFound(f"{force_id} has no group '{group_id}'")
    you.operator.authorise(Permission.OPERATE, force_id, group_id)
    member_id = query_params().get("id")
    member = None
    if member_id:
        member = next((m for m in _container().console.members(you.operator, force_id, group_id)
                       if m.member_id == member_id), None)
        if member is None:
            raise NotFound("no such member")
    return you.page("operators/console_member.html", section="people", force=force, group=group, member=member,
                    roles=[r.value for r in Role], values=_member_values(member), errors=[])


@console_action(PREFIX + "/{force_id}/people/{group_id}/member", section="people")
def save_member(you: SignedIn, form: dict, force_id: str, group_id: str):
    from chalicelib.domain.membership import Role

    force = force_of(force_id)
    group = force.group(group_id)
    if group is None:
        raise NotFound(f"{force_id} has no group '{group_id}'")
    values = {k: (form.get(k) or "").strip() for k in MEMBER_FIELDS}
    values["email"] = values["email"].lower()
    row = {**values, "group": group_id}
    header = [k for k in row if row[k]]
    csv_text = ",".join(header) + "\n" + ",".join(_cell(row[k]) for k in header) + "\n"
    report = _container().member_import.run(you.operator, force_id, csv_text, dry_run=False)
    if report["problems"]:
        return you.page("operators/console_member.html", section="people", force=force, group=group,
                        member=None, roles=[r.value for r in Role], values=values, status=400,
                        errors=[f"{p['column'] or 'the row'}: {p['message']}" for p in report["problems"]])
    return you.done(f"{PREFIX}/{force_id}/people?group={group_id}", "member-saved")


def _cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


def _member_values(member) -> dict[str, str]:
    if member is None:
        return {k: "" for k in MEMBER_FIELDS}
    screening = member.screening or {}
    return {"name": member.name, "email": member.email, "phone": member.phone, "role": member.role.value,
            "joined_on": member.joined_on.isoformat(), "term_ends_on": member.term_ends_on.isoformat(),
            "screening_outcome": screening.get("outcome", ""), "screening_level": screening.get("level", ""),
            "screening_date": screening.get("completed_on", ""), "screening_expires": screening.get("expires_on", "")}


@console_action(PREFIX + "/{force_id}/people/{group_id}/members/{member_id}/status", section="people")
def change_member(you: SignedIn, form: dict, force_id: str, group_id: str, member_id: str):
    from chalicelib.domain.membership import Change, REASON_NEEDED

    force = force_of(force_id)
    you.operator.authorise(Permission.MEMBERSHIP, force_id, group_id)  # before anything about the member is read
    change = form.get("change", "")
    if change not in CHANGE_WORDS:
        raise InvalidRequest(f"change is one of: {', '.join(CHANGE_WORDS)}")
    reason = (form.get("reason") or "").strip()
    needs_reason = Change(change) in REASON_NEEDED
    if not confirmed(form) or (needs_reason and not reason):
        name = _container().membership.member_record(force_id, group_id, member_id)["name"]
        you.record(force_id, "view_member", reference=member_id, group_id=group_id)
        verb, effect = CHANGE_WORDS[change]
        return you.confirm(force, action=f"{PREFIX}/{force_id}/people/{group_id}/members/{member_id}/status",
                           section="people", heading=f"{verb} {name}?", button=f"{verb} this member",
                           fields={"change": change}, back=f"{PREFIX}/{force_id}/people?group={group_id}",
                           consequences=[effect, "They are told by email" + (", with the reason you give."
                                                                            if needs_reason else ".")],
                           ask={"name": "reason", "label": "The reason (the member is told it)", "value": reason}
                           if needs_reason else None,
                           error="Give the reason: the member is told it" if confirmed(form) and needs_reason
                           and not reason else "")
    _container().membership.change(force_id, group_id, member_id, Change(change),
                                   reason, f"operator:{you.operator.id}")
    return you.done(f"{PREFIX}/{force_id}/people?group={group_id}", "member-changed")


@console_page(PREFIX + "/{force_id}/roles/{scope}/{role}", section="people")
def role_form(you: SignedIn, force_id: str, scope: str, role: str):
    force = force_of(force_id)
    held = _role(you, force_id, scope, role)
    return you.page("operators/console_role.html", section="people", force=force, held=held, values={"name": "", "email": ""},
                    scope_name=_scope_name(force, scope),
                    errors=[], consequences=_role_consequences(held, None))


@console_action(PREFIX + "/{force_id}/roles/{scope}/{role}", section="people")
def set_role(you: SignedIn, form: dict, force_id: str, scope: str, role: str):
    from chalicelib.services.roles import EMAIL

    force = force_of(force_id)
    you.operator.authorise(Permission.REVIEWERS, force_id, None if scope in (APPEAL, FORCE) else scope)
    held = _role(you, force_id, scope, role)
    name, email = (form.get("name") or "").strip(), (form.get("email") or "").strip()
    errors = ([] if name and len(name) <= 120 else ["Enter the holder's name (up to 120 characters)"]) + (
        [] if EMAIL.match(email) and len(email) <= 254 else ["Enter the holder's email address"])
    if errors:
        return you.page("operators/console_role.html", section="people", force=force, held=held, status=400,
                        scope_name=_scope_name(force, scope),
                        values={"name": name, "email": email}, errors=errors,
                        consequences=_role_consequences(held, None))
    if not confirmed(form):
        return you.confirm(force, action=f"{PREFIX}/{force_id}/roles/{scope}/{role}", section="people",
                           heading=f"Make {name} the {role_title(role)}?", button="Set the new holder",
                           fields={"name": name, "email": email}, back=f"{PREFIX}/{force_id}/roles/{scope}/{role}",
                           consequences=_role_consequences(held, name))
    _container().roles.set(you.operator, force_id, scope, role, name, email)
    return you.done(f"{PREFIX}/{force_id}/people?group={scope if scope not in (APPEAL, FORCE) else ''}", "role-set")


def _role(you: SignedIn, force_id: str, scope: str, role: str) -> dict:
    found = next((r for r in _container().roles.list(you.operator, force_id)["roles"]
                  if r["scope"] == scope and r["role"] == role), None)
    if found is None:
        raise NotFound("no such role")
    return found


def _scope_name(force, scope: str) -> str:
    group = force.group(scope)
    return group.name if group else {APPEAL: "Appeal panel", FORCE: force.name}.get(scope, scope)


def _role_consequences(held: dict, new_name: Optional[str]) -> list[str]:
    """What changing a role does to outstanding links, said before it is done (services/roles.py)."""
    who = new_name or "The new holder"
    before = (f"The links already sent to {held['holder']['name']} for this role stop working at once."
              if held["holder"] else "Nobody holds this role now, so no earlier link is affected.")
    waiting = {REVIEW_PANEL: f"{who} is sent fresh links for every application waiting for this role's decision.",
               APPEAL_PANEL: f"{who} is sent fresh links for every appeal waiting for this role."}.get(
        held["panel"] or "", f"{who} is sent what waits for this role, if anything does.")
    return [before, waiting, "Decisions already made stay as they are."]


# --- reports and data requests ---

@console_page(PREFIX + "/{force_id}/reports", section="reports")
def reports(you: SignedIn, force_id: str):
    force = force_of(force_id)
    groups = _container().console.visible_groups(you.operator, force_id, Permission.REPORT)
    force_wide = you.operator.may(Permission.REPORT, force_id)
    by_group = [] if force_wide else [_container().admin.recruitment(you.operator, force_id, g) for g in groups]
    return you.page("operators/console_reports.html", section="reports", force=force, force_wide=force_wide,
                    by_group=by_group, group_names={g.id: g.name for g in force.groups})


def _report_pages(name: str):
    """A force-wide report, in the console's frame, at /admin/console/<force>/reports/<name> and at the address the
    operators' pages gave it first (/admin/pages/forces/<force>/<name>: bookmarks and links keep working)."""
    def register(handler):
        console_page(f"{PREFIX}/{{force_id}}/reports/{name}", section="reports")(handler)
        def at_old_address(you: SignedIn, force_id: str):
            return handler(you, force_id)
        at_old_address.__name__ = f"{handler.__name__}_at_old_address"  # each route's name its own
        console_page(f"/admin/pages/forces/{{force_id}}/{name}", section="reports")(at_old_address)
        return handler
    return register


@_report_pages("recruitment")
def recruitment_report(you: SignedIn, force_id: str):
    from chalicelib.adapters.admin_pages import recruitment_view

    force = force_of(force_id)
    answer = _container().admin.recruitment(you.operator, force_id)
    return you.page("operators/console_recruitment.html", section="reports", force=force,
                    **recruitment_view(force, answer["funnel"], answer["queues"]))


@_report_pages("equality")
def equality_report(you: SignedIn, force_id: str):
    from chalicelib.adapters.admin_pages import UnknownScope, equality_view

    force = force_of(force_id)
    query = query_params()
    try:
        report = _container().admin.equality_report(you.operator, force_id, query.get("period"))
    except NotFound:
        return you.message(404, "No such period", "Figures are published only for periods that have ended.",
                           force=force, section="reports")
    try:
        view = equality_view(force, report, query.get("group"))
    except UnknownScope:
        return you.message(404, "No such group", force=force, section="reports")
    return you.page("operators/console_equality.html", section="reports", force=force, **view)


@console_page(PREFIX + "/{force_id}/data-requests", section="data-requests")
def data_requests(you: SignedIn, force_id: str):
    force = force_of(force_id)
    requests = _container().admin.subject_access_requests(you.operator, force_id)
    return you.page("operators/console_data_requests.html", section="data-requests", force=force,
                    requests=requests, may_start=you.operator.may(Permission.SUBJECT_ACCESS, force_id))


@console_action(PREFIX + "/{force_id}/data-requests", section="data-requests")
def start_subject_access(you: SignedIn, form: dict, force_id: str):
    email, reference = (form.get("email") or "").strip(), (form.get("reference") or "").strip()
    _container().admin.request_subject_access(you.operator, force_id, email=email or None,
                                              reference=reference or None)
    return you.done(f"{PREFIX}/{force_id}/data-requests", "subject-access")
