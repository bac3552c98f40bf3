"""A member's life after joining, on fakes: stepping down by link, suspension and removal, terms reminded and
renewed or ended, screening renewed before it expires and a pause after, and the member's own details and data."""
from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.adapters.templates import render
from chalicelib.domain.callouts import can_be_called
from chalicelib.domain.links import Purpose
from chalicelib.domain.membership import Change, Member, MemberChangeRefused, Role, Status
from chalicelib.services.membership import MembershipParts, MembershipService, MemberNotFound
from chalicelib.services.outbox import Postbox
from chalicelib.services.ports import MemberConflict
from chalicelib.services.review import LinkRefused
from tests.conftest import FixedClock
from tests.fakes import FakeApplicationRepository, FakeMailer, FakeMemberStore, FakeOutbox

pytestmark = pytest.mark.fast

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
CLEAR = {"level": "basic", "outcome": "clear", "completed_on": "2026-01-10", "expires_on": "2029-01-10"}
FORCES = FileForceCatalogue()
COORDINATOR = FORCES.get("northamptonshire").contacts["iag_coordinator"].email


class FakeDataRequests:
    def __init__(self):
        self.asked = []

    def subject_access(self, force_id, email=None, reference=None):
        self.asked.append((force_id, email))
        return {"force": {"id": force_id}, "found_by": {"email": email}, "sections": []}

    def subject_access_html(self, export):
        return f"<p>{export['membership']['name']}: {export['membership']['status']}</p>"


class World:
    def __init__(self):
        self.store, self.mailer, self.clock = FakeMemberStore(), FakeMailer(), FixedClock(NOW)
        self.data = FakeDataRequests()
        self.service = MembershipService(MembershipParts(
            forces=FORCES, store=self.store, links=self.store,
            postbox=Postbox(FakeOutbox(FakeApplicationRepository()), self.mailer, self.clock), render=render,
            clock=self.clock, random_bytes=os.urandom, base_url="https://iag.example", data_requests=self.data))

    def member(self, member_id="NOR-1", group="northampton", force="northamptonshire", role=Role.MEMBER,
               term_ends_on=date(2029, 1, 5), screening=CLEAR, **changes) -> Member:
        return self.store.put(Member(member_id, force, group, role, f"Member {member_id}", f"{member_id.lower()}@example.org",
                                     "", date(2026, 1, 5), term_ends_on, {"email": True}, screening,
                                     "confidentiality-agreement@2026-11", **changes))

    def token(self, to: str, path: str) -> str:
        found = [t for m in self.mailer.to(to) for t in re.findall(rf"/{path}/([A-Za-z0-9_-]+)", m.text)]
        assert found, f"no /{path}/ link sent to {to}"
        return found[-1]

    def link_for(self, member: Member, path: str) -> str:
        return self.service.member_links(member)[path].rsplit("/", 1)[1]

    def subjects(self, to: str) -> list[str]:
        return [m.subject for m in self.mailer.to(to)]

    def later(self, **delta):
        self.clock.moment = self.clock.moment + timedelta(**delta)


@pytest.fixture
def world():
    return World()


def test_a_member_steps_down_through_their_link_and_member_chair_and_coordinator_are_told(world):
    member = world.member()
    world.member("NOR-C", role=Role.CHAIR)
    token = world.link_for(member, "step_down")
    after = world.service.step_down(token, "Moving away")
    assert after.standing is Status.STEPPED_DOWN and not after.serving(date(2026, 12, 1))
    assert world.store.member("northamptonshire", "NOR-1", "northampton").status_reason == "Moving away"
    assert world.subjects("nor-1@example.org") == ["You have stepped down"]
    assert any("stepped down" in s for s in world.subjects("nor-c@example.org"))
    assert any("Moving away" in m.text for m in world.mailer.to(COORDINATOR))
    with pytest.raises(LinkRefused):  # single use
        world.service.step_down(token, "")
    assert [e.what for e in world.store.member_events("northamptonshire", "NOR-1")] == ["stepped_down"]


def test_a_step_down_link_is_refused_after_it_expires_and_changes_nothing(world):
    member = world.member()
    token = world.link_for(member, "step_down")
    world.later(days=31)  # the profile's link_valid_days is 30
    with pytest.raises(LinkRefused):
        world.service.step_down(token, "")
    assert world.store.member("northamptonshire", "NOR-1", "northampton").standing is Status.ACTIVE


def test_a_details_link_cannot_step_a_member_down(world):
    member = world.member()
    with pytest.raises(LinkRefused):
        world.service.step_down(world.link_for(member, "details"), "")


