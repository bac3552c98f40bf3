"""Elections in the single table (keys as in adapters/dynamodb/base.py). Every item of an election is in its partition.

| item        | PK                          | SK                    | GSI1PK                       | GSI1SK           |
|-------------|-----------------------------|-----------------------|------------------------------|------------------|
| election    | FORCE#<force>#ELECTION#<id> | ELECTION              | FORCE#<force>#ELECTIONS#OPEN | <opened_at>#<id> |
| candidate   | FORCE#<force>#ELECTION#<id> | CANDIDATE#<member>    |                              |                  |
| member ref  | FORCE#<force>#MEMBER#<member> | REF#<PK>#<SK> of the candidate (adapters/dynamodb/member_refs.py)         |
| tally       | FORCE#<force>#ELECTION#<id> | TALLY#<candidate>     |                              |                  |
| has voted   | FORCE#<force>#ELECTION#<id> | VOTED#<member>        |                              |                  |
| spent paper | FORCE#<force>#ELECTION#<id> | PAPER#<sha256(nonce)> |                              |                  |
| email claim | FORCE#<force>#ELECTION#<id> | EMAIL#<kind>#<member> |                              |                  |
| email link  | LINK#<sha256(token)>        | LINK                  |                              |                  |

Links are the shared LinkItem (adapters/dynamodb/links.py) with purpose nomination or ballot, reference the
election id and role the member id. The GSI1 keys of an election are removed when it closes, so the
index lists only open elections.

Ballot secrecy: voting is two requests, each one transaction. Taking a ballot paper writes the voter's
has-voted marker (only if absent) and spends the voter's link, removing the member id from it; the paper
itself is a signed token (domain/ballots.py) that nothing stores. Casting marks the paper spent (an item keyed
by its nonce's hash, only if absent) and adds 1 to the candidate's tally. The tally holds a candidate and a
count; the marker and the spent paper hold nothing but their keys; the spent link holds when it was used. No
item, pair of items or single DynamoDB request names both a voter and a candidate.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.base import Item, conditional_update, connection, key_timestamp
from chalicelib.adapters.dynamodb.links import LinkItem, link_item, usable_link
from chalicelib.adapters.dynamodb.member_refs import member_ref
from chalicelib.domain.ballots import BallotPaper
from chalicelib.domain.elections import Candidate, Election, Office, Status
from chalicelib.domain.links import Link, Purpose
from chalicelib.services.ports import ElectionConflict


class ElectionItem(Item, discriminator="election"):
    """PK FORCE#<force>#ELECTION#<id>  SK ELECTION  GSI1 FORCE#<force>#ELECTIONS#OPEN / <opened_at>#<id> (open only)"""
    election_id = UnicodeAttribute()
    force_id = UnicodeAttribute()
    group_id = UnicodeAttribute()
    office = UnicodeAttribute()
    status = UnicodeAttribute()
    opened_at = UTCDateTimeAttribute()
    nominations_close = UTCDateTimeAttribute()
    voting_closes = UTCDateTimeAttribute()
    voting_started_at = UTCDateTimeAttribute(null=True)
    closed_at = UTCDateTimeAttribute(null=True)


class CandidateItem(Item, discriminator="candidate"):
    """PK FORCE#<force>#ELECTION#<id>  SK CANDIDATE#<member>: a member standing, with their statement."""
    member_id = UnicodeAttribute()
    name = UnicodeAttribute()
    statement = UnicodeAttribute()
    nominated_at = UTCDateTimeAttribute()


class TallyItem(Item, discriminator="tally"):
    """PK FORCE#<force>#ELECTION#<id>  SK TALLY#<candidate>: the candidate's votes. No voter, no time."""
    candidate_id = UnicodeAttribute()
    votes = NumberAttribute()


class VotedItem(Item, discriminator="voted"):
    """PK FORCE#<force>#ELECTION#<id>  SK VOTED#<member>: this member has voted. Nothing else: not whom, not when."""


class SpentPaperItem(Item, discriminator="spent_paper"):
    """PK FORCE#<force>#ELECTION#<id>  SK PAPER#<sha256(nonce)>: this ballot paper has been cast. Not by whom, not
    for whom, not when; TTL removes it once the paper has expired anyway."""


# What a spent ballot link keeps in place of the member id: nothing that names the voter.
SPENT_VOTER = "-"


def election_pk(force_id: str, election_id: str) -> str:
    return f"FORCE#{force_id}#ELECTION#{election_id}"


