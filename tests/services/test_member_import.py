"""Importing a force's serving members from a CSV, on fakes: dry runs, all or nothing, idempotence, welcomes."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.adapters.schema_validation import validate
from chalicelib.adapters.templates import render
from chalicelib.domain.member_import import member_id_for
from chalicelib.domain.operators import Operator, OperatorRefused, Role
from chalicelib.services.member_import import MemberImportParts, MemberImportService
from chalicelib.services.outbox import Postbox
from chalicelib.services.review import LinkRefused
from tests.conftest import TODAY, FixedClock
from tests.fakes import FakeApplicationRepository, FakeMailer, FakeMemberImportStore, FakeOutbox

pytestmark = pytest.mark.fast

DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLE = (DATA / "members-northamptonshire.csv").read_text()
WITH_ERRORS = (DATA / "members-northamptonshire-with-errors.csv").read_text()
ADMIN = Operator("ann", Role.FORCE_ADMIN, "northamptonshire")
HEADER = SAMPLE.splitlines()[0]


class Parts:
    def __init__(self):
        self.store = FakeMemberImportStore()
        self.mailer = FakeMailer()
        self.clock = FixedClock(TODAY)
        self.offices: list[tuple] = []
        counter = iter(range(10_000))
        self.service = MemberImportService(MemberImportParts(
            forces=FileForceCatalogue(), store=self.store, validate=validate, clock=self.clock,
            postbox=Postbox(FakeOutbox(FakeApplicationRepository()), self.mailer, self.clock), render=render,
            holidays=lambda years: frozenset(), links=self.store,
            random_bytes=lambda n: next(counter).to_bytes(n, "big"), base_url="https://iag.example",
            fingerprint=lambda force_id, file: f"etag-of-{file}",
            office_filled=lambda *args: self.offices.append(args) or []))

    def run(self, text=SAMPLE, dry_run=False, operator=ADMIN):
        return self.service.run(operator, "northamptonshire", text, dry_run=dry_run)


@pytest.fixture
def parts():
    return Parts()


def test_a_dry_run_reports_every_problem_by_line_and_column_and_changes_nothing(parts):
    report = parts.run(WITH_ERRORS, dry_run=True)
    found = {(p["line"], p["column"]) for p in report["problems"]}
    assert {(3, "email"), (4, "role"), (5, "group"), (6, "joined_on"), (7, "term_ends_on"), (7, "role")} <= found
    assert all(p["message"] for p in report["problems"])
    assert parts.store.members_by_key == {} and parts.mailer.sent == [] and not report["applied"]


def test_a_dry_run_of_a_good_file_says_what_a_real_run_would_do_and_does_nothing(parts):
    report = parts.run(dry_run=True)
    assert report["problems"] == [] and len(report["created"]) == 7 and not report["applied"]
    assert parts.store.members_by_key == {} and parts.mailer.sent == []


def test_a_real_run_with_one_bad_row_imports_nobody(parts):
    report = parts.run(SAMPLE + "Bad Row,bad@example.org,,northampton,member,not-a-date,,,,,,\n")
    assert report["problems"] == [{"line": 9, "column": "joined_on", "message": report["problems"][0]["message"]}]
    assert not report["applied"] and parts.store.members_by_key == {} and parts.mailer.sent == []


def test_a_write_that_fails_part_way_keeps_nothing_and_welcomes_nobody(parts):
    parts.store.fail_after = 3
    with pytest.raises(RuntimeError):
        parts.run()
    assert parts.store.members_by_key == {} and parts.mailer.sent == []


def test_the_same_file_twice_changes_nothing_and_welcomes_each_member_once(parts):
    first = parts.run()
    assert first["applied"] and len(first["created"]) == 7 and first["welcomed"] == 7
    assert len(parts.store.audit) == 7
    second = parts.run()
    assert second["created"] == [] and second["updated"] == [] and second["unchanged"] == 7
    assert second["welcomed"] == 0 and len(parts.mailer.sent) == 7 and len(parts.store.audit) == 7


def test_a_changed_row_updates_that_member_only_and_is_audited(parts):
    parts.run()
    changed = SAMPLE.replace("Grace Lewis,grace.lewis@example.org,07700 900 101", "Grace Lewis-Hart,grace.lewis@example.org,07700 900 199")
    report = parts.run(changed)
    assert report["created"] == [] and report["unchanged"] == 6
    assert report["updated"] == [{"line": 4, "member": member_id_for("northamptonshire", "grace.lewis@example.org"),
                                  "fields": ["name", "phone"]}]
    assert report["changes"] == [{"line": 4, "name": "Grace Lewis-Hart", "group": "northampton", "role": "member",
                                  "new": False, "fields": ["name", "phone"]}]
    member = parts.store.member("northamptonshire", member_id_for("northamptonshire", "grace.lewis@example.org"),
                                "northampton")
    assert member.name == "Grace Lewis-Hart" and member.phone == "07700 900 199"
    assert parts.store.audit[-1]["fields"] == ["name", "phone"] and "ann" in parts.store.audit[-1]["by"]


def test_a_member_found_by_email_keeps_their_id_when_they_joined_through_an_application(parts):
    from chalicelib.domain.member_import import Row, member_from_row

    force = FileForceCatalogue().get("northamptonshire")
    row = Row(2, {"name": "Grace Lewis", "email": "grace.lewis@example.org", "group": "northampton", "role": "member",
                  "joined_on": "2024-03-11", "screening_outcome": "clear", "screening_level": "basic",
                  "screening_date": "2024-02-01", "screening_expires": "2027-01-31"})
    joined = member_from_row(force, row)
    from dataclasses import replace
    applicant = replace(joined, member_id="NTH-2024-ABCDEFGH")
    parts.store.members_by_key[("northamptonshire", applicant.member_id, "northampton")] = applicant
    parts.run(f"{HEADER}\nGrace Lewis,GRACE.LEWIS@example.org,,northampton,chair,2024-03-11,,clear,basic,2024-02-01,"
              f"2027-01-31,\n")
    assert [m.member_id for m in parts.store.members("northamptonshire", "northampton")] == ["NTH-2024-ABCDEFGH"]
    assert parts.mailer.sent == []  # welcomed when they joined; not welcomed again


def test_the_welcome_carries_the_next_meetings_and_a_link_to_sign_only_for_those_who_have_not(parts):
    parts.run()
    signed = parts.mailer.to("priya.raman@example.org")[0]
    unsigned = parts.mailer.to("tom.okafor@example.org")[0]
    assert "next meetings" in signed.text and "IAG meeting" in signed.text
    assert "/members/agreement/" not in signed.text
    assert re.search(r"https://iag\.example/members/agreement/[A-Za-z0-9_-]+", unsigned.text)


def test_an_imported_member_signs_the_current_agreement_once_through_their_link(parts):
    parts.run()
    [token] = re.findall(r"/members/agreement/([A-Za-z0-9_-]+)", parts.mailer.to("tom.okafor@example.org")[0].text)
    _, member, _ = parts.service.open_agreement(token)
    assert member.name == "Tom Okafor"
    parts.service.sign_agreement(token, signed_name="Tom Okafor", confirmed=True, source_ip="192.0.2.1")
    stored = parts.store.member("northamptonshire", member.member_id, "northampton")
    assert stored.agreement_version == "confidentiality-agreement@2026-11"
    assert parts.store.agreements[0].document_fingerprint == "etag-of-confidentiality-agreement.html"
    with pytest.raises(LinkRefused):
        parts.service.sign_agreement(token, signed_name="Tom Okafor", confirmed=True, source_ip="192.0.2.1")


def test_an_agreement_link_expires(parts):
    parts.run()
    [token] = re.findall(r"/members/agreement/([A-Za-z0-9_-]+)", parts.mailer.to("tom.okafor@example.org")[0].text)
    parts.clock.moment += timedelta(days=29)
    with pytest.raises(LinkRefused):
        parts.service.open_agreement(token)


def test_imported_chairs_and_vice_chairs_take_their_panel_roles(parts):
    parts.run()
    offices = {(group, office) for _, group, office, _, _ in parts.offices}
    assert ("northampton", "chair") in offices and ("northampton", "vice_chair") in offices
    assert len(parts.offices) == 5  # four chairs and a vice chair
    parts.run()
    assert len(parts.offices) == 5  # unchanged rows change no role


def test_a_coordinator_imports_only_into_their_own_groups(parts):
    coordinator = Operator("cy", Role.COORDINATOR, "northamptonshire", frozenset({"northampton"}))
    with pytest.raises(OperatorRefused):
        parts.run(operator=coordinator)
    assert parts.store.members_by_key == {}
    only_theirs = "\n".join(line for line in SAMPLE.splitlines() if ",northampton," in line or line == HEADER)
    assert parts.run(only_theirs, operator=coordinator)["applied"]


def test_another_forces_administrator_is_refused(parts):
    with pytest.raises(OperatorRefused):
        parts.run(operator=Operator("tv", Role.FORCE_ADMIN, "thames-valley"))


def test_where_a_group_screens_the_screening_columns_are_required(parts):
    report = parts.run(f"{HEADER}\nNo Check,no.check@example.org,,northampton,member,2024-01-08,,,,,,\n", dry_run=True)
    assert {p["column"] for p in report["problems"]} == {"screening_outcome", "screening_level", "screening_date",
                                                         "screening_expires"}


def test_a_file_with_unknown_or_missing_columns_is_refused_before_any_row(parts):
    report = parts.run("name,email,favourite_colour\nA,a@example.org,blue\n", dry_run=True)
    columns = {p["column"] for p in report["problems"]}
    assert {"favourite_colour", "group", "role", "joined_on"} <= columns and all(
        p["line"] == 1 for p in report["problems"])