def test_suspension_needs_a_reason_and_the_member_is_told_it(world):
    world.member()
    with pytest.raises(MemberChangeRefused, match="reason"):
        world.service.change("northamptonshire", "northampton", "NOR-1", Change.SUSPEND, " ", "op:admin")
    assert not world.mailer.sent
    after = world.service.change("northamptonshire", "northampton", "NOR-1", Change.SUSPEND, "Breach of the code",
                                 "op:admin")
    assert after.standing is Status.SUSPENDED and not after.active
    [told] = world.mailer.to("nor-1@example.org")
    assert "Breach of the code" in told.text and told.subject == "Your membership is suspended"
    assert world.mailer.to(COORDINATOR)
    back = world.service.change("northamptonshire", "northampton", "NOR-1", Change.REINSTATE, "", "op:admin")
    assert back.standing is Status.ACTIVE and back.active


def test_a_removed_member_cannot_be_removed_again_and_nothing_more_is_sent(world):
    world.member()
    world.service.change("northamptonshire", "northampton", "NOR-1", Change.REMOVE, "Left the area", "op:admin")
    sent = len(world.mailer.sent)
    with pytest.raises(MemberChangeRefused, match="removed"):
        world.service.change("northamptonshire", "northampton", "NOR-1", Change.REMOVE, "again", "op:admin")
    assert len(world.mailer.sent) == sent


def test_a_change_from_a_stale_read_is_refused(world):
    member = world.member()
    world.service.change("northamptonshire", "northampton", "NOR-1", Change.SUSPEND, "Reason", "op:admin")
    from chalicelib.domain.membership import changed, MemberEvent
    with pytest.raises(MemberConflict):
        world.store.save_change(member, changed(member, Change.REMOVE, "x", NOW.date()),
                                MemberEvent("NOR-1", "northampton", "removed", NOW, "op:other"))


def test_an_unknown_member_is_not_found(world):
    with pytest.raises(MemberNotFound):
        world.service.change("northamptonshire", "northampton", "NOR-404", Change.SUSPEND, "x", "op:admin")


def test_a_term_is_reminded_once_and_the_coordinator_agrees_to_continue(world):
    world.member(term_ends_on=date(2027, 1, 10))  # 46 days away: inside the 60-day reminder window
    assert world.service.daily("northamptonshire")["reminded"] == 1
    assert world.service.daily("northamptonshire")["reminded"] == 0  # once
    [reminder] = world.mailer.to("nor-1@example.org")
    assert "ends on 10 January 2027" in reminder.text and "/step-down/" in reminder.text
    world.service.ask_to_continue(world.token("nor-1@example.org", "continue"))
    assert any("asks to continue" in s for s in world.subjects(COORDINATOR))
    after = world.service.decide_renewal("northamptonshire", "northampton", "NOR-1", True, "", "op:coordinator")
    assert after.term_ends_on == date(2030, 1, 10)  # the profile's term_years (3) from the end of this term
    assert "until 10 January 2030" in world.mailer.to("nor-1@example.org")[-1].text
    world.clock.moment = datetime(2027, 1, 11, 9, tzinfo=timezone.utc)
    assert world.service.daily("northamptonshire")["ended"] == 0
    world.clock.moment = datetime(2029, 12, 1, 9, tzinfo=timezone.utc)  # within 60 days of the new term's end
    assert world.service.daily("northamptonshire")["reminded"] == 1  # the new term is reminded in its turn


def test_a_term_that_ends_without_renewal_ends_membership_and_says_so(world):
    world.member(term_ends_on=date(2026, 11, 25))
    counts = world.service.daily("northamptonshire")
    member = world.store.member("northamptonshire", "NOR-1", "northampton")
    assert counts["ended"] == 1 and member.standing is Status.TERM_ENDED and not member.active
    assert "has ended" in world.mailer.to("nor-1@example.org")[0].text
    assert world.mailer.to(COORDINATOR)
    assert world.service.daily("northamptonshire")["ended"] == 0 and len(world.mailer.to("nor-1@example.org")) == 1


def test_a_declined_renewal_ends_membership_on_the_term_date(world):
    world.member(term_ends_on=date(2027, 1, 10))
    world.service.daily("northamptonshire")
    world.service.ask_to_continue(world.token("nor-1@example.org", "continue"))
    world.service.decide_renewal("northamptonshire", "northampton", "NOR-1", False, "The group is full", "op:c")
    assert "ends on 10 January 2027" in world.mailer.to("nor-1@example.org")[-1].text
    world.clock.moment = datetime(2027, 1, 10, 9, tzinfo=timezone.utc)
    world.service.daily("northamptonshire")
    assert world.store.member("northamptonshire", "NOR-1", "northampton").standing is Status.TERM_ENDED


