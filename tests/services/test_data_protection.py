"""Retention, subject access and erasure on a moto table holding applications in every state, a member with an
agreement, screening, an appeal, a call-out answer, an election candidacy, a Strategic IAG nomination and
availability, and equality answers: built through the real repository and stores, at fixed times."""
from __future__ import annotations

import json
import secrets
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import boto3
import botocore.client
import pytest
from markupsafe import escape

from chalicelib.adapters.dynamodb.applications import DynamoApplicationRepository
from chalicelib.adapters.dynamodb.callouts import DynamoCalloutStore
from chalicelib.adapters.dynamodb.data_protection import DynamoDataProtection
from chalicelib.adapters.dynamodb.elections import DynamoElectionStore
from chalicelib.adapters.dynamodb.joining import DynamoJoiningStore
from chalicelib.adapters.dynamodb.members import DynamoMemberImport
from chalicelib.adapters.dynamodb.membership import DynamoMemberStore
from chalicelib.adapters.dynamodb.outbox import DynamoOutbox
from chalicelib.adapters.dynamodb.review import DynamoReviewStore
from chalicelib.adapters.dynamodb.strategic import DynamoStrategicStore
from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.adapters.templates import render
from chalicelib.domain.application import Application, AuditEvent, apply
from chalicelib.domain.callouts import Answer, Incident, Response
from chalicelib.domain.elections import Candidate, Election, Office, Status
from chalicelib.domain.lifecycle import Action, Stage
from chalicelib.domain.links import Link, Purpose, token_hash
from chalicelib.domain.membership import Member, MemberEvent, Role, SignedAgreement, member_from
from chalicelib.domain.review import Choice, Decision
from chalicelib.domain.screening import Outcome, ScreeningResult
from chalicelib.domain.strategic import Nominee
from chalicelib.services.data_protection import DataProtectionService, UnknownApplication
from chalicelib.services.intake import UnknownForce
from chalicelib.services.outbox import application_email
from chalicelib.services.ports import About, EmailKey, EqualityRecord, MemberChange
from tests.conftest import TODAY, FixedClock

ROOT = Path(__file__).resolve().parents[2]
FORCE = "derbyshire"
GROUP = "derbyshire-iag"
A, S = Action, Stage
PATHS = {
    S.INELIGIBLE: [A.FAIL_ELIGIBILITY],
    S.AWAITING_REVIEW: [A.PASS_ELIGIBILITY],
    S.REJECTED: [A.PASS_ELIGIBILITY, A.REJECT],
    S.APPEAL_DISMISSED: [A.PASS_ELIGIBILITY, A.REJECT, A.LODGE_APPEAL, A.DISMISS_APPEAL],
    S.WITHDRAWN: [A.PASS_ELIGIBILITY, A.WITHDRAW],
    S.EXPIRED: [A.PASS_ELIGIBILITY, A.REJECT, A.EXPIRE],
    S.REDIRECTED: [A.PASS_ELIGIBILITY, A.REDIRECT],
    S.SCREENING: [A.PASS_ELIGIBILITY, A.APPROVE, A.START_SCREENING],
    S.OFFERED: [A.PASS_ELIGIBILITY, A.APPROVE, A.MAKE_OFFER],
}
DUE = datetime(2026, 5, 22, 9, tzinfo=timezone.utc)  # six months before TODAY (22 November 2026), in London
NOT_YET = DUE + timedelta(days=1)
SUBMITTED = datetime(2026, 5, 1, 9, tzinfo=timezone.utc)

AMIRA = {"given_name": "Amira", "family_name": "Khan", "email": "Amira.Khan@example.org", "phone": "01632 960 001",
         "date_of_birth": "1985-03-27", "postcode": "DE5 3RS"}
BEN = {"given_name": "Benedict", "family_name": "Okoro", "email": "ben.okoro@example.net", "phone": "01632 960 777",
       "date_of_birth": "1979-11-02", "postcode": "DE1 1AA"}
