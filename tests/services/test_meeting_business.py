"""Meeting business on fakes: optional series only to those who opted in, an online joining link in the invitation
and the .ics, answers from the invitation and who came, agenda items from those the profile names before the
deadline, papers through short-lived links, minutes and actions published and reminded."""
from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta, timezone

import icalendar
import pytest

from chalicelib.adapters.calendar_ics import calendar_file
from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.adapters.templates import render
from chalicelib.domain.meeting_business import Answer, BusinessRefused
from chalicelib.domain.meeting_plans import MeetingChangeRefused
from chalicelib.domain.membership import Member, Role
from chalicelib.services.meeting_business import BusinessParts, MeetingBusinessService
from chalicelib.services.meetings import MeetingParts, MeetingService
from chalicelib.services.outbox import Postbox
from chalicelib.services.review import LinkRefused
from tests.conftest import FixedClock
from tests.fakes import (
    FakeApplicationRepository, FakeMailer, FakeMeetingRecords, FakeMeetingStore, FakeMemberStore, FakeOutbox,
    FakePaperFiles,
)

pytestmark = pytest.mark.fast

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
FORCES = FileForceCatalogue()
NOR_COORDINATOR = FORCES.get("northamptonshire").contacts["iag_coordinator"].email


class Panel:
    def __init__(self):
        self.holders = {}

    def panel_members(self, force_id, group_id):
        return dict(self.holders.get((force_id, group_id), {}))


class World:
    def __init__(self):
        self.members, self.mailer, self.clock = FakeMemberStore(), FakeMailer(), FixedClock(NOW)
        self.store, self.files, self.panel = FakeMeetingStore(), FakePaperFiles(), Panel()
        self.records = FakeMeetingRecords(self.members.links)
        postbox = Postbox(FakeOutbox(FakeApplicationRepository()), self.mailer, self.clock)
        links = lambda member: {"step_down": f"https://iag.example/step-down/s-{member.member_id}",  # noqa: E731
                                "details": f"https://iag.example/my-details/d-{member.member_id}"}
        self.business = MeetingBusinessService(BusinessParts(
            forces=FORCES, meetings=self.store, members=self.members, records=self.records, files=self.files,
            panel=self.panel, links=self.members, postbox=postbox, render=render, clock=self.clock,
            random_bytes=os.urandom, base_url="https://iag.example", member_links=links))
        self.meetings = MeetingService(MeetingParts(
            forces=FORCES, store=self.store, members=self.members, postbox=postbox, render=render, clock=self.clock,
            holidays=lambda years: frozenset(), calendar_file=calendar_file, random_bytes=os.urandom,
            member_links=links, answer_link=self.business.answer_link))

    def member(self, member_id, force="northamptonshire", group="northampton", role=Role.MEMBER, series=()):
        return self.members.put(Member(member_id, force, group, role, f"Member {member_id}",
                                       f"{member_id.lower()}@example.org", "", date(2026, 1, 5), date(2029, 1, 5),
                                       {"email": True}, None, "confidentiality-agreement@2026-11",
                                       optional_series=series))

    def tokens(self, to, path):
        return [t for m in self.mailer.to(to) for t in re.findall(rf"/{path}/([A-Za-z0-9_-]+)", m.text)]

    def first(self, force="northamptonshire", group="northampton"):
        return self.meetings.plan(force, group)[0]


@pytest.fixture
def world():
    return World()


def test_an_optional_series_goes_only_to_members_who_opted_in(world):
    world.member("DER-1", "derbyshire", "derbyshire-iag", series=("Scrutiny panel",))
    world.member("DER-2", "derbyshire", "derbyshire-iag")
    world.meetings.plan("derbyshire", "derbyshire-iag")
    world.meetings.tell_members("derbyshire", "derbyshire-iag")
    scrutiny = lambda to: [m for m in world.mailer.to(to) if "Scrutiny panel" in m.subject or "Scrutiny panel" in m.text]  # noqa: E731
    assert scrutiny("der-1@example.org") and not scrutiny("der-2@example.org")
    assert any("IAG meeting" in m.text for m in world.mailer.to("der-2@example.org"))  # the main series goes to all


