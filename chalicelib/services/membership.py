"""A member's life after joining: stepping down through a link, suspension or removal by a force administrator,
the end of a term (reminded, renewed or not: never a silent expiry), screening renewed before it expires (and a
pause from call-outs when it has), and the member's own details and data request through a link.

Every change is one conditional write with its audit event (and the link that made it, spent); the people it
concerns are told through the one outbox, each email keyed by the change, so the daily pass that re-tells recent
changes sends only what a failed send left owed.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Callable, Optional, Protocol
from zoneinfo import ZoneInfo

from chalicelib.domain.forces import ForceProfile, Group
from chalicelib.domain.links import Link, LinkProblem, Purpose, new_token, problem_with, token_hash
from chalicelib.domain.membership import (
    Change, Member, MemberChangeRefused, MemberEvent, Role, Status, changed, details_updated, paused,
    renewal_asked, renewal_decided, screening_renewed, screening_step, term_step,
)
from chalicelib.domain.screening import LEVELS, add_months
from chalicelib.services.outbox import About, EmailKey, Postbox
from chalicelib.services.ports import Attachment, Clock, EmailMessage, ForceCatalogue, LinkConflict, RandomSource
from chalicelib.services.refusals import LinkRefused

log = logging.getLogger(__name__)

LONDON = ZoneInfo("Europe/London")
RETELL_DAYS = 7  # the daily pass tells again (once, by key) what changed this recently
STATUS_WORDS = {Status.ACTIVE: "active", Status.SUSPENDED: "suspended", Status.STEPPED_DOWN: "stepped down",
                Status.REMOVED: "removed", Status.TERM_ENDED: "ended at the end of the term"}
MEMBER_PURPOSES = (Purpose.STEP_DOWN, Purpose.MEMBER_DETAILS, Purpose.RENEWAL)


class MemberNotFound(LookupError):
    pass


class MemberStore(Protocol):
    """Members and their changes (DynamoMemberStore)."""

    def members(self, force_id: str, group_id: str) -> list[Member]: ...

    def member(self, force_id: str, member_id: str, group_id: str) -> Optional[Member]: ...

    def save_change(self, before: Member, after: Member, event: MemberEvent, link: Optional[Link] = None) -> None:
        """MemberConflict if the member changed since `before`; LinkConflict if the link was spent."""

    def member_events(self, force_id: str, member_id: str) -> list[MemberEvent]: ...

    def spend(self, link: Link, at: datetime) -> None: ...


class Links(Protocol):
    def add_links(self, links: list[Link]) -> None: ...

    def link(self, token_hash: str) -> Optional[Link]: ...


class DataRequests(Protocol):
    """The data-protection service's subject access (services/data_protection.py)."""

    def subject_access(self, force_id: str, email: Optional[str] = None,
                       reference: Optional[str] = None) -> dict[str, Any]: ...

    def subject_access_html(self, export: dict[str, Any]) -> str: ...


@dataclass(frozen=True)
class MembershipParts:
    forces: ForceCatalogue
    store: MemberStore
    links: Links
    postbox: Postbox  # every email goes through its send_once
    render: Callable[..., str]
    clock: Clock
    random_bytes: RandomSource
    base_url: str
    data_requests: DataRequests