AMIRA_STRINGS = ["Amira", "Khan", "amira.khan@example.org", "01632 960 001", "1985-03-27", "DE5 3RS"]
BEN_STRINGS = ["Benedict", "Okoro", "ben.okoro@example.net", "01632 960 777", "1979-11-02", "DE1 1AA"]


class Builder:
    def __init__(self, clock: FixedClock):
        self.clock = clock
        self.repository = DynamoApplicationRepository()
        self.links = DynamoReviewStore()
        self.joining = DynamoJoiningStore()
        self.force = FileForceCatalogue().get(FORCE)

    def application(self, reference: str, applicant: dict, stage: Stage, decided: datetime,
                    equality: bool = False) -> Application:
        self.clock.moment = SUBMITTED
        new = Application(reference, FORCE, GROUP, S.SUBMITTED, SUBMITTED, SUBMITTED, dict(applicant),
                          {"connection_to_area": "lives",
                           "statements": {"motivation": f"{applicant['given_name']} wants to help"}},
                          {"reasons": [], "screening": "none", "panel_notes": []})
        stored = self.repository.add(new, [AuditEvent(reference, SUBMITTED, "submit", None, S.SUBMITTED, "applicant")],
                                     equality=EqualityRecord(FORCE, GROUP, reference, {"sex": "female"}, SUBMITTED)
                                     if equality else None, idempotency=None, emails=("received",))
        DynamoOutbox().mark_sent(application_email(stored, "received"), "m-1", SUBMITTED)
        for action in PATHS.get(stage, []):
            stored = self.move(stored, action, decided)
        return stored

    def move(self, application: Application, action: Action, at: datetime, **detail) -> Application:
        moved, event = apply(application, action, at=at, actor="system", detail=detail)
        if action is A.REJECT:
            self.decide(application, Decision("iag_chair", Choice.REJECT, f"{application.applicant['given_name']} "
                                                                           "seemed unsure", None, ""), at)
            return self.repository.save_transition(moved, event, emails=(
                (f"rejected-v{moved.version}", {"reasons": ["seemed unsure"]}),))
        if action is A.LODGE_APPEAL:
            return self.joining.lodge_appeal(moved, event, "I was misunderstood, I live at DE5 3RS",
                                             self.link(application, Purpose.APPEAL, "applicant", at))
        return self.repository.save_transition(moved, event)

    def decide(self, application: Application, decision: Decision, at: datetime) -> None:
        event = AuditEvent(application.reference, at, "decide", application.stage, application.stage, decision.role,
                           {"choice": decision.choice.value})
        self.links.record_decision(self.link(application, Purpose.REVIEW, decision.role, at), decision, at, event)

    def link(self, application: Application, purpose: Purpose, role: str, at: datetime,
             valid: timedelta = timedelta(days=14)) -> Link:
        link = Link(token_hash(secrets.token_urlsafe(32)), purpose, FORCE, application.reference, role,
                    application.version, at + valid)
        self.links.add_links([link])
        return link

    def member(self, reference: str, applicant: dict, joined: datetime) -> Application:
        """Screened, offered, signed: a member of the group."""
        application = self.application(reference, applicant, S.SCREENING, joined, equality=True)
        result = ScreeningResult(Outcome.CLEAR, "basic", joined.date(), date(2029, 5, 1))
        moved, event = apply(application, A.CLEAR_SCREENING, at=joined, actor="vetting_unit")
        application = self.joining.record_screening(moved, event, result)
        application = self.repository.save_transition(*apply(application, A.ACCEPT_OFFER, at=joined, actor="applicant"))
        agreement = SignedAgreement(reference, "confidentiality-agreement", "2026-11", "etag-1",
                                    f"{applicant['given_name']} {applicant['family_name']}", joined, "203.0.113.9",
                                    "Firefox")
        moved, event = apply(application, A.COMPLETE_ONBOARDING, at=joined, actor="applicant")
        member = member_from(moved, self.force, joined.date(), agreement, result)
        return self.joining.complete_onboarding(moved, event, agreement, member,
                                                self.link(application, Purpose.AGREEMENT, "applicant", joined), ())


