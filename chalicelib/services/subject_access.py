"""Subject access delivered to the person, never shown to an operator.

A force administrator starts a request for a person (found by email or by one of their applications). The
package of everything held about them, equality answers included, goes to the address on file: an email
carries a single-use link (256-bit token, stored hashed, expiring), the link's page says what it is (GET
changes nothing), and the person's POST answers with the package, spends the link and records the delivery.
What operators see is the request: who asked, when, which applications it covers, when it was delivered.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Optional, Protocol

from chalicelib.domain.forces import ForceProfile

from chalicelib.domain.links import (
    Link,
    LinkProblem,
    Purpose,
    new_token,
    problem_with,
    token_hash,
)
from chalicelib.services.data_protection import Person
from chalicelib.services.outbox import About, EmailKey, Postbox
from chalicelib.services.ports import (
    Clock, EmailMessage, ForceCatalogue, LinkSpent, RandomSource, SubjectAccessRequest,
)
from chalicelib.services.refusals import LinkRefused

log = logging.getLogger(__name__)

LINK_LIFETIME = timedelta(days=28)  # the month UK GDPR gives to answer, from the day the link is sent
PACKAGE_PATH = "your-data"






class NobodyFound(Exception):
    """No application of the force under that address or reference: nothing to send, nothing recorded."""


class SubjectAccessStore(Protocol):
    def add(self, request: SubjectAccessRequest, link: Link) -> None: ...
    def get(self, force_id: str, request_id: str) -> Optional[SubjectAccessRequest]: ...
    def requests(self, force_id: str) -> list[SubjectAccessRequest]: ...
    def link(self, token_hash: str) -> Optional[Link]: ...
    def deliver(self, link: Link, at: datetime) -> None: ...


class Packages(Protocol):
    """DataProtectionService: finds the person and builds the package."""
    def person(self, force_id: str, email: Optional[str] = None, reference: Optional[str] = None) -> Person: ...
    def subject_access(self, force_id: str, email: Optional[str] = None, reference: Optional[str] = None
                       ) -> dict[str, Any]: ...
    def subject_access_html(self, export: dict[str, Any]) -> str: ...


@dataclass(frozen=True)
class PackageNotice:
    """What the link's page shows before the person asks for the package (GET: changes nothing)."""
    force_name: str
    requested_at: datetime
    expires_at: datetime


class SubjectAccessService:
    def __init__(self, forces: ForceCatalogue, store: SubjectAccessStore, packages: Packages, postbox: Postbox, render: Callable[..., str], clock: Clock,
                 random_bytes: RandomSource, base_url: str):
        self._forces = forces
        self._store = store
        self._packages = packages
        self._postbox = postbox
        self._render = render
        self._clock = clock
        self._random_bytes = random_bytes
        self._base_url = base_url

    def request(self, force_id: str, requested_by: str, *, email: Optional[str] = None,
                reference: Optional[str] = None) -> SubjectAccessRequest:
        """Record the request and email the person their link, at the address on file: a current membership's,
        else their latest application's (an imported member has no application; their membership is found by
        the person index)."""
        if not email and not reference:
            raise NobodyFound()
        person = self._packages.person(force_id, email=email, reference=reference)
        if person.address is None:  # nobody, or an erased application that keeps no address
            raise NobodyFound()
        address = person.address
        everything = list(dict.fromkeys([*person.references, *person.member_ids]))
        now = self._clock.now()
        token = new_token(self._random_bytes(32))
        request = SubjectAccessRequest(self._random_bytes(8).hex(), force_id, requested_by, now,
                                       tuple(everything), now + LINK_LIFETIME)
        self._store.add(request, Link(token_hash(token), Purpose.SUBJECT_ACCESS, force_id, request.id, "subject",
                                      None, request.link_expires_at))
        self._postbox.email(EmailKey(About("subject_access", force_id, request.id), "package_link"),
                            lambda: self._message(force_id, address, request, f"{self._base_url}/{PACKAGE_PATH}/{token}"))
        log.info("subject access request %s recorded and its link sent", request.id)
        return request

    def requests(self, force_id: str) -> list[SubjectAccessRequest]:
        return self._store.requests(force_id)

    def notice(self, token: str) -> PackageNotice:
        """What the link's page says; raises LinkRefused. Changes nothing."""
        link, request = self._open(token)
        return PackageNotice(self._force(link.force_id).name, request.requested_at, link.expires_at)

    def deliver(self, token: str) -> str:
        """The package as a page, once: the link is spent and the delivery recorded. Raises LinkRefused."""
        link, request = self._open(token)
        package = self._packages.subject_access_html(
            self._packages.subject_access(link.force_id, reference=request.references[0]))
        try:
            self._store.deliver(link, self._clock.now())
        except LinkSpent:
            current = self._store.link(link.token_hash)
            raise LinkRefused(problem_with(current, now=self._clock.now(), current_version=None)
                              or LinkProblem.USED) from None
        log.info("subject access request %s delivered", request.id)
        return package

    def _open(self, token: str) -> tuple[Link, SubjectAccessRequest]:
        link = self._store.link(token_hash(token))
        problem = problem_with(link, now=self._clock.now(), current_version=None)
        if link is None or problem:
            raise LinkRefused(problem or LinkProblem.UNKNOWN)
        request = self._store.get(link.force_id, link.reference)
        if request is None:
            raise LinkRefused(LinkProblem.UNKNOWN)
        return link, request

    def _force(self, force_id: str) -> ForceProfile:
        force = self._forces.get(force_id)
        if force is None:
            raise LinkRefused(LinkProblem.UNKNOWN)  # a force no longer served: its links no longer work
        return force

    def _message(self, force_id: str, to: str, request: SubjectAccessRequest, url: str) -> EmailMessage:
        force = self._force(force_id)
        contact = force.contacts["recruitment"]
        context = {"force": force, "url": url, "expires": request.link_expires_at, "contact": contact}
        return EmailMessage(
            to=to, subject=f"The information {force.name} holds about you",
            text=self._render("email/subject_access.txt", **context),
            html=self._render("email/subject_access.html", **context), reply_to=contact.email, force_id=force.id)

