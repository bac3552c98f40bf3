"""The emails of joining and appeals, rendered from templates (email/joining.*, appeal_request.*, new_member.*)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Optional
from zoneinfo import ZoneInfo

from chalicelib.domain.application import Application
from chalicelib.domain.forces import ForceProfile
from chalicelib.domain.role_titles import role_words
from chalicelib.services.notifications import SCREENING_WORDS
from chalicelib.services.ports import EmailMessage

LONDON = ZoneInfo("Europe/London")

SUBJECTS = {
    "offer": "Your offer of membership", "onboarding": "Welcome: your documents and agreement to sign",
    "welcome": "You are now a member", "appeal_upheld": "Your appeal has been upheld",
    "appeal_dismissed": "The decision on your appeal", "lapsed": "Your offer of membership has lapsed",
    "residency": "Please show us where you live",
}


def when(moment: datetime) -> str:
    """'Tuesday 12 January 2027, 6:30pm' in London time."""
    moment = moment.astimezone(LONDON)
    hour = moment.strftime("%I").lstrip("0")
    minutes = "" if moment.minute == 0 else moment.strftime(":%M")
    return f"{moment.strftime('%A')} {moment.day} {moment.strftime('%B %Y')}, {hour}{minutes}{moment.strftime('%p').lower()}"


def day_at(moment: datetime) -> str:
    """'Tuesday 12 January 2027 at 18:30' in London time: meeting slots, deadlines, call-out windows."""
    moment = moment.astimezone(LONDON)
    return f"{moment:%A} {moment.day} {moment:%B %Y} at {moment:%H:%M}"


class JoiningMail:
    def __init__(self, render: Callable[..., str], status_url: Callable[[Application], str],
                 member_links: Optional[Callable[[str, str, str], dict[str, str]]] = None):
        self._render = render
        self.render = render  # for the coordinator's notices (services/role_notices.py)
        self._status_url = status_url  # (application) -> url of its status page
        self._member_links = member_links  # (force, group, member) -> the new member's step-down and details links

    def _applicant(self, force: ForceProfile, application: Application, kind: str, reminder: bool = False,
                   **context: Any) -> EmailMessage:
        group = force.require_group(application.group_id)
        context = {"force": force, "group": group, "application": application, "applicant": application.applicant,
                   "kind": kind, "reminder": reminder, "contact": force.contacts["recruitment"],
                   "onboarding": force.onboarding, "when": when, "status_url": self._status_url(application),
                   **context}
        return EmailMessage(
            to=application.applicant["email"],
            subject=f"{'Reminder: ' if reminder else ''}{SUBJECTS[kind]}: {application.reference}",
            text=self._render("email/joining.txt", **context), html=self._render("email/joining.html", **context),
            reply_to=force.contacts["recruitment"].email, force_id=force.id)

    def offer(self, force: ForceProfile, application: Application, url: str, reminder: bool = False) -> EmailMessage:
        return self._applicant(force, application, "offer", reminder, url=url)

    # Documents, meetings, agreement and member go to the template only.
    def residency(self, force: ForceProfile, application: Application, url: str,
                  reminder: bool = False) -> EmailMessage:
        return self._applicant(force, application, "residency", reminder, url=url)

    def onboarding(self, force: ForceProfile, application: Application, url: str, documents: object, meetings: object,
                   reminder: bool = False) -> EmailMessage:
        return self._applicant(force, application, "onboarding", reminder, url=url, documents=documents,
                               meetings=meetings)

    def welcome(self, force: ForceProfile, application: Application, meetings: object, agreement: object,
                member: object) -> EmailMessage:
        links = (self._member_links(application.force_id, application.group_id, application.reference)
                 if self._member_links else None)
        return self._applicant(force, application, "welcome", meetings=meetings, agreement=agreement, member=member,
                               member_links=links)

    def appeal_decided(self, force: ForceProfile, application: Application, upheld: bool,
                       detail: dict[str, Any]) -> EmailMessage:
        group = force.require_group(application.group_id)
        return self._applicant(force, application, "appeal_upheld" if upheld else "appeal_dismissed",
                               detail=detail, screening=SCREENING_WORDS.get(group.screening))

    def lapsed(self, force: ForceProfile, application: Application, detail: dict[str, Any]) -> EmailMessage:
        return self._applicant(force, application, "lapsed", detail=detail)

    def rejected(self, force: ForceProfile, application: Application, detail: dict[str, Any],
                 appeal_url: Optional[str]) -> EmailMessage:
        group = force.require_group(application.group_id)
        context = {"force": force, "group": group, "application": application, "applicant": application.applicant,
                   "outcome": "rejected", "detail": detail, "contact": force.contacts["recruitment"],
                   "appeal_panel": [role_words(r) for r in force.appeal.panel], "appeal_days": force.appeal.window_days,
                   "appeal_url": appeal_url, "screening": None, "previous_group": None,
                   "status_url": self._status_url(application)}
        return EmailMessage(
            to=application.applicant["email"], subject=f"The decision on your application: {application.reference}",
            text=self._render("email/outcome.txt", **context), html=self._render("email/outcome.html", **context),
            reply_to=force.contacts["recruitment"].email, force_id=force.id)

    def appeal_request(self, force: ForceProfile, application: Application, role: str, person: tuple[str, str],
                       url: str, grounds: str, reminder: bool = False) -> EmailMessage:
        name, email = person
        group = force.require_group(application.group_id)
        context = {"force": force, "group": group, "application": application, "name": name,
                   "role": role_words(role), "url": url, "grounds": grounds, "valid_days": force.review.link_valid_days}
        return EmailMessage(
            to=email, subject=f"{'Reminder: ' if reminder else ''}Appeal against a refusal: application "
                              f"{application.reference} to the {group.name}",
            text=self._render("email/appeal_request.txt", **context),
            html=self._render("email/appeal_request.html", **context), force_id=force.id)

    def overdue(self, force: ForceProfile, application: Application, waiting_for: list[str], days: int) -> EmailMessage:
        """To the IAG coordinator: someone has not acted for `days` days despite a reminder."""
        coordinator = force.contacts["iag_coordinator"]
        context = {"force": force, "group": force.group(application.group_id), "application": application,
                   "contact": coordinator, "missing": waiting_for, "days": days}
        return EmailMessage(
            to=coordinator.address(), subject=f"Overdue: application {application.reference} is waiting for "
                                          f"{' and '.join(waiting_for)}",
            text=self._render("email/escalation.txt", **context), html=self._render("email/escalation.html", **context),
            force_id=force.id)

    def new_member(self, force: ForceProfile, application: Application, to: str, name: str) -> EmailMessage:
        group = force.require_group(application.group_id)
        context = {"force": force, "group": group, "application": application, "name": name,
                   "member": application.applicant}
        return EmailMessage(
            to=to, subject=f"New member of the {group.name}: {application.applicant['given_name']} "
                           f"{application.applicant['family_name']}",
            text=self._render("email/new_member.txt", **context), html=self._render("email/new_member.html", **context),
            force_id=force.id)
