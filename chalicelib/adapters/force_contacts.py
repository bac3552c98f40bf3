"""A force catalogue whose profiles carry the contacts operators have set (the IAG coordinator, the vetting unit,
the media contact...), over what the profile file says.

Every service reads `force.contacts[...]`; putting the operators' choice here, once, means no service can miss it.
The holders are read at most once per force every `ttl` seconds per process (one Query; the container passes
IAG_CONTACTS_TTL_SECONDS, default 60); a change made in this process is seen at once, one made in another process
within `ttl`.
"""
from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Optional, Protocol

from chalicelib.domain.roles import FORCE
from chalicelib.services.ports import ForceCatalogue, UnknownForce

if TYPE_CHECKING:
    from chalicelib.domain.forces import ForceProfile

log = logging.getLogger(__name__)

class Holders(Protocol):
    def panel_members(self, force_id: str, group_id: str) -> dict[str, tuple[str, str]]: ...


class ContactsFromHolders:
    def __init__(self, files: ForceCatalogue, holders: Holders, ttl: float,
                 monotonic: Callable[[], float] = time.monotonic):
        self._files = files
        self._holders = holders
        self._ttl = ttl
        self._monotonic = monotonic
        self._seen: dict[str, tuple[float, ForceProfile]] = {}

    @property
    def ttl(self) -> float:
        """Seconds a read of the holders is kept."""
        return self._ttl

    def ids(self) -> list[str]:
        return self._files.ids()

    def get(self, force_id: str) -> Optional[ForceProfile]:
        profile = self._files.get(force_id)
        if profile is None:
            return None
        seen = self._seen.get(force_id)
        if seen and self._monotonic() - seen[0] < self._ttl:
            return seen[1]
        try:
            held = self._holders.panel_members(force_id, FORCE)
        except Exception:
            log.exception("%s: the contacts operators set cannot be read; using the profile's", force_id)
            return profile
        from chalicelib.domain.forces import Contact  # loaded with the profile (force_files.py)

        contacts = {**profile.contacts, **{
            role: Contact(name, email, getattr(profile.contacts.get(role), "phone", None))
            for role, (name, email) in held.items()}}
        merged = replace(profile, contacts=contacts) if held else profile
        self._seen[force_id] = (self._monotonic(), merged)
        return merged

    def require(self, force_id: str) -> ForceProfile:
        force = self.get(force_id)
        if force is None:
            raise UnknownForce(f"no force profile {force_id!r}")
        return force

    def all(self) -> list[ForceProfile]:
        return [self.require(force_id) for force_id in self.ids()]

    def forget(self, force_id: str) -> None:
        """A contact of this force changed here: read it again on the next `get`."""
        self._seen.pop(force_id, None)
