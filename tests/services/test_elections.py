"""Electing a Chair or Vice Chair by email links, in process: moto as AWS (DynamoDB and SES), a movable clock.

Avon and Somerset: "Chairs and Vice Chairs for each IAG are elected by their members."
Northamptonshire: the Strategic IAG's "chair will be nominated by the group itself".
"""
from __future__ import annotations

import json
import re
from datetime import timedelta

import boto3
import pytest

from chalicelib.adapters.dynamodb.elections import DynamoElectionStore
from chalicelib.adapters.dynamodb.joining import DynamoJoiningStore, MemberItem, members_key
from chalicelib.adapters.dynamodb.outbox import DynamoOutbox
from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.adapters.ses_mailer import SesMailer
from chalicelib.adapters.system import random_bytes
from chalicelib.adapters.templates import render
from chalicelib.domain.ballots import read as read_paper
from chalicelib.domain.elections import Status
from chalicelib.domain.links import Link, LinkProblem, Purpose, new_token, token_hash
from chalicelib.services.elections import ElectionConflict, ElectionRefused, ElectionService
from chalicelib.services.outbox import Postbox
from chalicelib.services.review import LinkRefused
from chalicelib.settings import Settings
from tests.conftest import sent_emails

FORCE, GROUP = "avon-and-somerset", "bristol"
BASE_URL = "https://iag.example"
COORDINATOR = "StrategicIAG@avonandsomerset.police.uk"
# Member ids are application references; each is unique and never part of another, so a search for one is exact.
ALICE, BOLA, CHEN, DEV, ERIN = (f"ASP-2026-0000{n}AAA" for n in "12345")
FAY, GUS = "ASP-2026-00006AAA", "ASP-2026-00007AAA"
NAMES = {ALICE: "Alice Adebayo", BOLA: "Bola Brown", CHEN: "Chen Cheung", DEV: "Dev Desai", ERIN: "Erin Evans",
         FAY: "Fay Foster", GUS: "Gus Green"}
VOTERS = [ALICE, BOLA, CHEN, DEV, ERIN]
BALLOT_SECRET = b"test-ballot-paper-secret"


def add_member(member_id: str, group_id: str = GROUP, active: bool = True) -> None:
    """A member as onboarding would have stored them (the joining store has no public writer)."""
    MemberItem(pk=f"FORCE#{FORCE}#MEMBER#{member_id}", sk=f"GROUP#{group_id}", gsi1pk=members_key(FORCE, group_id),
               gsi1sk=f"2026-01-05#{member_id}", member_id=member_id, force_id=FORCE, group_id=group_id,
               role="member", name=NAMES[member_id], email=email_of(member_id), joined_on="2026-01-05",
               term_ends_on="2029-01-05", agreement_version="confidentiality@1", active=active).save()


def email_of(member_id: str) -> str:
    return f"{NAMES[member_id].split()[0].lower()}@members.example"


class FlakyMailer:
    """SES, except that one address fails until told otherwise."""

    def __init__(self, mailer, failing: str = ""):
        self._mailer, self.failing = mailer, failing

    def send(self, message):
        if message.to == self.failing:
            raise RuntimeError("SES said no")
        return self._mailer.send(message)


@pytest.fixture
def mailer(table):
    settings = Settings.from_env()
    return FlakyMailer(SesMailer(settings.mail_from, settings.region))


@pytest.fixture
def service(table, clock, mailer):
    for member_id in VOTERS:
        add_member(member_id)
    add_member(FAY, active=False)  # stood down
    add_member(GUS, group_id="strategic")  # another group of the same force
    return ElectionService(FileForceCatalogue(), DynamoElectionStore(), DynamoJoiningStore(),
                           Postbox(DynamoOutbox(), mailer, clock), render, clock,
                           random_bytes, BASE_URL, BALLOT_SECRET)


def emails_to(member_or_address: str) -> list:
    address = email_of(member_or_address) if member_or_address in NAMES else member_or_address
    return [m for m in sent_emails() if address in m.destinations["ToAddresses"]]