@pytest.fixture
def clock():
    return FixedClock(TODAY)


@pytest.fixture
def service(table, clock):
    return DataProtectionService(FileForceCatalogue(), DynamoDataProtection(), clock, render)


@pytest.fixture
def people(table, clock):
    """Amira: a member (screened, signed, answered a call-out, stood for chair, nominated to the Strategic IAG)
    who was refused once before (appeal dismissed) and asked for the pack. Ben: an applicant awaiting review."""
    build = Builder(clock)
    joined = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
    refused = build.application("DBY-A0", AMIRA, S.APPEAL_DISMISSED, datetime(2026, 1, 10, 12, tzinfo=timezone.utc))
    member = build.member("DBY-A1", AMIRA, joined)
    ben = build.application("DBY-B1", BEN, S.AWAITING_REVIEW, SUBMITTED, equality=True)
    build.repository.add_pack_request(FORCE, "PACK-1", {"name": "Amira Khan", "email": AMIRA["email"],
                                                        "format": "large_print"}, SUBMITTED)
    build.repository.add_pack_request(FORCE, "PACK-2", {"name": "Benedict Okoro", "email": BEN["email"],
                                                        "format": "audio"}, SUBMITTED)
    callouts = DynamoCalloutStore()
    callouts.add_incident(Incident("INC-1", FORCE, "Disorder", "A summary", (GROUP,), joined,
                                   joined + timedelta(hours=4), "DI Lead", "lead@police.example", "op-1"),
                          [(Response("DBY-A1", GROUP, "Amira Khan"), AMIRA["email"])])
    callouts.record_answer(build.link(member, Purpose.CALLOUT, "DBY-A1", joined), "INC-1", "DBY-A1",
                           Answer.AVAILABLE, "Call Amira on 01632 960 001", joined)
    elections = DynamoElectionStore()
    elections.add(Election("EL-1", FORCE, GROUP, Office.CHAIR, joined + timedelta(days=7), joined + timedelta(days=14),
                           Status.NOMINATING, joined))
    elections.nominate(replace(build.link(member, Purpose.NOMINATION, "DBY-A1", joined), reference="EL-1",
                               version=None), Candidate("DBY-A1", "Amira Khan", "Amira Khan for chair"), joined)
    DynamoStrategicStore().nominate(
        replace(build.link(member, Purpose.NOMINATION, "iag_chair", joined), reference="CY-1", version=None), GROUP,
        [Nominee("DBY-A1", "Amira Khan", AMIRA["email"], GROUP),
         Nominee("DBY-B9", "Benedict Okoro", BEN["email"], GROUP)], joined)
    DynamoStrategicStore().answer(replace(build.link(member, Purpose.AVAILABILITY, "DBY-A1", joined), reference="CY-1",
                                          version=None), "DBY-A1", [joined + timedelta(days=30)], joined)
    # After joining: she asks for a pause, giving a reason that names her; the notice of it is in her partition.
    members = DynamoMemberStore()
    before = members.member(FORCE, "DBY-A1", GROUP)
    members.save_change(before, replace(before, changes=1), MemberEvent(
        "DBY-A1", GROUP, "paused", joined + timedelta(days=2), "member", "Amira Khan is caring for family in DE5 3RS"))
    outbox = DynamoOutbox()
    notice = EmailKey(About("member", FORCE, "DBY-A1"), "paused")
    outbox.claim(notice, joined, joined)
    outbox.mark_sent(notice, "m-2", joined)
    clock.moment = TODAY
    return {"refused": refused, "member": member, "ben": ben}


CARA = {"name": "Cara Imported", "email": "cara.imported@example.org", "phone": "01632 960 444"}
CARA_STRINGS = ["Cara Imported", "cara.imported@example.org", "01632 960 444", "Cara signs here", "198.51.100.4",
                "back from leave"]