class MembershipService:
    def __init__(self, parts: MembershipParts):
        self._p = parts

    # --- the links every member email carries ---

    def member_links(self, member: Member) -> dict[str, str]:
        """Fresh single-use links to step down and to see one's details (for the footer of any member email)."""
        return self.links_for(member.force_id, member.group_id, member.member_id)

    def links_for(self, force_id: str, group_id: str, member_id: str) -> dict[str, str]:
        """The same, for a sender that knows only who the member is (call-outs, elections)."""
        force = self._p.forces.require(force_id)
        return {"step_down": self._link(force, force_id, group_id, member_id, Purpose.STEP_DOWN, "step-down"),
                "details": self._link(force, force_id, group_id, member_id, Purpose.MEMBER_DETAILS, "my-details")}

    # --- a member, through a link ---

    def open(self, token: str, purpose: Purpose) -> tuple[Link, Member, ForceProfile]:
        link = self._p.links.link(token_hash(token))
        if link is None or link.purpose is not purpose:
            raise LinkRefused(LinkProblem.UNKNOWN)
        problem = problem_with(link, now=self._now(), current_version=None)
        if problem:
            raise LinkRefused(problem)
        member = self._p.store.member(link.force_id, link.reference, link.role)
        if member is None:
            raise LinkRefused(LinkProblem.UNKNOWN)
        return link, member, self._p.forces.require(link.force_id)

    def step_down(self, token: str, reason: str) -> Member:
        link, member, force = self.open(token, Purpose.STEP_DOWN)
        after = self._save(member, changed(member, Change.STEP_DOWN, reason, self._today()), "member", link)
        self.tell_change(after)
        return after

    def ask_to_continue(self, token: str) -> Member:
        link, member, force = self.open(token, Purpose.RENEWAL)
        after = self._save(member, renewal_asked(member, self._today()), "member", link, what="renewal_asked")
        coordinator = force.contacts["iag_coordinator"]
        self._send(after, f"renewal-asked-{after.term_ends_on}", lambda: self._message(
            force, coordinator.address(), f"{after.name} asks to continue on the {_group(force, after).name}",
            f"{after.name} (member {after.member_id}) asks to continue for another term. Their term ends on "
            f"{_long(after.term_ends_on)}.",
            "Agree or decline through the console or the admin API. If nobody agrees by then, their membership "
            "ends on that date and they are told.", name=coordinator.name))
        return after

    def update_details(self, token: str, fields: dict[str, Any]) -> Member:
        link, member, force = self.open(token, Purpose.MEMBER_DETAILS)
        after = details_updated(member, fields, _optional_series(force, member))
        return self._save(member, after, "member", link, what="details_updated")

    def request_data(self, token: str) -> None:
        """The member's data, from the data-protection service's subject access, to the address on record
        (the one the link was sent to); the coordinator is told it was asked for and sent."""
        link, member, force = self.open(token, Purpose.MEMBER_DETAILS)
        try:
            self._p.store.spend(link, self._now())
        except LinkConflict:
            raise LinkRefused(LinkProblem.USED) from None
        export = self._p.data_requests.subject_access(force.id, email=member.email)
        export["membership"] = {"member_id": member.member_id, "group": member.group_id, "role": member.role.value,
                                "name": member.name, "email": member.email, "phone": member.phone,
                                "joined_on": member.joined_on.isoformat(),
                                "term_ends_on": member.term_ends_on.isoformat(), "status": member.standing.value,
                                "contact_preferences": member.contact_preferences, "screening": member.screening,
                                "events": [{"what": e.what, "at": e.at.isoformat(), "by": e.by, "reason": e.reason}
                                           for e in self._p.store.member_events(force.id, member.member_id)]}
        html = self._p.data_requests.subject_access_html(export).encode()
        key = f"data-request-{token_hash(token)[:16]}"
        self._send(member, key, lambda: replace(self._message(
            force, member.email, "The data we hold about you",
            "You asked for the data we hold about you. It is attached as a web page you can open in a browser.",
            "If anything is wrong, update your details through the link in any of our emails, or reply to the "
            "IAG coordinator.", name=member.name), attachments=(Attachment("my-data.html", "text/html", html),)))
        coordinator = force.contacts["iag_coordinator"]
        self._send(member, key + "-coordinator", lambda: self._message(
            force, coordinator.address(), f"Data request answered: member {member.member_id}",
            f"Member {member.member_id} of the {_group(force, member).name} asked for their data through their "
            f"link on {_long(self._today())}. The export was emailed to the address on record.", name=coordinator.name))

    # --- operators (the admin route checks the operator's role first) ---

    def change(self, force_id: str, group_id: str, member_id: str, change: Change, reason: str, by: str) -> Member:
        member = self._member(force_id, group_id, member_id)
        after = self._save(member, changed(member, change, reason, self._today()), by)
        self.tell_change(after)
        return after

    def decide_renewal(self, force_id: str, group_id: str, member_id: str, agreed: bool, reason: str,
                       by: str) -> Member:
        member = self._member(force_id, group_id, member_id)
        force = self._p.forces.require(force_id)
        decision = "agreed" if agreed else "declined"
        after = self._save(member, renewal_decided(member, agreed, self._today(), force.onboarding.term_years, by,
                                                   reason), by, what="renewal_" + decision)
        if agreed:
            text = f"You will continue on the {_group(force, after).name} until {_long(after.term_ends_on)}."
        else:
            text = (f"The IAG coordinator has not agreed another term. Your membership ends on "
                    f"{_long(after.term_ends_on)}.{' ' + reason.strip() if reason.strip() else ''}")
        # keyed by the decision and the term it was asked in (the renewal record's decision and term_was)
        self._send(after, f"renewal-{decision}-{member.term_ends_on.isoformat()}", lambda: self._to_member(
            force, after, "Your request to continue", text, "Thank you for your work with the group."))
        return after

    def record_screening(self, force_id: str, group_id: str, member_id: str, outcome: str, level: str,
                         completed_on: date, by: str) -> Member:
        member = self._member(force_id, group_id, member_id)
        force = self._p.forces.require(force_id)
        if outcome not in ("clear", "refer", "not_completed") or level not in LEVELS[1:]:
            raise MemberChangeRefused(f"outcome is clear, refer or not_completed; level is {' or '.join(LEVELS[1:])}")
        if completed_on > self._today():
            raise MemberChangeRefused("the check cannot be completed in the future")
        expires = add_months(completed_on, force.screening_valid_for_months)
        return self._save(member, screening_renewed(member, level, outcome, completed_on, expires), by,
                          what="screening_recorded")

    def member_record(self, force_id: str, group_id: str, member_id: str) -> dict[str, Any]:
        member = self._member(force_id, group_id, member_id)
        return {**shown(member), "events": [
            {"what": e.what, "at": e.at.isoformat(), "by": e.by, "reason": e.reason}
            for e in self._p.store.member_events(force_id, member_id) if e.group_id == group_id]}

    # --- the daily pass ---

    def daily(self, force_id: str) -> dict[str, int]:
        """Terms and screening of every member of every group, and re-telling recent changes still owed."""
        counts = {"reminded": 0, "ended": 0, "rescreening_asked": 0, "paused": 0, "retold": 0}
        force = self._p.forces.require(force_id)
        today = self._today()
        for group in force.groups:
            for member in self._p.store.members(force_id, group.id):
                try:
                    self._daily_member(force, group, member, today, counts)
                except Exception:
                    log.exception("member %s/%s: the daily pass failed", force_id, member.member_id)
        return counts

    def _daily_member(self, force: ForceProfile, group: Group, member: Member, today: date,
                      counts: dict[str, int]) -> None:
        step = term_step(member, today, force.membership.term_reminder_days)
        if step == "end":
            reason = f"The term ended on {_long(member.term_ends_on)} and was not renewed."
            member = self._save(member, changed(member, Change.END_TERM, reason, today), "system")
            counts["ended"] += 1
        elif step == "remind" and not _renewal_open_or_declined(member):
            counts["reminded"] += self._send(member, f"term-reminder-{member.term_ends_on}", lambda: self._to_member(
                force, member, "Your term is ending",
                f"Your term on the {group.name} ends on {_long(member.term_ends_on)}.",
                "If you would like to continue for another term, say so here; the IAG coordinator decides. If "
                "nothing is agreed by then, your membership ends on that date.",
                action=("Ask to continue", self._link(force, member.force_id, member.group_id, member.member_id,
                                                      Purpose.RENEWAL, "continue"))))
        screening = screening_step(member, group.screening, today, force.membership.rescreening_lead_days)
        expires = (member.screening or {}).get("expires_on", "")
        if screening == "renew":
            vetting = force.contacts.get("vetting_unit") or force.contacts["iag_coordinator"]
            counts["rescreening_asked"] += self._send(member, f"rescreen-ask-{expires}", lambda: self._message(
                force, vetting.address(), f"Please renew the screening of member {member.member_id}",
                f"The {group.screening} screening of "
                f"{member.name} ({member.member_id}), a member of the {group.name}, expires on "
                f"{_long(date.fromisoformat(expires))}.",
                "Please renew it before then and record the outcome (outcome, level and date only) with the IAG "
                "coordinator.", name=vetting.name))
            self._send(member, f"rescreen-told-{expires}", lambda: self._to_member(
                force, member, "Your screening check is being renewed",
                f"Your screening check for the {group.name} expires on {_long(date.fromisoformat(expires))}. "
                "We have asked the vetting unit to renew it.",
                "They may contact you. Nothing else changes meanwhile."))
        elif screening == "expired" and not member.callouts_paused:
            why = f"Your screening check expired on {_long(date.fromisoformat(expires))}."
            member = self._save(member, paused(member, why), "system", what="callouts_paused")
            counts["paused"] += 1
            self._send(member, f"screening-expired-{expires}", lambda: self._to_member(
                force, member, "You are paused from call-outs", why,
                f"The {group.name} requires a current check, so you will not be asked to help with critical "
                "incidents until it is renewed. You are still invited to meetings. The vetting unit has been asked; "
                "contact the IAG coordinator if you have questions."))
        if member.status_on and (today - member.status_on).days <= RETELL_DAYS and member.standing is not Status.ACTIVE:
            counts["retold"] += self.tell_change(member)

    # --- telling ---

    def tell_change(self, member: Member) -> int:
        """The member, the group's chair and the coordinator, each once per change."""
        force = self._p.forces.require(member.force_id)
        group = _group(force, member)
        words = STATUS_WORDS[member.standing]
        reason = member.status_reason
        base = f"{member.standing.value}-{member.group_id}-{member.changes}"
        own = {Status.STEPPED_DOWN: ("You have stepped down", f"You have stepped down from the {group.name}. "
                                     "Thank you for your work with the group."),
               Status.SUSPENDED: ("Your membership is suspended",
                                  f"Your membership of the {group.name} is suspended. Reason: {reason}"),
               Status.REMOVED: ("Your membership has ended",
                                f"A force administrator has removed you from the {group.name}. Reason: {reason}"),
               Status.TERM_ENDED: ("Your membership has ended", f"Your membership of the {group.name} has ended. "
                                   f"{reason}"),
               Status.ACTIVE: ("Your membership is active again",
                               f"Your membership of the {group.name} is active again.")}[member.standing]
        sent = self._send(member, f"{base}-member", lambda: self._message(
            force, member.email, own[0], own[1], "You will no longer receive meeting invitations or call-outs."
            if member.standing is not Status.ACTIVE else "You will receive meeting invitations and call-outs again.",
            name=member.name))
        about = f"{member.name} ({member.member_id}): membership of the {group.name} {words}"
        detail = f"Reason given: {reason}" if reason else "No reason was given."
        for chair in self._chairs(member):
            sent += self._send(member, f"{base}-chair-{chair.member_id}", partial(
                self._message, force, chair.email, about, f"{about} on {_long(member.status_on or self._today())}.",
                detail, name=chair.name))
        coordinator = force.contacts["iag_coordinator"]
        sent += self._send(member, f"{base}-coordinator", lambda: self._message(
            force, coordinator.address(), about, f"{about} on {_long(member.status_on or self._today())}.", detail,
            name=coordinator.name))
        return sent

    # --- helpers ---

    def _chairs(self, member: Member) -> list[Member]:
        return [m for m in self._p.store.members(member.force_id, member.group_id)
                if m.role in (Role.CHAIR,) and m.standing is Status.ACTIVE and m.member_id != member.member_id]

    def _member(self, force_id: str, group_id: str, member_id: str) -> Member:
        force = self._p.forces.get(force_id)
        member = self._p.store.member(force_id, member_id, group_id) if force and force.group(group_id) else None
        if member is None:
            raise MemberNotFound(f"no member {member_id!r} in group {group_id!r} of {force_id!r}")
        return member

    def _save(self, before: Member, after: Member, by: str, link: Optional[Link] = None, what: str = "") -> Member:
        event = MemberEvent(after.member_id, after.group_id, what or after.standing.value, self._now(), by,
                            after.status_reason if not what else "")
        try:
            self._p.store.save_change(before, after, event, link)
        except LinkConflict:
            raise LinkRefused(LinkProblem.USED) from None
        log.info("member %s/%s: %s by %s", after.force_id, after.member_id, event.what, by)
        return after

    def _link(self, force: ForceProfile, force_id: str, group_id: str, member_id: str, purpose: Purpose,
              path: str) -> str:
        token = new_token(self._p.random_bytes(32))
        expires = self._now() + timedelta(days=force.membership.link_valid_days)
        self._p.links.add_links([Link(token_hash(token), purpose, force_id, member_id, group_id, None, expires)])
        return f"{self._p.base_url}/{path}/{token}"

    def _send(self, member: Member, kind: str, build: Callable[[], EmailMessage]) -> int:
        try:
            return int(self._p.postbox.email(EmailKey(About("member", member.force_id, member.member_id), kind), build))
        except Exception:  # noqa: BLE001 (send_once logged it and released the claim; the daily pass retries)
            return 0

    def _to_member(self, force: ForceProfile, member: Member, subject: str, *paragraphs: str,
                   action: Optional[tuple[str, str]] = None) -> EmailMessage:
        return self._message(force, member.email, subject, *paragraphs, name=member.name, action=action,
                             member_links=self.member_links(member))

    def _message(self, force: ForceProfile, to: str, subject: str, *paragraphs: str, name: str,
                 action: Optional[tuple[str, str]] = None,
                 member_links: Optional[dict[str, str]] = None) -> EmailMessage:
        return member_email(self._p.render, force, to, name, subject, *paragraphs, action=action,
                            member_links=member_links)

    def _today(self) -> date:
        return self._now().astimezone(LONDON).date()

    def _now(self) -> datetime:
        return self._p.clock.now()