def test_an_online_link_per_series_is_in_the_invitation_and_the_calendar_file_and_later_meetings_keep_it(world):
    world.member("DER-1", "derbyshire", "derbyshire-iag")
    world.meetings.plan("derbyshire", "derbyshire-iag")
    url = "https://teams.example/l/meetup-join/iag"
    changed = world.meetings.set_online_link("derbyshire", "derbyshire-iag", url, series="IAG meeting")
    assert changed and all(p.sequence == 1 for p in changed)
    updates = [m for m in world.mailer.to("der-1@example.org") if m.subject.startswith("Moved") or url in m.text]
    assert updates and f"Join online: {url}" in updates[0].text
    event = icalendar.Calendar.from_ical(updates[0].attachments[0].data).walk("VEVENT")[0]
    assert str(event["URL"]) == url and url in str(event["DESCRIPTION"])
    world.clock.moment = NOW + timedelta(days=90)
    later = world.meetings.plan("derbyshire", "derbyshire-iag")
    assert all(p.meeting.online_link == url for p in later if "IAG meeting" in p.meeting.title)
    with pytest.raises(MeetingChangeRefused):
        world.meetings.set_online_link("derbyshire", "derbyshire-iag", "http://insecure.example", series="IAG meeting")


def test_a_member_sends_apologies_from_the_invitation_once_and_the_coordinator_confirms_who_came(world):
    world.member("NOR-1")
    world.member("NOR-2")
    planned = world.first()
    world.meetings.tell_members("northamptonshire", "northampton")
    token = world.tokens("nor-1@example.org", "attend")[0]
    assert "/step-down/" in world.mailer.to("nor-1@example.org")[0].text  # every member email carries it
    world.business.answer(token, Answer.APOLOGIES)
    with pytest.raises(LinkRefused):
        world.business.answer(token, Answer.ATTENDING)
    uid = planned.meeting.uid_key
    with pytest.raises(BusinessRefused, match="started"):
        world.business.confirm_attendance("northamptonshire", "northampton", uid, ["NOR-2"], "op:c")
    world.clock.moment = planned.meeting.ends_at
    with pytest.raises(BusinessRefused, match="NOR-404"):
        world.business.confirm_attendance("northamptonshire", "northampton", uid, ["NOR-404"], "op:c")
    record = world.business.confirm_attendance("northamptonshire", "northampton", uid, ["NOR-2"], "op:c")
    assert record["answers"] == {"NOR-1": "apologies"} and record["attended"] == ["NOR-2"]


def test_agenda_items_come_from_the_roles_the_profile_names_before_the_deadline(world):
    world.member("NOR-C", role=Role.CHAIR)
    planned = world.first()
    assert world.business.ask_for_agenda("northamptonshire", "northampton") >= 2
    # The chair is asked; nobody holds the local Inspector's role, so the coordinator is told at once.
    assert world.tokens("nor-c@example.org", "agenda")
    assert any("Nobody holds the role" in m.subject for m in world.mailer.to(NOR_COORDINATOR))
    world.panel.holders[("northamptonshire", "northampton")] = {
        "local_inspector": ("Insp Local", "inspector@northamptonshire.police.example")}
    world.business.ask_for_agenda("northamptonshire", "northampton")
    inspector = world.tokens("inspector@northamptonshire.police.example", "agenda")
    assert inspector
    items = world.business.propose(inspector[0], "Stop and search figures\nCommunity tension log")
    assert [i.proposed_by for i in items] == ["local_inspector", "local_inspector"]
    late = world.tokens("nor-c@example.org", "agenda")[0]
    world.clock.moment = planned.meeting.starts_at - timedelta(days=13)  # deadline: 14 days before
    with pytest.raises(LinkRefused):  # the link expired with the deadline
        world.business.propose(late, "Too late")


