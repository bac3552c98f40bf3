"""Screening providers: who checks an applicant, behind one port.

The service asks; a provider either answers at once (the simulated provider
of the local stack) or later, through the link it is given (a force's vetting
unit, emailed a secure link where it records the outcome). A real vetting
system would be a third provider with the same `request`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Protocol

from chalicelib.domain.application import Application
from chalicelib.domain.forces import ForceProfile
from chalicelib.domain.screening import Outcome
from chalicelib.services.ports import EmailMessage, Mailer

LEVEL_WORDS = {"basic": "basic police screening", "limited": "limited security screening"}


@dataclass(frozen=True)
class ScreeningRequest:
    force: ForceProfile
    application: Application
    level: str
    record_url: str  # where the outcome is recorded; single use
    valid_days: int


class ScreeningProvider(Protocol):
    def request(self, request: ScreeningRequest) -> Optional[Outcome]:
        """Start the check; the outcome now if the provider knows it, else None (it comes through the link)."""


class SimulatedScreening:
    """For the local stack and tests only: the outcome follows the applicant's email address, so a demo can
    choose it: "+refer@" refers to the panel, "+not-completed@" cannot be completed, anything else clears."""

    def request(self, request: ScreeningRequest) -> Optional[Outcome]:
        local_part = request.application.applicant["email"].split("@")[0].lower()
        if local_part.endswith("+refer"):
            return Outcome.REFER
        if local_part.endswith("+not-completed"):
            return Outcome.NOT_COMPLETED
        return Outcome.CLEAR


class VettingUnitByEmail:
    """The force's vetting unit gets the details it needs to run the check and a link to record the outcome.

    What it finds stays with it: the page takes only the outcome and the date."""

    def __init__(self, mailer: Mailer, render: Callable[..., str]):
        self._mailer = mailer
        self._render = render

    def request(self, request: ScreeningRequest) -> Optional[Outcome]:
        contact = request.force.contacts["vetting_unit"]
        application = request.application
        context = {"force": request.force, "group": request.force.group(application.group_id),
                   "application": application, "applicant": application.applicant, "contact": contact,
                   "level": LEVEL_WORDS.get(request.level, request.level), "url": request.record_url,
                   "valid_days": request.valid_days}
        self._mailer.send(EmailMessage(
            to=contact.address(), subject=f"Screening requested: {application.reference}",
            text=self._render("email/screening_request.txt", **context),
            html=self._render("email/screening_request.html", **context), force_id=request.force.id))
        return None