def _renewal_open_or_declined(member: Member) -> bool:
    """This term's renewal was asked and awaits a decision, or was declined: no reminder. An agreed renewal
    belongs to the term before, so the new term is reminded in its turn."""
    return bool(member.renewal and member.renewal.get("decision") in (None, "declined"))


def _group(force: ForceProfile, member: Member) -> Group:
    return force.require_group(member.group_id)


def _optional_series(force: ForceProfile, member: Member) -> tuple[str, ...]:
    group = force.group(member.group_id)
    return tuple(s.name for s in group.meetings if s.optional) if group else ()


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def shown(member: Member) -> dict[str, Any]:
    """A member as the admin API shows them."""
    return {"member_id": member.member_id, "group": member.group_id, "role": member.role.value, "name": member.name,
            "email": member.email, "phone": member.phone, "joined_on": member.joined_on.isoformat(),
            "term_ends_on": member.term_ends_on.isoformat(), "status": member.standing.value,
            "status_reason": member.status_reason, "status_on": member.status_on.isoformat() if member.status_on else None,
            "renewal": member.renewal, "callouts_paused": member.callouts_paused, "screening": member.screening,
            "optional_series": list(member.optional_series), "contact_preferences": member.contact_preferences}


def member_email(render: Callable[..., str], force: ForceProfile, to: str, name: str, subject: str, *paragraphs: str,
                 action: Optional[tuple[str, str]] = None,
                 member_links: Optional[dict[str, str]] = None) -> EmailMessage:
    """An email to a member or an officer about membership or meeting business: paragraphs, an optional button
    (label, url), and the member's own step-down and details links."""
    context = {"force": force, "name": name, "paragraphs": paragraphs, "action": action,
               "member_links": member_links}
    return EmailMessage(to=to, subject=subject, text=render("email/membership.txt", **context),
                        html=render("email/membership.html", **context), force_id=force.id)
