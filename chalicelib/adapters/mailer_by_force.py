"""Sends each email through its force's transport: SES unless the force's profile chooses GOV.UK Notify."""
from __future__ import annotations

from typing import Callable

from chalicelib.domain.forces import ForceProfile
from chalicelib.services.ports import EmailMessage, ForceCatalogue, Mailer


class MailerByForce:
    """In the local stage every force sends through `default` (SES on moto), so the local mailbox shows all
    mail whatever the profiles say. Elsewhere a Notify force always goes to Notify: if its key or template is
    wrong, the send fails and the email stays pending, rather than leaving by another route."""

    def __init__(self, forces: ForceCatalogue, default: Mailer, notify: Callable[[ForceProfile], Mailer], *,
                 local: bool):
        self._forces = forces
        self._default = default
        self._notify = notify
        self._local = local
        self._notify_mailers: dict[str, Mailer] = {}

    def send(self, message: EmailMessage) -> str:
        return self.mailer_for(message.force_id).send(message)

    def mailer_for(self, force_id) -> Mailer:
        if self._local or force_id is None:
            return self._default
        force = self._forces.get(force_id)
        if force is None or force.mail.transport != "notify":
            return self._default
        if force_id not in self._notify_mailers:
            self._notify_mailers[force_id] = self._notify(force)
        return self._notify_mailers[force_id]
