"""The small interfaces services are written against; adapters implement them, tests fake them."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterator, Optional, Protocol

from chalicelib.services.refusals import Unauthenticated as Unauthenticated  # lives in a light module; re-exported

if TYPE_CHECKING:  # types only: every adapter imports this module, and the domain they need is their own import
    from chalicelib.domain.application import Application, AuditEvent
    from chalicelib.domain.forces import ForceProfile
    from chalicelib.domain.lifecycle import Stage
    from chalicelib.domain.links import Link
    from chalicelib.domain.membership import Member
    from chalicelib.services.port_values import About as About
    from chalicelib.services.port_values import Attachment as Attachment
    from chalicelib.services.port_values import Draft as Draft
    from chalicelib.services.port_values import EmailKey as EmailKey
    from chalicelib.services.port_values import EmailMessage as EmailMessage
    from chalicelib.services.port_values import EqualityRecord as EqualityRecord
    from chalicelib.services.port_values import IdempotencyRecord as IdempotencyRecord
    from chalicelib.services.port_values import MemberChange as MemberChange
    from chalicelib.services.port_values import Page as Page
    from chalicelib.services.port_values import Record as Record
    from chalicelib.services.port_values import SubjectAccessRequest as SubjectAccessRequest
else:
    # The value types (dataclasses) are named from here but live in port_values.py, loaded the first time one is
    # named: `import app` needs this module's protocols and exceptions, and creating a dataclass compiles its
    # methods (tests/test_package.py checks the cold start leaves port_values for the first request that uses one).
    VALUE_TYPES = frozenset({"About", "Attachment", "Draft", "EmailKey", "EmailMessage", "EqualityRecord",
                             "IdempotencyRecord", "MemberChange", "Page", "Record", "SubjectAccessRequest"})

    def __getattr__(name: str) -> Any:
        if name not in VALUE_TYPES:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from chalicelib.services import port_values

        value = globals()[name] = getattr(port_values, name)
        return value


class Clock(Protocol):
    def now(self) -> datetime: ...  # timezone-aware, UTC


class RandomSource(Protocol):
    def __call__(self, n: int) -> bytes: ...


class ForceCatalogue(Protocol):
    def ids(self) -> list[str]: ...
    def get(self, force_id: str) -> Optional[ForceProfile]: ...
    def require(self, force_id: str) -> ForceProfile: ...  # a force data is held for: UnknownForce if none
    def all(self) -> list[ForceProfile]: ...


class ApplicationRepository(Protocol):
    def add(self, application: Application, events: list[AuditEvent], *,
            equality: Optional[EqualityRecord], idempotency: Optional[IdempotencyRecord],
            emails: tuple[str, ...] = (), links: tuple[Any, ...] = (), rate_spends: tuple[Any, ...] = (),
            guard: bool = True) -> Application:
        """Store a new application with its events, the emails it owes (pending) and its links, in one write that
        also spends the request's rate limits. With `guard`, a live application also claims its address and group
        (the first one does; a repeat is stored with guard=False).

        Raises ReferenceTaken, DuplicateLiveApplication, IdempotentReplay or RateLimited.
        """

    def get(self, force_id: str, reference: str) -> Optional[Application]: ...

    def add_pack_request(self, force_id: str, request_id: str, details: dict[str, Any], at: datetime,
                         rate_spends: tuple[Any, ...] = ()) -> None:
        """Store a request for the application pack with its email pending, in one write; raises RateLimited."""

    def get_pack_request(self, force_id: str, request_id: str) -> Optional[dict[str, Any]]:
        """{"request_id", "requested_at", "details"} or None."""

    def save_transition(self, application: Application, event: AuditEvent,
                        emails: tuple[tuple[str, dict[str, Any]], ...] = (), previous_group: Optional[str] = None) -> Application:
        """Store a moved application with its event and the emails it owes, in one write (with `previous_group`:
        it moved there from that group, and its one-live-application guard moves with it).

        Raises StaleApplication if it moved meanwhile."""

    def pending_emails(self, application: Application) -> list[tuple[str, dict[str, Any]]]:
        """(kind, detail) of each email announced about it and not yet sent (services/outbox.py sends them)."""

    def pending_email_references(self, force_id: str, before: datetime) -> list[str]:
        """Applications with an announced email still unsent since before `before` (oldest first)."""

    def list_by_stage(self, force_id: str, group_id: str, stage: Stage, *, limit: int = 25,
                      next_token: Optional[str] = None) -> Page: ...

    def all_at(self, force_id: str, group_id: str, stage: Stage) -> Iterator[Application]:
        """Every application of a group at a stage (all pages)."""

    def events(self, force_id: str, reference: str) -> list[AuditEvent]: ...


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Send now; returns the provider's message id. Raises on failure (the caller keeps it pending)."""