def token(member_id: str, path: str) -> str:
    """The newest link of one kind (stand, vote) emailed to a member."""
    found = [t for m in emails_to(member_id) for t in re.findall(rf'{BASE_URL}/{path}/([A-Za-z0-9_-]+)"', m.body)]
    assert found, f"no /{path}/ link was emailed to {member_id}"
    return found[-1]


def recipients(subject_start: str) -> set[str]:
    return {to for m in sent_emails() if m.subject.startswith(subject_start) for to in m.destinations["ToAddresses"]}


def open_election(service, clock, office="chair"):
    return service.open(FORCE, GROUP, office, nominations_days=14, voting_days=7)


def stand(service, *member_ids):
    for member_id in member_ids:
        service.nominate(token(member_id, "stand"), f"I am {NAMES[member_id]} and I would listen.")


def to_voting(service, clock, election, *candidates):
    stand(service, *candidates)
    clock.moment = election.nominations_close
    return service.start_voting(election)


def vote(service, link_token: str, candidate: str) -> None:
    """What a member's two posts do: spend the link for an anonymous paper, then cast the paper."""
    service.cast(service.take_paper(link_token).token, candidate)


def votes(service, ballots: dict[str, str]):
    for voter, candidate in ballots.items():
        vote(service, token(voter, "vote"), candidate)


def table_items() -> list[dict]:
    client = boto3.client("dynamodb", region_name="eu-west-2")
    return client.scan(TableName=Settings.from_env().table_name, ConsistentRead=True)["Items"]


def test_only_the_groups_active_members_are_asked_to_stand_each_once(service, clock):
    election = open_election(service, clock)

    assert election.status is Status.NOMINATING
    assert recipients("Stand for Chair of the Bristol IAG") == {email_of(m) for m in VOTERS}
    assert not emails_to(FAY) and not emails_to(GUS)
    assert service.send_owed(election) == (0, 0) and service.advance(FORCE)["sent"] == 0
    assert len(sent_emails()) == len(VOTERS)


def test_an_election_needs_a_known_group_with_members_and_one_at_a_time_per_office(service, clock):
    for force_id, group_id in (("avon-and-somerset", "atlantis"), ("nowhere", GROUP)):
        with pytest.raises(ElectionRefused):
            service.open(force_id, group_id, "chair", 14, 7)
    with pytest.raises(ElectionRefused, match="no active members"):
        service.open(FORCE, "youth", "chair", 14, 7)
    with pytest.raises(ElectionRefused, match="whole number of days"):
        service.open(FORCE, GROUP, "chair", 0, 7)
    open_election(service, clock)
    with pytest.raises(ElectionRefused, match="under way"):
        open_election(service, clock)
    assert open_election(service, clock, office="vice_chair").office.value == "vice_chair"


def test_a_member_stands_once_with_a_statement_while_nominations_are_open(service, clock):
    election = open_election(service, clock)
    alice = token(ALICE, "stand")
    page = service.nomination(alice)  # what the page shows; reading it changes nothing
    assert (page.member.member_id, page.office, page.group_name) == (ALICE, "Chair", "Bristol IAG")

    with pytest.raises(ElectionRefused, match="statement"):
        service.nominate(alice, "   ")
    candidate = service.nominate(alice, "  Ten years   on the panel.  ")
    assert candidate.statement == "Ten years on the panel." and (candidate.member_id, candidate.name) == (
        ALICE, NAMES[ALICE])

    with pytest.raises(LinkRefused) as refused:
        service.nominate(alice, "Again")
    assert refused.value.problem is LinkProblem.USED

    clock.moment = election.nominations_close
    with pytest.raises(ElectionRefused, match="Nominations for this election have closed"):
        service.nominate(token(BOLA, "stand"), "Too late")
    assert [c.member_id for c in DynamoElectionStore().candidates(FORCE, election.id)] == [ALICE]


