"""Requests for the application pack: stored, then either the standard pack is emailed to the person at once,
or (an accessible format) the request is sent to the force's contact, who makes and sends it."""
from __future__ import annotations

import secrets
from typing import Any, Callable, Optional, Protocol

from chalicelib.domain.forces import ForceProfile
from chalicelib.domain.rate_limits import spends
from chalicelib.domain.validation import FieldError
from chalicelib.services.intake import InvalidApplication, UnknownForce
from chalicelib.services.notifications import ApplicantNotifier
from chalicelib.services.ports import ApplicationRepository, Attachment, Clock, ForceCatalogue

STANDARD = "standard"  # the documents the force's pages offer, emailed as they are
FORMAT_WORDS = {
    STANDARD: "the standard format",
    "large_print": "large print", "easy_read": "easy read", "audio": "audio",
    "braille": "braille", "other_language": "another language",
}


class PackFiles(Protocol):
    """The application pack's documents (chalicelib/packs/<force>/<file>)."""

    def read(self, force_id: str, file: str) -> bytes: ...

    def content_type(self, file: str) -> str: ...


class PackRequestService:
    def __init__(self, forces: ForceCatalogue, repository: ApplicationRepository,
                 validate: Callable[[Any, str], list[FieldError]], clock: Clock, notifier: ApplicantNotifier,
                 pack_files: PackFiles):
        self._pack_files = pack_files
        self._forces = forces
        self._repository = repository
        self._validate = validate
        self._clock = clock
        self._notifier = notifier

    def request(self, force_id: str, payload: dict[str, Any], client_address: Optional[str] = None) -> str:
        force = self._forces.get(force_id)
        if force is None:
            raise UnknownForce(force_id)
        errors = list(self._validate(payload, "pack_request"))
        standard = not errors and payload["format"] == STANDARD
        if standard and not force.pack_documents:
            errors.append(FieldError("/format", f"{force.name} has no application pack to send; apply online or "
                                                "choose another format"))
        elif not errors and not standard and payload["format"] not in force.accessible_formats:
            errors.append(FieldError("/format", f"{force.name} does not offer the pack in "
                                                f"{FORMAT_WORDS[payload['format']]}; choose another format"))
        if errors:
            raise InvalidApplication(errors)
        request_id = "PACK-" + secrets.token_hex(4).upper()
        details = {**payload, "format_words": FORMAT_WORDS[payload["format"]]}
        now = self._clock.now()
        self._repository.add_pack_request(force.id, request_id, details, now,
                                          rate_spends=spends("pack", now, email=payload.get("email"),
                                                             client=client_address))
        if standard:
            self._notifier.pack_sent(force, request_id, payload["email"], lambda: self.attachments(force))
        else:
            self._notifier.pack_requested(force, request_id, details)
        return request_id

    def attachments(self, force: ForceProfile) -> tuple[Attachment, ...]:
        return tuple(Attachment(d.file, self._pack_files.content_type(d.file), self._pack_files.read(force.id, d.file))
                     for d in force.pack_documents)
