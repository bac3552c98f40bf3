"""Electing a group's Chair or Vice Chair by email links: nominations, a secret ballot, the count.

Every active member of the group gets a nomination link when the election opens, and a ballot
link once nominations close. Voting is two requests so that none joins voter and choice: spending the
ballot link marks the member as having voted and answers with an anonymous ballot paper (a signed token,
domain/ballots.py); casting names only that paper and a candidate, and adds one to the candidate's count.
Nothing stored, and no single request, says who voted for whom (docs/security.md says what timing leaves).
Each email is claimed in DynamoDB before it goes, so any step can be repeated (a retry, a lost
process, the daily `advance`) and nobody gets the same email twice.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Iterable, Optional, Protocol
from zoneinfo import ZoneInfo

from chalicelib.domain.ballots import NONCE_BYTES as PAPER_NONCE_BYTES, BallotPaper
from chalicelib.domain.ballots import issue as issue_paper, read as read_paper
from chalicelib.domain.elections import (
    OFFICE_WORDS, Candidate, Election, InvalidElection, Phase, Result, Status, clean_statement, electorate,
    new_election, phase, refusal, tally,
)
from chalicelib.domain.forces import ForceProfile, Group
from chalicelib.domain.links import Link, LinkProblem, Purpose, new_token, problem_with, token_hash
from chalicelib.domain.membership import Member, Role
from chalicelib.services.events import MessageBus, OfficeFilled
from chalicelib.services.joining_mail import when
from chalicelib.services.outbox import About, EmailKey, Postbox
from chalicelib.services.ports import (
    Clock, ElectionConflict, EmailMessage, ForceCatalogue, RandomSource,
)
from chalicelib.services.refusals import LinkRefused

log = logging.getLogger(__name__)

LONDON = ZoneInfo("Europe/London")
TEMPLATE_TXT, TEMPLATE_HTML = "email/election.txt", "email/election.html"
SUBJECTS = {
    "nomination": "Stand for {office} of the {group}: nominations are open",
    "ballot": "Vote for {office} of the {group}",
    "result": "The result of the election for {office} of the {group}",
}
COORDINATOR = "coordinator"  # the key of the result email to the force's IAG coordinator
# The pages the web layer serves: GET shows, POST acts. (/nominate/{token} is the Strategic IAG cycle's.)
NOMINATION_PATH, BALLOT_PATH = "stand", "vote"


class ElectionRefused(Exception):
    """What was asked cannot be done now; nothing was changed. The message is for the person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ElectionNotNow(ElectionRefused):
    """Nothing the person could type would help now (already voted, the phase is over or not begun, not an
    active member): the page says why instead of asking again."""


class ElectionStore(Protocol):
    def add(self, election: Election) -> None: ...
    def get(self, force_id: str, election_id: str) -> Optional[Election]: ...
    def open_elections(self, force_id: str) -> list[Election]: ...
    def add_link(self, link: Link) -> None: ...
    def link(self, token_hash: str) -> Optional[Link]: ...
    def nominate(self, link: Link, candidate: Candidate, at: datetime) -> None: ...
    def candidates(self, force_id: str, election_id: str) -> list[Candidate]: ...
    def start_voting(self, election: Election, at: datetime) -> None: ...
    def take_paper(self, link: Link, at: datetime) -> None: ...
    def cast(self, paper: BallotPaper, candidate_member_id: str, at: datetime) -> None: ...
    def has_voted(self, force_id: str, election_id: str, member_id: str) -> bool: ...
    def close(self, election: Election, at: datetime) -> None: ...
    def unlist(self, election: Election) -> None: ...
    def counts(self, force_id: str, election_id: str) -> dict[str, int]: ...


class Members(Protocol):
    """DynamoJoiningStore."""
    def members(self, force_id: str, group_id: str) -> list[Member]: ...
    def member(self, force_id: str, member_id: str, group_id: str) -> Optional[Member]: ...
    def set_role(self, member: Member, role: Role) -> None: ...


@dataclass(frozen=True)
class NominationPage:
    """What the nomination page shows (GET: reading it changes nothing)."""
    election: Election
    member: Member
    office: str  # "Chair", "Vice Chair"
    group_name: str