@pytest.fixture
def imported(people, clock):
    """Cara joined before the system existed: brought in by an import (MEM-... id, no application), she signed the
    agreement through her link, was emailed about it, and stepped back for a while giving a reason."""
    joined = datetime(2026, 7, 1, 12, tzinfo=timezone.utc)
    cara = Member("MEM-CARA1", FORCE, GROUP, Role.MEMBER, CARA["name"], CARA["email"], CARA["phone"], joined.date(),
                  date(2029, 7, 1))
    store = DynamoMemberImport()
    store.apply_import(FORCE, [MemberChange(2, None, cara, ("name", "email"))], actor="op-3", at=joined)
    link = Link(token_hash(secrets.token_urlsafe(32)), Purpose.AGREEMENT, FORCE, "MEM-CARA1", "MEM-CARA1", None,
                joined + timedelta(days=14))
    DynamoReviewStore().add_links([link])
    store.sign_agreement(cara, SignedAgreement("MEM-CARA1", "confidentiality-agreement", "2026-11", "etag-1",
                                               "Cara signs here", joined, "198.51.100.4", "Safari"), link)
    outbox = DynamoOutbox()
    welcome = EmailKey(About("member", FORCE, "MEM-CARA1"), "welcome")
    outbox.claim(welcome, joined, joined)
    outbox.mark_sent(welcome, "m-3", joined)
    members = DynamoMemberStore()
    before = members.member(FORCE, "MEM-CARA1", GROUP)
    members.save_change(before, replace(before, changes=1), MemberEvent(
        "MEM-CARA1", GROUP, "paused", joined + timedelta(days=1), "member", "Cara Imported back from leave in May"))
    clock.moment = TODAY
    return cara


def raw_items() -> list[str]:
    """Every item in the table, as its raw JSON, lower-cased (a Scan: tests only)."""
    client = boto3.client("dynamodb", region_name="eu-west-2")
    items = []
    for page in client.get_paginator("scan").paginate(TableName="iag-test"):
        items += [json.dumps(i).lower() for i in page["Items"]]
    return items


def holding(strings: list[str]) -> list[str]:
    return [i for i in raw_items() if any(s.lower() in i for s in strings)]


def occurrences(strings: list[str]) -> dict[str, int]:
    items = raw_items()
    return {s: sum(i.count(s.lower()) for i in items) for s in strings}


# --- subject access ---

def test_subject_access_by_email_finds_every_application_and_item_of_the_person(service, people):
    assert sorted(service.references_for(FORCE, " amira.khan@EXAMPLE.org")) == ["DBY-A0", "DBY-A1"]
    export = service.subject_access(FORCE, email="amira.khan@example.org")
    sections = {s["id"]: s["records"] for s in export["sections"]}
    assert sorted(r["reference"] for r in sections["applications"]) == ["DBY-A0", "DBY-A1"]
    for kind in ("history", "decisions", "screening", "appeals", "agreements", "emails", "membership", "callouts",
                 "elections", "strategic", "pack_requests"):
        assert sections.get(kind), kind
    assert export["equality_monitoring"]["records"][0]["data"]["answers"] == {"sex": "female"}
    assert all(r["what"] != "equality" for s in export["sections"] for r in s["records"])  # kept apart
    text = json.dumps(export).lower()
    assert "seemed unsure" in text and "call amira on" in text and "amira khan for chair" in text
    assert not any(s.lower() in text for s in BEN_STRINGS)  # not even a fellow nominee
    assert "link#" not in text and "token" not in text
    [old] = [r for r in sections["applications"] if r["reference"] == "DBY-A0"]
    assert old["kept_until"] == "2026-07-10"  # six months after the dismissal


def test_a_members_history_after_joining_is_in_their_export(service, people):
    export = service.subject_access(FORCE, email=AMIRA["email"])
    sections = {s["id"]: s["records"] for s in export["sections"]}
    [event] = sections["membership_history"]
    assert event["data"]["what"] == "paused" and "caring for family" in event["data"]["reason"]
    assert "EMAIL#paused" in json.dumps(sections["emails"])


