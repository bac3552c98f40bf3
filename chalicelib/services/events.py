"""What one service announces and another handles, so that neither holds the other (cosmicpython's
message bus, without the queue): the review says the panel has decided; joining, subscribed by the
composition root, takes the application from there."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Optional

from chalicelib.domain.application import Application
from chalicelib.services.ports import EmailKey


@dataclass(frozen=True)
class PanelDecided:
    """The application has left the review's stages: the next step is the handler's (None: it moved, look again)."""
    application: Application


@dataclass(frozen=True)
class EmailDue:
    """A move announced an email of this kind; the handler whose stage it belongs to writes it
    (an EmailMessage, () for "nobody to tell", or None: not one of mine)."""
    application: Application
    kind: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class OfficeFilled:
    """A group elected (or an import named) its chair or vice chair; the roles service gives them the matching
    panel roles, unless the force's profile turns that off."""
    force_id: str
    group_id: str
    office: str  # "chair" or "vice_chair"
    name: str
    email: str


@dataclass(frozen=True)
class EmailFailing:
    """A send of this email failed (`failures` so far, counted by the outbox); the alerts service decides when that
    is worth telling a person."""
    key: EmailKey
    failures: int
    error: Exception


@dataclass(frozen=True)
class TroubleSeen:
    """Something a person must know about (domain/alerts.py's Trouble); the alerts service tells the platform
    operator and the coordinator, at once or in the day's digest. `incident` names it: told once however often
    it is seen."""
    force_id: str
    trouble: str
    incident: str
    summary: str
    action: str


class MessageBus:
    def __init__(self) -> None:
        self._handlers: dict[type, list[Callable[[Any], Any]]] = defaultdict(list)

    def subscribe(self, event_type: type, handler: Callable[[Any], Any]) -> None:
        self._handlers[event_type].append(handler)

    def handles(self, event_type: type) -> bool:
        return bool(self._handlers.get(event_type))

    def ask(self, event: object) -> Optional[Any]:
        """The first handler's answer that is not None (handlers in the order they subscribed)."""
        for handler in self._handlers.get(type(event), []):
            answer = handler(event)
            if answer is not None:
                return answer
        return None