@dataclass(frozen=True)
class Ballot:
    """What a ballot page shows (GET: reading it changes nothing)."""
    election: Election
    member: Member
    candidates: list[Candidate]
    office: str
    group_name: str


@dataclass(frozen=True)
class PaperPage:
    """An anonymous ballot paper: the candidates and the paper's token, and nothing about who holds it."""
    election: Election
    candidates: list[Candidate]
    office: str
    group_name: str
    token: str


@dataclass(frozen=True)
class Recipient:
    key: str  # the member id, or COORDINATOR
    name: str
    email: str


class ElectionService:
    def __init__(self, forces: ForceCatalogue, store: ElectionStore, members: Members, postbox: Postbox,
                 render: Callable[..., str], clock: Clock, random_bytes: RandomSource, base_url: str,
                 ballot_secret: bytes, bus: Optional[MessageBus] = None,
                 member_links: Optional[Callable[[str, str, str], dict[str, str]]] = None):
        self._bus = bus or MessageBus()  # told when a winner takes office (services/roles.py gives the panel role)
        self._member_links = member_links  # (force, group, member) -> their step-down and details links
        self._forces = forces
        self._store = store
        self._members = members
        self._postbox = postbox  # every email goes through its send_once
        self._render = render
        self._clock = clock
        self._random_bytes = random_bytes
        self._base_url = base_url
        self._ballot_secret = ballot_secret  # signs ballot papers; never stored

    # --- the force administrator (and the scheduled `advance`) ---

    def open(self, force_id: str, group_id: str, office: str, nominations_days: int, voting_days: int) -> Election:
        """Open an election and email every active member of the group a nomination link."""
        self._group(force_id, group_id)
        now = self._now()
        try:
            election = new_election(self._random_bytes(8).hex(), force_id, group_id, office, opened_at=now,
                                    nominations_days=nominations_days, voting_days=voting_days)
        except InvalidElection as error:
            raise ElectionRefused(str(error)) from None
        if not self._electorate(election):
            raise ElectionRefused("The group has no active members to take part")
        if any(e.group_id == group_id and e.office is election.office for e in self._store.open_elections(force_id)):
            raise ElectionRefused(f"An election for {OFFICE_WORDS[election.office]} of this group is under way")
        self._store.add(election)
        self.send_owed(election)
        return election

    def open_elections(self, force_id: str, group_id: str) -> list[Election]:
        """A group's elections under way (a closed one is found by its id)."""
        return [e for e in self._store.open_elections(force_id) if e.group_id == group_id]

    def follow(self, force_id: str, group_id: str, election_id: str) -> dict[str, Any]:
        """Where an election stands for its operator: phase, candidates, and the count only once closed."""
        election = self._store.get(force_id, election_id)
        if election is None or election.group_id != group_id:
            raise LookupError(f"no election {election_id!r} in {group_id}")
        candidates = self._store.candidates(force_id, election_id)
        result = self.result(election) if election.status is Status.CLOSED else None
        names = {c.member_id: c.name for c in candidates}
        return {"election": election, "phase": phase(election, self._now()), "office": OFFICE_WORDS[election.office],
                "candidates": candidates, "electorate": len(self._electorate(election)),
                "result": None if result is None else {
                    "counts": [(names.get(c, c), n) for c, n in result.counts],
                    "winners": [names.get(c, c) for c in result.winners], "tie": result.tie}}

    def start_voting(self, election: Election) -> Election:
        """After nominations close: email every active member a ballot listing the candidates. Safe to repeat."""
        election = self._fresh(election)
        if election.status is Status.NOMINATING:
            self._refuse_unless(election, "start_voting")
            if not self._store.candidates(election.force_id, election.id):
                raise ElectionRefused("Nobody stood for election, so there is nothing to vote on: close it")
            try:
                self._store.start_voting(election, self._now())
            except ElectionConflict:
                pass  # started by another caller meanwhile: send what is owed all the same
            election = self._fresh(election)
        elif election.status is Status.CLOSED:
            raise ElectionRefused("This election is over")
        self.send_owed(election)
        return election

    def close(self, election: Election) -> Result:
        """After voting closes (or when nobody stood): count, and email the result to the group. Safe to repeat."""
        election = self._fresh(election)
        if election.status is not Status.CLOSED:
            self._refuse_unless(election, "close")
            if election.status is Status.NOMINATING and self._store.candidates(election.force_id, election.id):
                raise ElectionRefused("Candidates have stood: start voting instead")
            try:
                self._store.close(election, self._now())  # after this no vote can be written
            except ElectionConflict:
                pass  # closed by another caller meanwhile
            election = self._fresh(election)
        self._seat_winner(election)
        _, failed = self.send_owed(election)
        if not failed:
            self._store.unlist(election)  # done: daily runs stop looking at it
        return self.result(election)

    def _seat_winner(self, election: Election) -> None:
        """The one winner takes the office on their member record and the previous holder steps down; a tie
        changes nobody (the group resolves it). Repeating it changes nothing."""
        result = tally(self._store.counts(election.force_id, election.id))
        if result.elected is None:
            return
        office = Role(election.office.value)
        for member in self._members.members(election.force_id, election.group_id):
            if member.member_id == result.elected:
                if member.role is not office:
                    self._members.set_role(member, office)
                # Announced on every repeat too: a failure after set_role must not leave the panel role behind.
                self._bus.ask(OfficeFilled(election.force_id, election.group_id, office.value, member.name,
                                           member.email))
            elif member.member_id != result.elected and member.role is office:
                self._members.set_role(member, Role.MEMBER)

    def result(self, election: Election) -> Result:
        """The count, only once the election is closed: nobody sees a running count."""
        election = self._fresh(election)
        if election.status is not Status.CLOSED:
            raise ElectionRefused("The votes are counted when voting closes")
        return tally(self._store.counts(election.force_id, election.id))

    def advance(self, force_id: str) -> dict[str, Any]:
        """What time does to a force's open elections (run daily): ballots out, counts done, failed emails retried."""
        counts = {"voting_started": 0, "closed": 0, "sent": 0, "failed": 0}
        for election in self._store.open_elections(force_id):
            now = phase(election, self._now())
            try:
                if now is Phase.NOMINATIONS_CLOSED and self._store.candidates(force_id, election.id):
                    self.start_voting(election)
                    counts["voting_started"] += 1
                elif now in (Phase.NOMINATIONS_CLOSED, Phase.VOTING_CLOSED, Phase.CLOSED):
                    self.close(election)
                    counts["closed"] += 1
                else:
                    sent, failed = self.send_owed(election)
                    counts["sent"] += sent
                    counts["failed"] += failed
            except ElectionRefused as error:
                log.warning("election %s not moved on: %s", election.id, error.message)
        return counts

    def send_owed(self, election: Election) -> tuple[int, int]:
        """Send whatever this phase owes that has not gone yet; (sent, failed). A failed email stays owed."""
        force, group = self._group(election.force_id, election.group_id)
        now = phase(election, self._now())
        if now is Phase.NOMINATING:
            return self._send_each(election, "nomination", self._recipients(election), lambda r: self._message(
                election, "nomination", r, url=self._link(election, Purpose.NOMINATION, r.key, NOMINATION_PATH)))
        if now is Phase.VOTING:
            candidates = self._store.candidates(election.force_id, election.id)
            return self._send_each(election, "ballot", self._recipients(election), lambda r: self._message(
                election, "ballot", r, candidates=candidates,
                url=self._link(election, Purpose.BALLOT, r.key, BALLOT_PATH)))
        if now is Phase.CLOSED:
            candidates = self._store.candidates(election.force_id, election.id)
            names = {c.member_id: c.name for c in candidates}
            result = tally(self._store.counts(election.force_id, election.id))
            coordinator = force.contacts.get("iag_coordinator")
            to = self._recipients(election) + (
                [Recipient(COORDINATOR, coordinator.name, coordinator.email)] if coordinator and coordinator.email
                else [])
            return self._send_each(election, "result", to, lambda r: self._message(
                election, "result", r, candidates=candidates, result=result,
                counts=[(names.get(c, c), n) for c, n in result.counts],
                winners=[names.get(c, c) for c in result.winners]))
        return 0, 0  # between phases: `advance` moves it on

    # --- members, through their links ---

    def nomination(self, token: str) -> NominationPage:
        """What the nomination page shows; raises LinkRefused or ElectionRefused. Changes nothing."""
        link, election, member = self._open_link(token, Purpose.NOMINATION, "nominate")
        force, group = self._group(election.force_id, election.group_id)
        return NominationPage(election, member, OFFICE_WORDS[election.office], group.name)

    def nominate(self, token: str, statement: str) -> Candidate:
        """The link's member stands for election, with a short statement members will read with their ballot."""
        link, election, member = self._open_link(token, Purpose.NOMINATION, "nominate")
        try:
            candidate = Candidate(member.member_id, member.name, clean_statement(statement))
        except InvalidElection as error:
            raise ElectionRefused(str(error)) from None
        self._write(link, election, lambda: self._store.nominate(link, candidate, self._now()))
        return candidate

    def ballot(self, token: str) -> Ballot:
        """What the ballot page shows; raises LinkRefused or ElectionRefused. Changes nothing."""
        link, election, member = self._open_link(token, Purpose.BALLOT, "vote")
        if self._store.has_voted(election.force_id, election.id, member.member_id):
            raise ElectionNotNow("You have already voted in this election")
        force, group = self._group(election.force_id, election.group_id)
        return Ballot(election, member, self._store.candidates(election.force_id, election.id),
                      OFFICE_WORDS[election.office], group.name)

    def take_paper(self, token: str) -> PaperPage:
        """Spend the member's ballot link for an anonymous ballot paper (the link's POST). The member now counts
        as having voted; the paper is cast later with `cast`, in a request that names no voter."""
        link, election, member = self._open_link(token, Purpose.BALLOT, "vote")
        if self._store.has_voted(election.force_id, election.id, member.member_id):
            raise ElectionNotNow("You have already voted in this election")
        paper = issue_paper(self._ballot_secret, election.force_id, election.id,
                            self._random_bytes(PAPER_NONCE_BYTES), election.voting_closes)
        self._write(link, election, lambda: self._store.take_paper(link, self._now()))
        return self.paper(paper)

    def paper(self, token: str) -> PaperPage:
        """What a ballot paper shows (to show it again after an answer to correct); changes nothing."""
        paper, election = self._open_paper(token)
        force, group = self._group(election.force_id, election.group_id)
        return PaperPage(election, self._store.candidates(election.force_id, election.id),
                         OFFICE_WORDS[election.office], group.name, token)

    def cast(self, token: str, candidate_member_id: str) -> None:
        """The paper's one vote for a candidate, while voting is open. Says nothing back about the count."""
        paper, election = self._open_paper(token)
        if candidate_member_id not in {c.member_id for c in self._store.candidates(election.force_id, election.id)}:
            raise ElectionRefused("Choose one of the candidates")
        try:
            self._store.cast(paper, candidate_member_id, self._now())
        except ElectionConflict as conflict:
            if conflict.what == ElectionConflict.LINK:
                raise ElectionNotNow("This ballot paper has already been cast") from None
            if conflict.what == ElectionConflict.ELECTION:
                raise ElectionNotNow(refusal(self._fresh(election), "vote", self._now())
                                     or "This election has moved on") from None
            raise ElectionRefused("Choose one of the candidates") from None

    # --- inside ---

    def _open_link(self, token: str, purpose: Purpose, action: str) -> tuple[Link, Election, Member]:
        link = self._store.link(token_hash(token))
        if link is None or link.purpose is not purpose:
            raise LinkRefused(LinkProblem.UNKNOWN)
        election = self._store.get(link.force_id, link.reference)
        if election is None:
            raise LinkRefused(LinkProblem.UNKNOWN)
        now = self._now()
        problem = problem_with(link, now=now, current_version=None)
        if problem is LinkProblem.EXPIRED and refusal(election, action, now):
            raise ElectionNotNow(refusal(election, action, now) or "")  # say why in the election's words
        if problem:
            raise LinkRefused(problem)
        self._refuse_unless(election, action)
        member = self._members.member(link.force_id, link.role, election.group_id)
        if member is None or not electorate([member], election.group_id, self._today()):
            raise ElectionNotNow("Only active members of the group take part in its elections")
        return link, election, member

    def _open_paper(self, token: str) -> tuple[BallotPaper, Election]:
        paper = read_paper(self._ballot_secret, token)
        election = self._store.get(paper.force_id, paper.election_id) if paper else None
        if paper is None or election is None:
            raise LinkRefused(LinkProblem.UNKNOWN)
        self._refuse_unless(election, "vote")  # voting over (the paper expires with it) or not begun
        if self._now() >= paper.expires_at:
            raise ElectionNotNow("Voting in this election has closed")
        return paper, election

    def _write(self, link: Link, election: Election, write: Callable[[], None]) -> None:
        try:
            write()
        except ElectionConflict as conflict:
            now = self._now()
            if conflict.what == ElectionConflict.LINK:
                current = self._store.link(link.token_hash)
                raise LinkRefused(problem_with(current, now=now, current_version=None) or LinkProblem.USED) from None
            if conflict.what == ElectionConflict.ELECTION:
                why = refusal(self._fresh(election), "vote" if link.purpose is Purpose.BALLOT else "nominate", now)
                raise ElectionNotNow(why or "This election has moved on") from None
            if conflict.what == ElectionConflict.VOTED:
                raise ElectionNotNow("You have already voted in this election") from None
            raise ElectionRefused({
                ElectionConflict.CANDIDATE: "Choose one of the candidates",
                ElectionConflict.STOOD: "You are already standing in this election",
            }[conflict.what]) from None

    def _refuse_unless(self, election: Election, action: str) -> None:
        why = refusal(election, action, self._now())
        if why:
            raise ElectionNotNow(why)

    def _fresh(self, election: Election) -> Election:
        stored = self._store.get(election.force_id, election.id)
        if stored is None:
            raise ElectionRefused("No such election")
        return stored

    def _group(self, force_id: str, group_id: str) -> tuple[ForceProfile, Group]:
        force = self._forces.get(force_id)
        group = force.group(group_id) if force else None
        if force is None or group is None:
            raise ElectionRefused(f"No group {group_id!r} in force {force_id!r}")
        return force, group

    def _electorate(self, election: Election) -> list[Member]:
        return electorate(self._members.members(election.force_id, election.group_id), election.group_id,
                          self._today())

    def _recipients(self, election: Election) -> list[Recipient]:
        return [Recipient(m.member_id, m.name, m.email) for m in self._electorate(election)]

    def _link(self, election: Election, purpose: Purpose, member_id: str, path: str) -> str:
        """A fresh single-use link for one member, valid until the phase it acts in ends."""
        token = new_token(self._random_bytes(32))
        expires = election.nominations_close if purpose is Purpose.NOMINATION else election.voting_closes
        self._store.add_link(Link(token_hash(token), purpose, election.force_id, election.id, member_id, None,
                                  expires))
        return f"{self._base_url}/{path}/{token}"

    def _send_each(self, election: Election, kind: str, recipients: Iterable[Recipient],
                   build: Callable[[Recipient], EmailMessage]) -> tuple[int, int]:
        """Each email once (services/outbox.py). One address that fails does not hold up the rest."""
        sent = failed = 0
        for recipient in recipients:
            key = f"{kind}#{recipient.key}"
            try:
                def message(recipient: Recipient = recipient) -> EmailMessage:
                    return build(recipient)
                if self._postbox.email(EmailKey(About("election", election.force_id, election.id), key), message):
                    sent += 1
            except Exception:  # noqa: BLE001 (logged by send_once; it stays owed for the next step)
                failed += 1
        return sent, failed

    def _message(self, election: Election, kind: str, recipient: Recipient, **context: Any) -> EmailMessage:
        force, group = self._group(election.force_id, election.group_id)
        contact = force.contacts.get("iag_coordinator") or force.contacts["recruitment"]
        office = OFFICE_WORDS[election.office]
        context = {"kind": kind, "force": force, "group": group, "election": election, "office": office,
                   "name": recipient.name, "contact": contact, "when": when, "url": None, "candidates": [],
                   "result": None, "counts": [], "winners": [], **context,
                   "member_links": self._member_links(election.force_id, election.group_id, recipient.key)
                   if self._member_links and recipient.key != COORDINATOR else None}
        return EmailMessage(
            to=recipient.email, subject=SUBJECTS[kind].format(office=office, group=group.name),
            text=self._render(TEMPLATE_TXT, **context), html=self._render(TEMPLATE_HTML, **context),
            reply_to=contact.email, force_id=force.id)

    def _now(self) -> datetime:
        return self._clock.now()

    def _today(self) -> date:
        return self._now().astimezone(LONDON).date()