def test_screening_is_renewed_before_it_expires_and_an_expired_check_pauses_call_outs(world):
    force = FORCES.get("northamptonshire")
    world.member(screening={**CLEAR, "expires_on": "2027-01-20"})  # 56 days: inside the 90-day lead
    counts = world.service.daily("northamptonshire")
    vetting = force.contacts["vetting_unit"].email
    assert counts["rescreening_asked"] == 1 and "NOR-1" in world.mailer.to(vetting)[0].subject
    assert world.subjects("nor-1@example.org") == ["Your screening check is being renewed"]
    world.clock.moment = datetime(2027, 1, 21, 9, tzinfo=timezone.utc)
    assert world.service.daily("northamptonshire")["paused"] == 1
    member = world.store.member("northamptonshire", "NOR-1", "northampton")
    assert member.callouts_paused and not can_be_called(force, member, date(2027, 1, 21))
    assert "paused from call-outs" in world.subjects("nor-1@example.org")[-1]
    assert "expired on 20 January 2027" in world.mailer.to("nor-1@example.org")[-1].text
    renewed = world.service.record_screening("northamptonshire", "northampton", "NOR-1", "clear", "basic",
                                             date(2027, 1, 21), "op:coordinator")
    assert not renewed.callouts_paused and can_be_called(force, renewed, date(2027, 1, 22))


def test_a_group_that_does_not_screen_asks_for_no_renewal(world):
    world.member("DER-1", "derbyshire-iag", "derbyshire", screening={**CLEAR, "expires_on": "2026-12-01"})
    counts = world.service.daily("derbyshire")
    assert counts["rescreening_asked"] == 0 and counts["paused"] == 0


def test_a_member_updates_their_details_and_opts_into_an_optional_series(world):
    member = world.member("DER-1", "derbyshire-iag", "derbyshire")
    token = world.link_for(member, "details")
    with pytest.raises(MemberChangeRefused, match="phone"):
        world.service.update_details(token, {"email": "new@example.org", "phone": "call me"})
    assert world.store.member("derbyshire", "DER-1", "derbyshire-iag").email == "der-1@example.org"
    after = world.service.update_details(token, {"email": "new@example.org", "phone": "01234 567890",
                                                 "contact_email": "yes", "contact_phone": "yes",
                                                 "series": ["Scrutiny panel"]})
    assert after.email == "new@example.org" and after.optional_series == ("Scrutiny panel",)
    assert after.contact_preferences == {"email": True, "phone": True}
    with pytest.raises(LinkRefused):
        world.service.update_details(token, {"email": "other@example.org"})


def test_a_member_asks_for_their_data_and_gets_it_at_the_address_on_record(world):
    member = world.member()
    token = world.link_for(member, "details")
    world.service.request_data(token)
    assert world.data.asked == [("northamptonshire", "nor-1@example.org")]
    [sent] = world.mailer.to("nor-1@example.org")
    assert sent.attachments[0].filename == "my-data.html" and b"Member NOR-1: active" in sent.attachments[0].data
    assert any("Data request answered" in s for s in world.subjects(COORDINATOR))
    with pytest.raises(LinkRefused):
        world.service.request_data(token)


def test_every_email_to_a_member_carries_the_step_down_and_details_links(world):
    world.member(term_ends_on=date(2027, 1, 10), screening={**CLEAR, "expires_on": "2027-01-20"})
    world.service.daily("northamptonshire")
    emails = world.mailer.to("nor-1@example.org")
    assert len(emails) == 2
    for message in emails:
        assert "/step-down/" in message.text and "/my-details/" in message.text and "/step-down/" in message.html
    token = world.token("nor-1@example.org", "step-down")
    link, member, _ = world.service.open(token, Purpose.STEP_DOWN)
    assert member.member_id == "NOR-1"


def test_one_members_failure_in_the_daily_pass_does_not_stop_the_others(world, caplog):
    world.member("NOR-1", term_ends_on=date(2026, 11, 1))
    world.member("NOR-2", term_ends_on=date(2026, 11, 1))
    save = world.store.save_change

    def flaky(before, after, event, link=None):
        if before.member_id == "NOR-1":
            raise RuntimeError("DynamoDB throttled")
        return save(before, after, event, link)
    world.store.save_change = flaky
    assert world.service.daily("northamptonshire")["ended"] == 1
    assert world.store.member("northamptonshire", "NOR-2", "northampton").standing is Status.TERM_ENDED
    assert "NOR-1" in caplog.text
    world.store.save_change = save
    assert world.service.daily("northamptonshire")["ended"] == 1  # the next day it is done