def test_papers_go_to_the_private_bucket_and_members_read_them_through_short_lived_links(world):
    world.member("NOR-1")
    planned = world.first()
    uid = planned.meeting.uid_key
    with pytest.raises(BusinessRefused, match="file name"):
        world.business.upload_paper("northamptonshire", "northampton", uid, "../../etc/passwd", "x", b"x")
    paper = world.business.upload_paper("northamptonshire", "northampton", uid, "briefing.pdf", "Briefing", b"%PDF")
    assert world.files.objects[paper.key][1] == "application/pdf" and paper.key.startswith("papers/northamptonshire/")
    assert world.business.send_papers("northamptonshire", "northampton", uid) == 1
    assert world.business.send_papers("northamptonshire", "northampton", uid) == 0  # once
    [sent] = [m for m in world.mailer.to("nor-1@example.org") if m.subject.startswith("Agenda and papers")]
    assert "1 paper for the meeting" in sent.text
    token = world.tokens("nor-1@example.org", "papers")[0]
    _, _, agenda, papers = world.business.open_papers(token)
    assert [p.title for p in papers] == ["Briefing"]
    assert world.business.paper_url(token, 1).endswith("X-Amz-Expires=900")  # the profile's 15 minutes
    world.business.paper_url(token, 1)  # reading does not spend the link
    with pytest.raises(LinkRefused):
        world.business.paper_url(token, 2)


def test_minutes_and_actions_are_published_to_members_and_open_actions_are_reminded_until_closed(world):
    world.member("NOR-1")
    planned = world.first()
    uid = planned.meeting.uid_key
    actions = [{"title": "Feed back on stop and search", "owner_name": "Member NOR-1",
                "owner_email": "nor-1@example.org", "due_on": (planned.meeting.starts_at + timedelta(days=20)).date()
                .isoformat(), "feedback_to_police": True}]
    with pytest.raises(BusinessRefused, match="after the meeting"):
        world.business.publish_minutes("northamptonshire", "northampton", uid, "Minutes", actions, "op:c")
    world.clock.moment = planned.meeting.ends_at + timedelta(hours=1)
    with pytest.raises(BusinessRefused, match="action 1"):
        world.business.publish_minutes("northamptonshire", "northampton", uid, "Minutes",
                                       [{"title": "x", "owner_name": "", "owner_email": "nope"}], "op:c")
    record = world.business.publish_minutes("northamptonshire", "northampton", uid, "We met.", actions, "op:c")
    assert record["actions"][0]["feedback_to_police"] and record["minutes"]["text"] == "We met."
    [minutes] = [m for m in world.mailer.to("nor-1@example.org") if m.subject.startswith("Minutes")]
    assert "(feedback to the police)" in minutes.text and "We met." in minutes.text
    with pytest.raises(BusinessRefused, match="already"):
        world.business.publish_minutes("northamptonshire", "northampton", uid, "Again", [], "op:c")
    assert world.business.remind_actions("northamptonshire", "northampton") == 0  # not yet within 7 days
    world.clock.moment = planned.meeting.starts_at + timedelta(days=14)
    assert world.business.remind_actions("northamptonshire", "northampton") == 1
    assert world.business.remind_actions("northamptonshire", "northampton") == 0  # once per period
    world.clock.moment = planned.meeting.starts_at + timedelta(days=22)
    assert world.business.remind_actions("northamptonshire", "northampton") == 1  # overdue, reminded again
    assert world.mailer.to("nor-1@example.org")[-1].subject.startswith("Overdue")
    world.business.close_action("northamptonshire", "northampton", record["actions"][0]["id"], "op:c")
    world.clock.moment = planned.meeting.starts_at + timedelta(days=40)
    assert world.business.remind_actions("northamptonshire", "northampton") == 0