def test_an_imported_member_is_found_by_email_with_everything_in_their_partition(service, imported):
    assert service.references_for(FORCE, "Cara.Imported@example.org ") == ["MEM-CARA1"]
    export = service.subject_access(FORCE, email=CARA["email"])
    sections = {s["id"]: s["records"] for s in export["sections"]}
    assert export["references"] == ["MEM-CARA1"]
    assert [r["data"]["email"] for r in sections["membership"]] == [CARA["email"]]
    assert [r["data"]["signed_name"] for r in sections["agreements"]] == ["Cara signs here"]
    assert [r["data"]["reason"] for r in sections["membership_history"] if r["what"] == "member_event"] == [
        "Cara Imported back from leave in May"]
    assert [r["data"]["actor"] for r in sections["membership_history"] if r["what"] == "member_audit"] == ["op-3"]
    assert "EMAIL#welcome" in json.dumps(sections["emails"])
    assert not any(s.lower() in json.dumps(export).lower() for s in AMIRA_STRINGS)
    assert service.subject_access(FORCE, reference="MEM-CARA1")["references"] == ["MEM-CARA1"]


def test_a_member_who_changed_address_is_found_by_the_new_one_only(service, imported):
    members = DynamoMemberStore()
    before = members.member(FORCE, "MEM-CARA1", GROUP)
    members.save_change(before, replace(before, email="cara.new@example.org", changes=2), MemberEvent(
        "MEM-CARA1", GROUP, "details_updated", TODAY, "member"))
    assert service.references_for(FORCE, "cara.new@example.org") == ["MEM-CARA1"]
    assert service.references_for(FORCE, CARA["email"]) == []


def test_erasing_an_imported_member_leaves_nothing_that_names_them_and_keeps_the_history(service, imported):
    summary = service.erase(FORCE, "MEM-CARA1", requested_by="op-7", reason="Cara Imported asked")
    assert summary["references"] == ["MEM-CARA1"] and not summary["already_erased"]
    assert holding(CARA_STRINGS) == []
    assert service.references_for(FORCE, CARA["email"]) == []
    assert [e.what for e in DynamoMemberStore().member_events(FORCE, "MEM-CARA1")] == ["paused"]  # no reason now
    assert len(DynamoMemberImport().audit(FORCE, "MEM-CARA1")) == 1
    before = sorted(raw_items())
    assert service.erase(FORCE, "MEM-CARA1", requested_by="op-7", reason="again")["already_erased"]
    assert sorted(raw_items()) == before


def test_subject_access_by_reference_finds_the_same_person(service, people):
    by_reference = service.subject_access(FORCE, reference="DBY-A0")
    assert sorted(by_reference["references"]) == ["DBY-A0", "DBY-A1"]


def test_the_export_page_names_each_section_in_plain_words_and_london_time(service, people):
    export = service.subject_access(FORCE, email=AMIRA["email"])
    page = service.subject_access_html(export)
    for section in export["sections"]:
        assert f'id="{section["id"]}">{escape(section["title"])}</h2>' in page
    assert "Your equality monitoring answers" in page and "Special category data" in page
    assert "1 June 2026 at 13:00" in page  # joined at 12:00 UTC, British Summer Time
    assert '<html lang="en"' in page


# --- erasure ---

def test_after_erasure_no_item_holds_the_persons_identity_and_the_audit_remains(service, people):
    events_before = {ref: len(DynamoApplicationRepository().events(FORCE, ref)) for ref in ("DBY-A1", "DBY-A0")}
    ben_before = occurrences(BEN_STRINGS)
    summary = service.erase(FORCE, "DBY-A1", requested_by="op-7", reason="Subject request from amira.khan@example.org")
    assert sorted(summary["references"]) == ["DBY-A0", "DBY-A1"] and summary["pack_requests"] == 1
    assert holding(AMIRA_STRINGS) == []
    assert occurrences(BEN_STRINGS) == ben_before  # other people untouched, even beside her in a shared item
    for ref, before in events_before.items():
        events = DynamoApplicationRepository().events(FORCE, ref)
        assert len(events) == before + 1 and events[-1].action == "erase" and events[-1].actor == "op-7"
        assert events[-1].detail["reason"] == "Subject request from [removed]"
    shell = DynamoApplicationRepository().get(FORCE, "DBY-A0")
    assert shell.stage is S.APPEAL_DISMISSED and shell.applicant == {} and shell.submitted_at == SUBMITTED
    assert DynamoApplicationRepository().get(FORCE, "DBY-A1").stage is S.MEMBER
    assert service.references_for(FORCE, AMIRA["email"]) == []


