"""Telling the IAG coordinator, by email through the one outbox, that a flow cannot go on without them.

A role nobody holds, or a holder who would act on their own application, stops a step: a log line alone would
leave the application waiting unseen, so the coordinator is emailed once per thing that waits.
"""
from __future__ import annotations

import logging
from typing import Callable

from chalicelib.domain.forces import ForceProfile
from chalicelib.domain.role_titles import role_words
from chalicelib.services.events import TroubleSeen
from chalicelib.services.outbox import EmailKey, Postbox
from chalicelib.services.ports import EmailMessage

log = logging.getLogger(__name__)


def tell_coordinator(postbox: Postbox, render: Callable[..., str], force: ForceProfile, key: EmailKey, subject: str,
                     what: str, action: str) -> bool:
    """Email the force's IAG coordinator once for `key`; False when it went before."""
    log.error("%s: %s", key.about, what)
    coordinator = force.contacts.get("iag_coordinator") or force.contacts["recruitment"]

    def build() -> EmailMessage:
        context = {"force": force, "contact": coordinator, "subject": subject, "what": what, "action": action}
        return EmailMessage(to=coordinator.address(), subject=subject, text=render("email/role_notice.txt", **context),
                            html=render("email/role_notice.html", **context), force_id=force.id)
    return postbox.email(key, build)


def role_empty(postbox: Postbox, render: Callable[..., str], force: ForceProfile, key: EmailKey, role: str, where: str,
               waiting: str) -> bool:
    words = role_words(role)
    # The platform operator and the coordinator also read it in the day's digest (services/alerts.py).
    postbox.announce(TroubleSeen(force.id, "role-empty", f"{key.about.area}:{key.about.id}:{key.kind}",
                                 f"{waiting} is waiting for {words} of {where}, and nobody holds that role",
                                 f"Set who holds {words} for {where} (console: people, or the admin API)."))
    return tell_coordinator(
        postbox, render, force, key, f"Nobody is {words} for {where}",
        f"{waiting} is waiting for {words} of {where}, and nobody holds that role.",
        f"Set who holds it (admin API PUT /admin/forces/{force.id}/roles, or `scripts.admin roles set`): "
        f"they are sent what waits for them at once.")


def own_application(postbox: Postbox, render: Callable[..., str], force: ForceProfile, key: EmailKey, role: str,
                    reference: str) -> bool:
    words = role_words(role)
    return tell_coordinator(
        postbox, render, force, key, f"Application {reference}: {words} cannot act on their own application",
        f"Application {reference} was made from the address of the person who is {words}, so they "
        f"have not been asked to decide on it: nobody acts on their own application.",
        f"Set someone else as {words} for this decision (the request goes to them at once), then set the role back "
        f"when it is made.")
