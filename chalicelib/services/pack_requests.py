"""Requests for the application pack in an accessible format: stored, then sent to the force's contact."""
from __future__ import annotations

import secrets
from typing import Any, Callable, Optional

from chalicelib.domain.rate_limits import spends
from chalicelib.domain.validation import FieldError
from chalicelib.services.intake import InvalidApplication, UnknownForce
from chalicelib.services.notifications import ApplicantNotifier
from chalicelib.services.ports import ApplicationRepository, Clock, ForceCatalogue

FORMAT_WORDS = {
    "large_print": "large print", "easy_read": "easy read", "audio": "audio",
    "braille": "braille", "other_language": "another language",
}


class PackRequestService:
    def __init__(self, forces: ForceCatalogue, repository: ApplicationRepository,
                 validate: Callable[[Any, str], list[FieldError]], clock: Clock, notifier: ApplicantNotifier):
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
        if not errors and payload["format"] not in force.accessible_formats:
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
        self._notifier.pack_requested(force, request_id, details)
        return request_id