def test_erasing_again_changes_nothing(service, people):
    service.erase(FORCE, "DBY-A0", requested_by="op-7", reason="subject request")
    before = sorted(raw_items())
    again = service.erase(FORCE, "DBY-A0", requested_by="op-7", reason="subject request")
    assert again["already_erased"] and again["deleted"] == 0
    assert sorted(raw_items()) == before


def test_a_live_application_is_withdrawn_before_it_is_erased(service, people, workflow):
    service.erase(FORCE, "DBY-B1", requested_by="op-7", reason="subject request")
    shell = DynamoApplicationRepository().get(FORCE, "DBY-B1")
    assert shell.stage is S.WITHDRAWN
    assert [e.action for e in DynamoApplicationRepository().events(FORCE, "DBY-B1")][-2:] == ["withdraw", "erase"]
    assert DynamoApplicationRepository().pending_emails(shell) == []  # nothing left to send to a deleted address
    assert holding(BEN_STRINGS) == [i for i in holding(BEN_STRINGS) if "strategic_nominations" in i]


# --- retention ---

@pytest.fixture
def every_stage(table, clock):
    """For each stage, an application decided six months ago today and one decided a day later; a member; a
    screened applicant whose result expired; links expired and not."""
    build = Builder(clock)
    made = {}
    for stage in PATHS:
        for label, decided in (("due", DUE), ("not-yet", NOT_YET)):
            applicant = {**BEN, "email": f"{stage.value}.{label}@example.net"}
            made[(stage, label)] = build.application(f"DBY-{stage.value}-{label}", applicant, stage, decided,
                                                     equality=True)
    made["member"] = build.member("DBY-MEMBER", {**AMIRA}, datetime(2025, 1, 6, 12, tzinfo=timezone.utc))
    expired = made[(S.SCREENING, "due")]
    clock.moment = DUE
    build.joining.record_screening(*apply(expired, A.REFER_SCREENING, at=DUE, actor="vetting_unit"),
                                   ScreeningResult(Outcome.REFER, "basic", date(2025, 11, 1), date(2026, 11, 1)))
    build.link(made["member"], Purpose.CALLOUT, "DBY-MEMBER", TODAY - timedelta(days=20))  # expired 6 days ago
    made["live_link"] = build.link(made["member"], Purpose.CALLOUT, "DBY-MEMBER", TODAY, timedelta(days=1))
    clock.moment = TODAY
    return made


UNSUCCESSFUL_STAGES = [S.INELIGIBLE, S.REJECTED, S.APPEAL_DISMISSED, S.WITHDRAWN, S.EXPIRED]


def test_retention_deletes_exactly_the_due_unsuccessful_applications_and_leaves_counts(service, every_stage):
    result = service.sweep(FORCE)
    repository = DynamoApplicationRepository()
    for (stage, label), application in [(k, v) for k, v in every_stage.items() if isinstance(k, tuple)]:
        gone = stage in UNSUCCESSFUL_STAGES and label == "due"
        assert (repository.get(FORCE, application.reference) is None) is gone, (stage, label)
        assert (repository.events(FORCE, application.reference) == []) is gone
        assert (service.references_for(FORCE, f"{stage.value}.{label}@example.net") == []) is gone
    assert result["applications"] == 5
    assert repository.get(FORCE, "DBY-MEMBER").stage is S.MEMBER
    for stage in UNSUCCESSFUL_STAGES:
        assert _count(GROUP, stage) == 1
    due_strings = [f"{stage.value}.due@example.net" for stage in UNSUCCESSFUL_STAGES]
    assert holding(due_strings) == []