def test_voting_starts_only_after_nominations_close_and_every_member_gets_one_ballot(service, clock):
    election = open_election(service, clock)
    stand(service, ALICE, BOLA)
    with pytest.raises(ElectionRefused, match="still open"):
        service.start_voting(election)

    clock.moment = election.nominations_close
    voting = service.start_voting(election)
    assert voting.status is Status.VOTING
    assert recipients("Vote for Chair of the Bristol IAG") == {email_of(m) for m in VOTERS}
    ballot = emails_to(CHEN)[-1].body
    assert NAMES[ALICE] in ballot and NAMES[BOLA] in ballot and "I would listen" in ballot

    sent = len(sent_emails())
    service.start_voting(election)
    service.advance(FORCE)
    assert len(sent_emails()) == sent  # repeats send nothing twice


def test_one_vote_per_member_for_a_candidate(service, clock):
    election = to_voting(service, clock, open_election(service, clock), ALICE, BOLA)
    chen = token(CHEN, "vote")
    page = service.ballot(chen)
    assert [c.member_id for c in page.candidates] == [ALICE, BOLA] and page.office == "Chair"

    paper = service.take_paper(chen)
    assert [c.member_id for c in paper.candidates] == [ALICE, BOLA] and chen not in paper.token
    with pytest.raises(LinkRefused) as refused:
        service.take_paper(chen)  # the link is spent: one paper per link
    assert refused.value.problem is LinkProblem.USED
    with pytest.raises(ElectionRefused, match="Choose one of the candidates"):
        service.cast(paper.token, DEV)  # a member, but not standing
    service.cast(paper.token, ALICE)
    with pytest.raises(ElectionRefused, match="already been cast"):
        service.cast(paper.token, BOLA)  # the same paper again

    # A second link for the same member (e.g. a ballot email retried after its send failed) is refused too.
    second = new_token(random_bytes(32))
    DynamoElectionStore().add_link(Link(token_hash(second), Purpose.BALLOT, FORCE, election.id, CHEN, None,
                                        election.voting_closes))
    with pytest.raises(ElectionRefused, match="already voted"):
        service.ballot(second)
    with pytest.raises(ElectionRefused, match="already voted"):
        service.take_paper(second)
    assert DynamoElectionStore().link(token_hash(second)).used_at is None  # the refused request changed nothing

    with pytest.raises(LinkRefused):
        service.take_paper(token(BOLA, "stand"))  # a nomination link is no ballot
    forged = paper.token[:-4] + ("AAAA" if not paper.token.endswith("AAAA") else "BBBB")
    with pytest.raises(LinkRefused):
        service.cast(forged, BOLA)  # a paper not signed by us counts for nothing
    clock.moment = election.voting_closes
    service.close(election)
    assert service.result(election).counts == ((ALICE, 1), (BOLA, 0))


def test_a_vote_after_voting_closes_is_refused(service, clock):
    election = to_voting(service, clock, open_election(service, clock), ALICE, BOLA)
    paper = service.take_paper(token(CHEN, "vote"))
    clock.moment = election.voting_closes
    with pytest.raises(ElectionRefused, match="Voting in this election has closed"):
        service.take_paper(token(DEV, "vote"))
    with pytest.raises(ElectionRefused, match="Voting in this election has closed"):
        service.cast(paper.token, ALICE)  # a paper taken in time but cast late
    with pytest.raises(ElectionRefused, match="counted when voting closes"):
        service.result(election)  # nobody sees a count before the election is closed


def test_the_ballot_is_secret_no_item_links_a_voter_to_their_candidate(service, clock):
    to_voting(service, clock, open_election(service, clock), ALICE, BOLA)
    cast = {CHEN: ALICE, DEV: BOLA, ERIN: ALICE, ALICE: BOLA, BOLA: BOLA}
    votes(service, cast)

    items = table_items()
    for voter, candidate in cast.items():
        if voter != candidate:
            linking = [i for i in items if voter in json.dumps(i) and candidate in json.dumps(i)]
            assert not linking, f"{voter} is linked to their vote for {candidate}: {linking}"
    markers = [i for i in items if i["SK"]["S"].startswith("VOTED#")]
    assert {i["SK"]["S"] for i in markers} == {f"VOTED#{v}" for v in cast}
    assert all(set(i) == {"PK", "SK", "type"} for i in markers)  # no candidate, no time
    tallies = [i for i in items if i["SK"]["S"].startswith("TALLY#")]
    assert all(set(i) == {"PK", "SK", "type", "candidate_id", "votes"} for i in tallies)  # no voter, no time
    assert {i["candidate_id"]["S"]: i["votes"]["N"] for i in tallies} == {ALICE: "2", BOLA: "3"}
    papers = [i for i in items if i["SK"]["S"].startswith("PAPER#")]
    assert len(papers) == 5 and all(set(i) == {"PK", "SK", "type", "ttl"} for i in papers)  # no voter, no time
    spent_ballot_links = [i for i in items if i.get("purpose", {}).get("S") == "ballot" and "used_at" in i]
    assert len(spent_ballot_links) == 5
    assert not [i for i in spent_ballot_links if any(v in json.dumps(i) for v in VOTERS)]  # spent: no voter id


