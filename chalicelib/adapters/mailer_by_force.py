"""Sends each email through its force's transport: SES unless the force's profile chooses GOV.UK Notify."""
from __future__ import annotations

from typing import Callable

from chalicelib.domain.addresses import is_placeholder_address
from chalicelib.domain.forces import ForceProfile
from chalicelib.services.ports import EmailMessage, ForceCatalogue, Mailer, MailNotSent


class PlaceholderAddress(MailNotSent):
    """A message to or replying to a profile's placeholder address, outside the local stage: the force has not
    given its real address yet. Not retryable: the email stays pending until the profile is corrected."""


class MailerByForce:
    """In the local stage every force sends through `default` (SES on moto), so the local mailbox shows all
    mail whatever the profiles say. Elsewhere a message to or replying to a placeholder address (a reserved
    example domain) is refused loudly: it would reach nobody. Elsewhere a Notify force always goes to Notify: if its key or template is
    wrong, the send fails and the email stays pending, rather than leaving by another route."""

    def __init__(self, forces: ForceCatalogue, default: Mailer, notify: Callable[[ForceProfile], Mailer], *,
                 local: bool):
        self._forces = forces
        self._default = default
        self._notify = notify
        self._local = local
        self._notify_mailers: dict[str, Mailer] = {}

    def send(self, message: EmailMessage) -> str:
        if not self._local:
            placeholders = [a for a in (message.to, message.reply_to) if a and is_placeholder_address(a)]
            if placeholders:
                raise PlaceholderAddress(
                    f"refused: {', '.join(placeholders)} is a placeholder on a reserved example domain; set the "
                    f"force's real address in chalicelib/forces/{message.force_id}.json", retryable=False)
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