class UnknownForce(LookupError):
    """Data names a force that has no profile (a profile removed under live data): fails loudly, changes nothing."""


class MailNotSent(Exception):
    """The transport refused or failed to take a message; it stays pending either way.

    `retryable` is False when sending again cannot help until a person changes something (a bad template id,
    API key or address: a 4xx), True for a provider outage, a timeout or a rate limit."""

    def __init__(self, message: str, *, retryable: bool, status: Optional[int] = None):
        super().__init__(message)
        self.retryable = retryable
        self.status = status


class WorkflowUnavailable(Exception):
    def __init__(self, message: str, status: Optional[int] = None):
        super().__init__(message)
        self.status = status


class Workflow(Protocol):
    """The orchestrator (Prefect), reached over HTTP; never the record of anything."""

    def start(self, deployment: str, *, name: str, parameters: dict[str, Any], tags: list[str],
              idempotency_key: str) -> str: ...

    def find_run(self, name: str) -> Optional[str]: ...

    def resume(self, flow_run_id: str, run_input: dict[str, Any]) -> bool: ...

    def state(self, flow_run_id: str) -> tuple[str, float]: ...

    def runs_in_trouble(self, flow_name: str, *, tags: list[str], stuck_after: float, failed_within: float) -> list[str]:
        """Names of the flow's runs that failed or crashed within `failed_within` seconds, or look stuck running."""

    def retry(self, flow_run_id: str) -> None: ...

    def runs(self, name: str) -> list[dict[str, Any]]:
        """Runs with that name, newest first: id, state, state_name, started, ended, url."""

    def cancel(self, flow_run_id: str) -> None: ...


class DecisionConflict(Exception):
    """The link was used, expired or superseded between reading it and writing the decision."""


class DocumentUnavailable(Exception):
    """A document the profile names cannot be read from storage (e.g. never published)."""


class GroupMembers(Protocol):
    """Members of each group (DynamoJoiningStore): the console, meetings and call-outs read them."""

    def members(self, force_id: str, group_id: str) -> list[Member]: ...


class MemberConflict(Exception):
    """The membership changed since it was read (someone else acted first); nothing was written."""


class LinkConflict(Exception):
    """The link was used or expired, or what it acts on already happened (e.g. a second appeal)."""


class ReferenceTaken(Exception):
    pass


class DuplicateLiveApplication(Exception):
    """The same address has a live application to the same group: `reference` is that one's (when known)."""

    def __init__(self, reference: Optional[str] = None):
        super().__init__(reference or "")
        self.reference = reference


class StaleApplication(Exception):
    pass


class IdempotentReplay(Exception):
    def __init__(self, record: IdempotencyRecord):
        super().__init__("request already answered")
        self.record = record


class DraftStore(Protocol):
    """Unsent applications (services/drafts.py); equality answers kept in their own item."""

    def get(self, force_id: str, draft_id: str) -> Optional[Draft]: ...

    def put(self, draft: Draft) -> None: ...

    def delete(self, force_id: str, draft_id: str) -> None: ...

    def add_link(self, link: Link) -> None: ...

    def remove_link(self, link: Link) -> None:
        """Forget a link whose email never went (nobody holds its token)."""

    def link(self, token_hash: str) -> Optional[Link]: ...

    def spend_link(self, link: Link, at: datetime) -> bool:
        """Mark the link used if it still can act; False when another request used it first."""


class ElectionConflict(Exception):
    """A condition of a write no longer held when it was made (the store raises it; nothing was written)."""
    LINK = "link"  # spent or expired meanwhile
    ELECTION = "election"  # the election moved on (closed, or voting started)
    VOTED = "voted"  # the member has voted already
    CANDIDATE = "candidate"  # not a candidate
    STOOD = "stood"  # the member has stood already

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


class LinkSpent(Exception):
    """The link was spent or expired between reading it and using it (the store raises it)."""
