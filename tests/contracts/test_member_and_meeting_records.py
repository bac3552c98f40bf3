"""One contract for the member store (lifecycle changes) and a meeting's records, run against the in-memory fakes
and against the DynamoDB adapters on moto, so the service tests on fakes mean the same on DynamoDB."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.domain.links import Link, Purpose
from chalicelib.domain.meeting_business import Action, AgendaItem, Answer, Minutes, Paper
from chalicelib.domain.membership import Change, Member, MemberEvent, Role, Status, changed
from chalicelib.services.ports import LinkConflict, MemberConflict
from tests.fakes import FakeMeetingRecords, FakeMemberStore

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(params=[pytest.param("fake", marks=pytest.mark.fast), "dynamodb"])
def stores(request):
    """(member store, meeting records, put a member, add links)."""
    if request.param == "fake":
        members = FakeMemberStore()
        return members, FakeMeetingRecords(members.links), members.put, members.add_links
    request.getfixturevalue("table")
    from chalicelib.adapters.dynamodb.joining import member_item
    from chalicelib.adapters.dynamodb.meeting_business import DynamoMeetingRecords
    from chalicelib.adapters.dynamodb.membership import DynamoMemberStore
    from chalicelib.adapters.dynamodb.review import DynamoReviewStore

    def put(member: Member) -> Member:
        member_item(member).save()
        return member
    return DynamoMemberStore(), DynamoMeetingRecords(), put, DynamoReviewStore().add_links


def member(**changes) -> Member:
    return Member(**{**dict(member_id="NOR-1", force_id="northamptonshire", group_id="northampton", role=Role.MEMBER,
                            name="Ann Member", email="ann@example.org", phone="", joined_on=date(2026, 1, 5),
                            term_ends_on=date(2029, 1, 5), contact_preferences={"email": True},
                            screening=None, agreement_version="confidentiality-agreement@2026-11"), **changes})


def link(purpose=Purpose.STEP_DOWN, token_hash="a" * 64, expires=T0 + timedelta(days=1)) -> Link:
    return Link(token_hash, purpose, "northamptonshire", "NOR-1", "northampton", None, expires)


def test_a_member_stored_without_the_lifecycle_fields_reads_as_active_and_a_change_is_kept(stores):
    store, _, put, add_links = stores
    before = put(member())
    assert store.member("northamptonshire", "NOR-1", "northampton").standing is Status.ACTIVE
    add_links([link()])
    after = replace(changed(before, Change.STEP_DOWN, "Moving", T0.date()), optional_series=("Scrutiny panel",),
                    renewal={"asked_on": "2026-11-25"})
    store.save_change(before, after, MemberEvent("NOR-1", "northampton", "stepped_down", T0, "member", "Moving"),
                      link())
    read = store.member("northamptonshire", "NOR-1", "northampton")
    assert (read.standing, read.active, read.status_reason, read.status_on, read.changes) == (
        Status.STEPPED_DOWN, False, "Moving", T0.date(), 1)
    assert read.optional_series == ("Scrutiny panel",) and read.renewal == {"asked_on": "2026-11-25"}
    assert [e.what for e in store.member_events("northamptonshire", "NOR-1")] == ["stepped_down"]


def test_a_stale_change_or_a_spent_link_writes_nothing(stores):
    store, _, put, add_links = stores
    before = put(member())
    add_links([link()])
    suspended = changed(before, Change.SUSPEND, "Reason", T0.date())
    store.save_change(before, suspended, MemberEvent("NOR-1", "northampton", "suspended", T0, "op"))
    with pytest.raises(MemberConflict):
        store.save_change(before, changed(before, Change.REMOVE, "x", T0.date()),
                          MemberEvent("NOR-1", "northampton", "removed", T0 + timedelta(seconds=1), "op"))
    store.spend(link(), T0)
    with pytest.raises(LinkConflict):
        store.save_change(suspended, changed(suspended, Change.STEP_DOWN, "", T0.date()),
                          MemberEvent("NOR-1", "northampton", "stepped_down", T0 + timedelta(seconds=2), "member"),
                          link())
    assert store.member("northamptonshire", "NOR-1", "northampton").standing is Status.SUSPENDED
    assert len(store.member_events("northamptonshire", "NOR-1")) == 1


def test_an_answer_and_a_proposal_spend_their_links_once(stores):
    _, records, _, add_links = stores
    answer_link = link(Purpose.ATTENDANCE, "b" * 64)
    agenda_link = link(Purpose.AGENDA, "c" * 64)
    add_links([answer_link, agenda_link])
    records.record_answer("northamptonshire", "northampton", "m1", "NOR-1", Answer.APOLOGIES, T0, answer_link)
    with pytest.raises(LinkConflict):
        records.record_answer("northamptonshire", "northampton", "m1", "NOR-1", Answer.ATTENDING, T0, answer_link)
    assert records.answers("northamptonshire", "northampton", "m1") == {"NOR-1": Answer.APOLOGIES}
    items = [AgendaItem("Stop and search", "local_inspector", "Insp Local", T0),
             AgendaItem("Tension log", "local_inspector", "Insp Local", T0)]
    records.add_agenda_items("northamptonshire", "northampton", "m1", items, agenda_link)
    with pytest.raises(LinkConflict):
        records.add_agenda_items("northamptonshire", "northampton", "m1", items[:1], agenda_link)
    assert [i.title for i in records.agenda("northamptonshire", "northampton", "m1")] == ["Stop and search",
                                                                                        "Tension log"]
    assert records.agenda("northamptonshire", "northampton", "m2") == []


def test_papers_attendance_minutes_once_and_actions_closed_once(stores):
    _, records, _, _ = stores
    records.add_paper("northamptonshire", "northampton", "m1", Paper("a.pdf", "A", "papers/x/a.pdf", T0))
    records.add_paper("northamptonshire", "northampton", "m1", Paper("a.pdf", "A v2", "papers/x/a.pdf", T0))
    assert [p.title for p in records.papers("northamptonshire", "northampton", "m1")] == ["A v2"]
    assert records.attendance("northamptonshire", "northampton", "m1") is None
    records.confirm_attendance("northamptonshire", "northampton", "m1", ("NOR-1", "NOR-2"), "op", T0)
    assert records.attendance("northamptonshire", "northampton", "m1") == ("NOR-1", "NOR-2")
    action = Action("m1-1", "m1", "Feed back", "Ann", "ann@example.org", date(2026, 12, 20), True, T0.date())
    assert records.publish_minutes("northamptonshire", "northampton", "m1", Minutes("We met.", T0, "op", ("m1-1",)),
                                   [action])
    assert not records.publish_minutes("northamptonshire", "northampton", "m1", Minutes("Again", T0, "op"), [])
    assert records.minutes("northamptonshire", "northampton", "m1").text == "We met."
    assert records.actions("northamptonshire", "northampton") == [action]
    assert records.close_action("northamptonshire", "northampton", "m1-1", date(2026, 12, 1))
    assert not records.close_action("northamptonshire", "northampton", "m1-1", date(2026, 12, 2))
    assert records.actions("northamptonshire", "northampton")[0].closed_on == date(2026, 12, 1)