def open_elections_key(force_id: str) -> str:
    return f"FORCE#{force_id}#ELECTIONS#OPEN"


class DynamoElectionStore:
    def add(self, election: Election) -> None:
        if election.opened_at is None:
            raise ValueError(f"election {election.id} is stored once opened")
        ElectionItem(
            pk=election_pk(election.force_id, election.id), sk="ELECTION",
            gsi1pk=open_elections_key(election.force_id), gsi1sk=f"{key_timestamp(election.opened_at)}#{election.id}",
            election_id=election.id, force_id=election.force_id,
            group_id=election.group_id, office=election.office.value, status=election.status.value,
            opened_at=election.opened_at, nominations_close=election.nominations_close,
            voting_closes=election.voting_closes,
        ).save(condition=ElectionItem.pk.does_not_exist())

    def get(self, force_id: str, election_id: str) -> Optional[Election]:
        try:
            return _election(ElectionItem.get(election_pk(force_id, election_id), "ELECTION", consistent_read=True))
        except ElectionItem.DoesNotExist:
            return None

    def open_elections(self, force_id: str) -> list[Election]:
        """Elections not yet closed, oldest first (the index can lag a write by a moment)."""
        return [_election(i) for i in ElectionItem.by_stage.query(open_elections_key(force_id))]

    def add_link(self, link: Link) -> None:
        link_item(link).save(condition=LinkItem.pk.does_not_exist())

    def link(self, token_hash: str) -> Optional[Link]:
        try:
            item = LinkItem.get(f"LINK#{token_hash}", "LINK", consistent_read=True)
        except LinkItem.DoesNotExist:
            return None
        if item.purpose not in (Purpose.NOMINATION.value, Purpose.BALLOT.value):
            return None  # another kind of link: not for this store to read
        return Link(token_hash, Purpose(item.purpose), item.force_id, item.reference, item.role, None,
                    item.link_expires_at, item.used_at)

    def nominate(self, link: Link, candidate: Candidate, at: datetime) -> None:
        """The member stands (once) and their tally starts at 0, spending the link, while nominations are open."""
        pk = election_pk(link.force_id, link.reference)

        def write(transaction: TransactWrite) -> None:
            transaction.condition_check(ElectionItem, pk, "ELECTION", condition=(
                (ElectionItem.status == Status.NOMINATING.value) & (ElectionItem.nominations_close > at)))
            standing = CandidateItem(pk=pk, sk=f"CANDIDATE#{candidate.member_id}", member_id=candidate.member_id,
                                     name=candidate.name, statement=candidate.statement, nominated_at=at)
            transaction.save(standing, condition=CandidateItem.pk.does_not_exist())
            transaction.save(TallyItem(pk=pk, sk=f"TALLY#{candidate.member_id}", candidate_id=candidate.member_id,
                                       votes=0), condition=TallyItem.pk.does_not_exist())
            transaction.save(member_ref(link.force_id, candidate.member_id, standing))  # no condition: never fails
            _spend(transaction, link, at)
        _transact(write, [ElectionConflict.ELECTION, ElectionConflict.STOOD, ElectionConflict.STOOD,
                          ElectionConflict.STOOD, ElectionConflict.LINK])

    def candidates(self, force_id: str, election_id: str) -> list[Candidate]:
        return [Candidate(i.member_id, i.name, i.statement)
                for i in CandidateItem.query(election_pk(force_id, election_id), CandidateItem.sk.startswith(
                    "CANDIDATE#"), consistent_read=True)]

    def start_voting(self, election: Election, at: datetime) -> None:
        self._move(election, Status.NOMINATING, Status.VOTING, ElectionItem.nominations_close <= at,
                   [ElectionItem.voting_started_at.set(at)])

    def take_paper(self, link: Link, at: datetime) -> None:
        """One write: the voter marked (only once) and their link spent, losing its member id."""
        pk = election_pk(link.force_id, link.reference)

        def write(transaction: TransactWrite) -> None:
            transaction.condition_check(ElectionItem, pk, "ELECTION", condition=(
                (ElectionItem.status == Status.VOTING.value) & (ElectionItem.voting_closes > at)))
            transaction.save(VotedItem(pk=pk, sk=f"VOTED#{link.role}"), condition=VotedItem.pk.does_not_exist())
            transaction.update(LinkItem(pk=f"LINK#{link.token_hash}", sk="LINK"),
                               actions=[LinkItem.used_at.set(at), LinkItem.role.set(SPENT_VOTER)],
                               condition=usable_link(at))
        _transact(write, [ElectionConflict.ELECTION, ElectionConflict.VOTED, ElectionConflict.LINK])

    def cast(self, paper: BallotPaper, candidate_member_id: str, at: datetime) -> None:
        """One write: the paper marked spent (only once), the candidate's count up by one. No voter in it."""
        pk = election_pk(paper.force_id, paper.election_id)

        def write(transaction: TransactWrite) -> None:
            transaction.condition_check(ElectionItem, pk, "ELECTION", condition=(
                (ElectionItem.status == Status.VOTING.value) & (ElectionItem.voting_closes > at)))
            transaction.save(SpentPaperItem(pk=pk, sk=f"PAPER#{paper.spent_key}", expires_at=paper.expires_at),
                             condition=SpentPaperItem.pk.does_not_exist())
            transaction.update(TallyItem(pk=pk, sk=f"TALLY#{candidate_member_id}"), actions=[TallyItem.votes.add(1)],
                               condition=TallyItem.pk.exists())
        _transact(write, [ElectionConflict.ELECTION, ElectionConflict.LINK, ElectionConflict.CANDIDATE])

    def has_voted(self, force_id: str, election_id: str, member_id: str) -> bool:
        try:
            VotedItem.get(election_pk(force_id, election_id), f"VOTED#{member_id}", consistent_read=True)
        except VotedItem.DoesNotExist:
            return False
        return True

    def close(self, election: Election, at: datetime) -> None:
        """Closed from voting once it has ended, or from nominations when nobody stood. No vote is written after."""
        ended = (ElectionItem.voting_closes <= at) if election.status is Status.VOTING \
            else (ElectionItem.nominations_close <= at)
        # Still listed as open until its result emails have gone (unlist), so a failed send is retried.
        self._move(election, election.status, Status.CLOSED, ended, [ElectionItem.closed_at.set(at)])

    def unlist(self, election: Election) -> None:
        ElectionItem(pk=election_pk(election.force_id, election.id), sk="ELECTION").update(
            actions=[ElectionItem.gsi1pk.remove(), ElectionItem.gsi1sk.remove()])

    def counts(self, force_id: str, election_id: str) -> dict[str, int]:
        return {i.candidate_id: int(i.votes)
                for i in TallyItem.query(election_pk(force_id, election_id), TallyItem.sk.startswith("TALLY#"),
                                         consistent_read=True)}

    @staticmethod
    def _move(election: Election, from_status: Status, to_status: Status, when, actions: list) -> None:
        moved = conditional_update(
            ElectionItem(pk=election_pk(election.force_id, election.id), sk="ELECTION"),
            actions=[ElectionItem.status.set(to_status.value), *actions],
            condition=(ElectionItem.status == from_status.value) & when)
        if not moved:
            raise ElectionConflict(ElectionConflict.ELECTION)