def test_no_single_request_names_both_the_voter_and_their_candidate(service, clock, monkeypatch):
    """Each DynamoDB call while voting is recorded (as a log of data events would hold it): none names the voter
    together with the candidate, and nothing the voter's link leads to names the paper."""
    from botocore.client import BaseClient

    to_voting(service, clock, open_election(service, clock), ALICE, BOLA)
    link = token(CHEN, "vote")
    requests: list[str] = []
    real_call = BaseClient._make_api_call

    def recorded(client, operation, params):
        requests.append(json.dumps(params, default=str))
        return real_call(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recorded)
    paper = service.take_paper(link)
    taking = list(requests)
    requests.clear()
    service.cast(paper.token, ALICE)
    casting = list(requests)

    assert any(CHEN in r for r in taking) and any(ALICE in r for r in casting)  # the recording sees both sides
    assert not [r for r in taking + casting if CHEN in r and f"TALLY#{ALICE}" in r]
    assert not [r for r in casting if CHEN in r or token_hash(link) in r]  # casting names no voter, no link
    assert not [r for r in taking if "PAPER#" in r]  # taking the paper stores nothing that names it


def test_the_result_goes_to_the_group_with_the_counts_and_no_voters(service, clock):
    election = to_voting(service, clock, open_election(service, clock), ALICE, BOLA)
    votes(service, {CHEN: ALICE, DEV: BOLA, ERIN: ALICE})
    with pytest.raises(ElectionRefused, match="Voting is still open"):
        service.close(election)

    clock.moment = election.voting_closes
    result = service.close(election)

    assert result.elected == ALICE and result.counts == ((ALICE, 2), (BOLA, 1))
    assert recipients("The result of the election for Chair of the Bristol IAG") == (
        {email_of(m) for m in VOTERS} | {COORDINATOR})
    text = emails_to(COORDINATOR)[-1].body
    assert "Alice Adebayo is elected Chair" in text and "Votes cast: 3" in text
    assert re.search(r"Alice Adebayo</td><td[^>]*>2<", text) and re.search(r"Bola Brown</td><td[^>]*>1<", text)
    assert not any(NAMES[v] in text for v in (CHEN, DEV, ERIN))  # who voted is nobody's business

    sent = len(sent_emails())
    assert service.close(election) == result and service.advance(FORCE)["closed"] == 0
    assert len(sent_emails()) == sent
    assert DynamoElectionStore().get(FORCE, election.id).status is Status.CLOSED
    assert DynamoElectionStore().open_elections(FORCE) == []


def test_a_tie_is_reported_as_a_tie(service, clock):
    election = to_voting(service, clock, open_election(service, clock, office="vice_chair"), ALICE, BOLA, CHEN)
    votes(service, {ALICE: BOLA, BOLA: ALICE, DEV: ALICE, ERIN: BOLA})
    clock.moment = election.voting_closes

    result = service.close(election)

    assert result.tie and result.winners == (ALICE, BOLA) and result.elected is None
    text = emails_to(DEV)[-1].body
    assert "The vote is tied between Alice Adebayo and Bola Brown, with 2 votes each" in text
    assert "is elected" not in text


