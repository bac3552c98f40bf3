"""Elections of a group's Chair or Vice Chair by its members, through links in emails.

Avon and Somerset: "Chairs and Vice Chairs for each IAG are elected by their members."
Northamptonshire: the Strategic IAG's "chair will be nominated by the group itself".

An election runs in phases fixed when it opens: nominations (members stand, with a short
statement), then voting (one vote per member), then the count. Time ends a phase, but the
next one begins only when the service moves the election on (sends ballots, counts), so a
phase can also be "closed, waiting to move on". The count never breaks a tie.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Iterable, Mapping, Optional

from .membership import Member


class Office(str, Enum):
    CHAIR = "chair"
    VICE_CHAIR = "vice_chair"


OFFICE_WORDS = {Office.CHAIR: "Chair", Office.VICE_CHAIR: "Vice Chair"}


class Status(str, Enum):
    """What is stored: moved on by the service, never by time alone."""
    NOMINATING = "nominating"
    VOTING = "voting"
    CLOSED = "closed"


class Phase(str, Enum):
    """Where an election is at a moment: its status, and whether time has ended that status's window."""
    NOMINATING = "nominating"  # members may stand
    NOMINATIONS_CLOSED = "nominations_closed"  # ballots are due to be sent (or, if nobody stood, the close)
    VOTING = "voting"  # members may vote
    VOTING_CLOSED = "voting_closed"  # the count is due
    CLOSED = "closed"  # counted


MAX_DAYS = 90
MAX_STATEMENT = 1000


@dataclass(frozen=True)
class Election:
    id: str
    force_id: str
    group_id: str
    office: Office
    nominations_close: datetime
    voting_closes: datetime
    status: Status
    opened_at: Optional[datetime] = None


@dataclass(frozen=True)
class Candidate:
    member_id: str
    name: str
    statement: str = ""


@dataclass(frozen=True)
class Result:
    """The count: votes per candidate, most first. One winner: elected. More: a tie, for the group to resolve."""
    counts: tuple[tuple[str, int], ...]  # (candidate member id, votes)
    winners: tuple[str, ...]  # empty when no vote was cast

    @property
    def tie(self) -> bool:
        return len(self.winners) > 1

    @property
    def elected(self) -> Optional[str]:
        return self.winners[0] if len(self.winners) == 1 else None

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)


class InvalidElection(ValueError):
    """An election that cannot be opened as asked, or a nomination that cannot stand; the message says why."""


def new_election(election_id: str, force_id: str, group_id: str, office: str, *, opened_at: datetime,
                 nominations_days: int, voting_days: int) -> Election:
    try:
        office = Office(office)
    except ValueError:
        raise InvalidElection(f"An election is for one of: {', '.join(o.value for o in Office)}") from None
    for name, days in (("nominations", nominations_days), ("voting", voting_days)):
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            raise InvalidElection(f"The {name} period is a whole number of days from 1 to {MAX_DAYS}")
    nominations_close = opened_at + timedelta(days=nominations_days)
    return Election(election_id, force_id, group_id, office, nominations_close,
                    nominations_close + timedelta(days=voting_days), Status.NOMINATING, opened_at)


def electorate(members: Iterable[Member], group_id: str, today: date) -> list[Member]:
    """Who takes part (stands and votes): the group's active members whose term has not ended, each once."""
    found: dict[str, Member] = {}
    for member in members:
        if member.group_id == group_id and member.active and member.term_ends_on >= today:
            found.setdefault(member.member_id, member)
    return list(found.values())


def phase(election: Election, at: datetime) -> Phase:
    if election.status is Status.NOMINATING:
        return Phase.NOMINATING if at < election.nominations_close else Phase.NOMINATIONS_CLOSED
    if election.status is Status.VOTING:
        return Phase.VOTING if at < election.voting_closes else Phase.VOTING_CLOSED
    return Phase.CLOSED


# What may be done in which phase; anything else is refused with the words below.
ALLOWED = {
    "nominate": {Phase.NOMINATING},
    "start_voting": {Phase.NOMINATIONS_CLOSED},
    "vote": {Phase.VOTING},
    "close": {Phase.NOMINATIONS_CLOSED, Phase.VOTING_CLOSED},  # from nominations only if nobody stood
}

REFUSALS = {
    ("nominate", Phase.NOMINATIONS_CLOSED): "Nominations for this election have closed",
    ("nominate", Phase.VOTING): "Nominations for this election have closed",
    ("nominate", Phase.VOTING_CLOSED): "Nominations for this election have closed",
    ("start_voting", Phase.NOMINATING): "Nominations are still open",
    ("start_voting", Phase.VOTING): "Voting has already started",
    ("start_voting", Phase.VOTING_CLOSED): "Voting has already started",
    ("vote", Phase.NOMINATING): "Voting has not started yet",
    ("vote", Phase.NOMINATIONS_CLOSED): "Voting has not started yet",
    ("vote", Phase.VOTING_CLOSED): "Voting in this election has closed",
    ("close", Phase.NOMINATING): "Nominations are still open",
    ("close", Phase.VOTING): "Voting is still open",
}

def refusal(election: Election, action: str, at: datetime) -> Optional[str]:
    """Why `action` cannot be done on the election at `at`, in words for the person; None when it can."""
    now = phase(election, at)
    if now in ALLOWED[action]:
        return None
    if now is Phase.CLOSED:
        return "This election is over"
    return REFUSALS[(action, now)]


def clean_statement(statement: str) -> str:
    """A candidate's statement as members will read it: trimmed, required, short."""
    lines = [" ".join(line.split()) for line in (statement or "").strip().splitlines()]
    text = "\n".join(lines).strip()
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    if not text:
        raise InvalidElection("Write a short statement for members to read")
    if len(text) > MAX_STATEMENT:
        raise InvalidElection(f"Keep your statement to {MAX_STATEMENT} characters")
    return text


def tally(votes: Mapping[str, int]) -> Result:
    """Count votes per candidate. The most votes wins; equal most is a tie, reported as one and never broken."""
    if any(n < 0 for n in votes.values()):
        raise ValueError("a count of votes cannot be negative")
    counts = tuple(sorted(((c, int(n)) for c, n in votes.items()), key=lambda cn: (-cn[1], cn[0])))
    top = counts[0][1] if counts else 0
    return Result(counts, tuple(c for c, n in counts if n == top) if top > 0 else ())