def test_retention_removes_expired_screening_outcomes_and_links_only(service, every_stage):
    result = service.sweep(FORCE)
    assert result["screening"] == 1 and result["links"] >= 1
    assert DynamoJoiningStore().latest_screening(every_stage["member"]) is not None  # valid to 2029
    assert DynamoReviewStore().link(every_stage["live_link"].token_hash) is not None
    links = [i for i in raw_items() if '"type": {"s": "link"}' in i]
    assert links and all('"link_expires_at": {"s": "2026-11-2' in i for i in links)  # none expired before today


def test_a_second_sweep_deletes_nothing_more_and_counts_stay(service, every_stage):
    service.sweep(FORCE)
    again = service.sweep(FORCE)
    assert again["applications"] == 0 and again["screening"] == 0
    assert _count(GROUP, S.REJECTED) == 1


def test_retention_never_removes_operators_access_records(service, every_stage):
    from chalicelib.adapters.dynamodb.access import DynamoAccessLog
    from chalicelib.domain.operators import Operator, Role

    log = DynamoAccessLog()
    log.record(Operator("op-1", Role.FORCE_ADMIN, FORCE), FORCE, "read_application", TODAY,
               reference="DBY-rejected-due")
    service.sweep(FORCE)
    service.erase(FORCE, "DBY-MEMBER", requested_by="op-1", reason="subject request")
    assert [r["reference"] for r in log.reads_of(FORCE, "DBY-rejected-due")] == ["DBY-rejected-due"]


def _count(group: str, stage: Stage) -> int:
    client = boto3.client("dynamodb", region_name="eu-west-2")
    item = client.get_item(TableName="iag-test", Key={"PK": {"S": f"FORCE#{FORCE}#COUNTS"},
                                                      "SK": {"S": f"DELETED#{group}#{stage.value}"}}).get("Item")
    assert item is None or item["type"] == {"S": "deleted_count"}
    return int(item["count"]["N"]) if item else 0


def test_subject_access_for_someone_never_seen_finds_nothing(service, people):
    export = service.subject_access(FORCE, email="stranger@example.com")
    assert export["references"] == [] and export["sections"] == []
    assert export["equality_monitoring"]["records"] == []
    assert "We found no applications from you." in service.subject_access_html(export)


def test_erasing_an_unknown_reference_is_refused(service, people):
    with pytest.raises(UnknownApplication):
        service.erase(FORCE, "DBY-NOPE", requested_by="op-7", reason="subject request")


def test_an_interrupted_erasure_is_finished_by_asking_again(service, people, monkeypatch):
    from chalicelib.adapters.dynamodb import data_protection as adapter

    def fail(*args):
        raise RuntimeError("lost the connection")
    monkeypatch.setattr(adapter.DynamoDataProtection, "_erase_applications", staticmethod(fail))
    with pytest.raises(RuntimeError):
        service.erase(FORCE, "DBY-A1", requested_by="op-7", reason="subject request")
    monkeypatch.undo()

    summary = service.erase(FORCE, "DBY-A1", requested_by="op-7", reason="subject request")
    assert not summary["already_erased"]
    assert holding(AMIRA_STRINGS) == []


def test_an_unknown_force_is_refused(service, table):
    with pytest.raises(UnknownForce):
        service.sweep("atlantis")


# --- what they ask of DynamoDB: no Scan (the roles grant none), nothing the roles do not grant ---

# The IAM action each part of a TransactWriteItems needs (the transaction itself has no action of its own).
TRANSACTION_PARTS = {"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem", "Delete": "dynamodb:DeleteItem",
                     "ConditionCheck": "dynamodb:ConditionCheckItem"}