def test_advance_moves_elections_on_with_time(service, clock):
    chair = open_election(service, clock)
    stand(service, ALICE)
    vice = open_election(service, clock, office="vice_chair")  # nobody stands
    clock.moment = chair.nominations_close
    assert service.advance(FORCE) == {"voting_started": 1, "closed": 1, "sent": 0, "failed": 0}

    assert DynamoElectionStore().get(FORCE, chair.id).status is Status.VOTING
    assert DynamoElectionStore().get(FORCE, vice.id).status is Status.CLOSED
    nobody = [m for m in emails_to(ERIN) if m.subject.startswith("The result of the election for Vice Chair")]
    assert len(nobody) == 1 and "Nobody stood for election" in nobody[0].body
    assert [m.subject for m in emails_to(ERIN)].count("Vote for Chair of the Bristol IAG") == 1

    clock.moment = chair.voting_closes
    assert service.advance(FORCE)["closed"] == 1
    assert service.result(chair).winners == ()  # nobody voted: nobody elected
    assert "No votes were cast" in emails_to(ERIN)[-1].body


def test_an_email_that_fails_stays_owed_and_does_not_hold_up_the_rest(service, clock, mailer):
    mailer.failing = email_of(DEV)
    election = open_election(service, clock)
    assert recipients("Stand for") == {email_of(m) for m in VOTERS if m != DEV}

    mailer.failing = ""
    assert service.advance(FORCE)["sent"] == 1
    assert len(emails_to(DEV)) == 1 and len(sent_emails()) == len(VOTERS)
    assert service.nomination(token(DEV, "stand")).election.id == election.id


def test_the_stores_conditions_hold_when_a_race_beats_the_services_checks(service, clock):
    election = to_voting(service, clock, open_election(service, clock), ALICE, BOLA)
    store = DynamoElectionStore()
    chen = store.link(token_hash(token(CHEN, "vote")))
    store.take_paper(chen, clock.now())
    paper = read_paper(BALLOT_SECRET, service.take_paper(token(DEV, "vote")).token)
    store.cast(paper, ALICE, clock.now())

    def conflict(write, *args, at=None) -> str:
        with pytest.raises(ElectionConflict) as raised:
            write(*args, at or clock.now())
        return raised.value.what

    second = Link(token_hash(new_token(random_bytes(32))), Purpose.BALLOT, FORCE, election.id, CHEN, None,
                  election.voting_closes)
    store.add_link(second)
    assert conflict(store.take_paper, chen) == ElectionConflict.LINK
    assert conflict(store.take_paper, second) == ElectionConflict.VOTED
    assert conflict(store.cast, paper, BOLA) == ElectionConflict.LINK  # the paper is spent
    erin = read_paper(BALLOT_SECRET, service.take_paper(token(ERIN, "vote")).token)
    assert conflict(store.cast, erin, DEV) == ElectionConflict.CANDIDATE
    clock.moment = election.voting_closes
    service.close(election)
    late = election.voting_closes - timedelta(seconds=1)
    assert conflict(store.cast, erin, BOLA, at=late) == ElectionConflict.ELECTION  # read the clock just before
    assert store.counts(FORCE, election.id) == {ALICE: 1, BOLA: 0}


def test_the_elected_chair_takes_the_iag_chair_panel_role_at_once(table, clock, mailer):
    """Issue 15, offices: the winner is the IAG Chair who reviews applications, with no operator step; the
    composition root wires it (the election announces, the roles service handles)."""
    from dataclasses import replace

    from chalicelib import bootstrap
    from chalicelib.adapters.dynamodb.review import DynamoReviewStore

    for member_id in VOTERS:
        add_member(member_id)
    bootstrap.reset()
    try:
        elections = bootstrap.override(clock=clock, mailer=mailer, settings=replace(
            bootstrap.container().settings, public_base_url=BASE_URL)).elections
        election = to_voting(elections, clock, elections.open(FORCE, GROUP, "chair", nominations_days=14,
                                                              voting_days=7), ALICE, BOLA)
        votes(elections, {CHEN: ALICE, DEV: ALICE, ERIN: BOLA})
        clock.moment = election.voting_closes
        assert elections.close(election).elected == ALICE
        assert DynamoReviewStore().panel_members(FORCE, GROUP)["iag_chair"] == (NAMES[ALICE], email_of(ALICE))
    finally:
        bootstrap.reset()