# Which failed condition to report when several did: the one the person can best act on.
CONFLICT_PRIORITY = (ElectionConflict.LINK, ElectionConflict.ELECTION, ElectionConflict.VOTED,
                     ElectionConflict.STOOD, ElectionConflict.CANDIDATE)


def _transact(write, conflicts: list[str]) -> None:
    """Run the writes as one transaction; a failed condition raises ElectionConflict saying which.

    `conflicts` names each write's condition in the order DynamoDB receives them, which pynamodb fixes as
    condition checks, deletes, puts, then updates (each kind in the order added), whatever order they were added.
    """
    try:
        with TransactWrite(connection=connection()) as transaction:
            write(transaction)
    except TransactWriteError as error:
        reasons = error.cancellation_reasons or []
        failed = {conflicts[i] for i, r in enumerate(reasons) if r and r.code == "ConditionalCheckFailed"}
        if failed:
            raise ElectionConflict(min(failed, key=CONFLICT_PRIORITY.index)) from None
        raise


def _spend(transaction: TransactWrite, link: Link, at: datetime) -> None:
    transaction.update(LinkItem(pk=f"LINK#{link.token_hash}", sk="LINK"), actions=[LinkItem.used_at.set(at)],
                       condition=usable_link(at))


def _election(i: ElectionItem) -> Election:
    return Election(i.election_id, i.force_id, i.group_id, Office(i.office), i.nominations_close, i.voting_closes,
                    Status(i.status), i.opened_at)