@contextmanager
def dynamodb_calls():
    """Every DynamoDB operation made inside the block, with its parameters (all of pynamodb goes through here)."""
    calls: list[tuple[str, dict]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(client, operation, params):
        if client.meta.service_model.service_name == "dynamodb":
            calls.append((operation, params))
        return original(client, operation, params)
    botocore.client.BaseClient._make_api_call = recording
    try:
        yield calls
    finally:
        botocore.client.BaseClient._make_api_call = original


def iam_actions(calls: list[tuple[str, dict]]) -> set[str]:
    actions = set()
    for operation, params in calls:
        if operation == "TransactWriteItems":
            actions |= {TRANSACTION_PARTS[kind] for part in params["TransactItems"] for kind in part}
        else:
            actions.add(f"dynamodb:{operation}")
        if params.get("IndexName", "GSI1") != "GSI1":
            actions.add(f"index {params['IndexName']}")  # the roles name the table and GSI1 only
    return actions


def table_grants() -> dict[str, set[str]]:
    """The table actions the API's and the flows' roles grant, as infra/ and .chalice/ write them."""
    resources = json.loads((ROOT / "infra" / "resources.json").read_text())["Resources"]
    grants = {}
    for role in ("ApiHandlerRole", "FlowTaskRole"):
        statements = [s for p in resources[role]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
        grants[role] = {a for s in statements if s["Sid"] == "ApplicationsTable" for a in s["Action"]}
    chalice = json.loads((ROOT / ".chalice" / "policy-prod.json").read_text())["Statement"]
    grants["policy-prod"] = {a for s in chalice if s["Sid"] == "ApplicationsTable" for a in s["Action"]}
    return grants


def test_subject_access_and_erasure_of_a_member_make_no_scan_and_only_calls_the_roles_grant(service, people):
    with dynamodb_calls() as calls:
        records = DynamoDataProtection().records(FORCE, ["DBY-A0", "DBY-A1"], ["PACK-1"], {AMIRA["email"]})
        service.subject_access(FORCE, email=AMIRA["email"])
        service.erase(FORCE, "DBY-A1", requested_by="op-7", reason="subject request")
    # Still found without a Scan: her candidacy, her nomination, her availability.
    assert {"candidate", "strategic_nominations", "strategic_availability"} <= {r.kind for r in records}
    assert holding(AMIRA_STRINGS) == []
    assert [operation for operation, _ in calls if operation == "Scan"] == []
    for role, granted in table_grants().items():
        assert iam_actions(calls) - granted == set(), role


def test_subject_access_and_erasure_of_an_imported_member_make_no_scan_and_only_calls_the_roles_grant(
        service, imported):
    with dynamodb_calls() as calls:
        export = service.subject_access(FORCE, email=CARA["email"])
        service.erase(FORCE, "MEM-CARA1", requested_by="op-7", reason="subject request")
    assert export["references"] == ["MEM-CARA1"]
    assert holding(CARA_STRINGS) == []
    assert [operation for operation, _ in calls if operation == "Scan"] == []
    for role, granted in table_grants().items():
        assert iam_actions(calls) - granted == set(), role


def test_the_retention_pass_makes_no_scan_and_only_calls_the_roles_grant(service, every_stage):
    with dynamodb_calls() as calls:
        result = service.sweep(FORCE)
    assert result["applications"] == 5 and result["screening"] == 1 and result["links"] >= 1
    assert [operation for operation, _ in calls if operation == "Scan"] == []
    for role, granted in table_grants().items():
        assert iam_actions(calls) - granted == set(), role


def test_members_stored_before_the_index_are_found_by_email_after_the_one_off_backfill(service, table):
    from chalicelib.adapters.dynamodb.data_protection import backfill_member_index
    from chalicelib.adapters.dynamodb.joining import member_item

    member_item(Member("MEM-OLD1", FORCE, GROUP, Role.MEMBER, "Dee Older", "dee.older@example.org", "",
                       date(2025, 1, 6), date(2028, 1, 6))).save()  # as stored before: no index entry
    assert service.references_for(FORCE, "dee.older@example.org") == []
    assert backfill_member_index() == 1
    assert service.references_for(FORCE, "Dee.Older@example.org") == ["MEM-OLD1"]
