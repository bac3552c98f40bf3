"""Each group's meetings planned from its cadence and sent to members as calendar invitations; a move or a
cancellation keeps the event's UID and raises its SEQUENCE, so calendars update rather than duplicate."""
from __future__ import annotations

import email
import email.policy
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.joining import member_item
from chalicelib.domain.meeting_plans import MeetingChangeRefused
from chalicelib.domain.membership import Member, Role
from tests.conftest import sent_emails

LONDON = ZoneInfo("Europe/London")


def member(member_id: str, active: bool = True) -> None:
    member_item(Member(member_id, "northamptonshire", "northampton", Role.MEMBER, f"Member {member_id}",
                        f"{member_id.lower()}@example.org", "", date(2026, 1, 5), date(2029, 1, 5), {}, None,
                        "confidentiality-agreement@2026-11", active)).save()


def calendars(to: str) -> list[tuple[str, icalendar.Calendar]]:
    found = []
    for raw in (m for m in sent_emails() if hasattr(m, "raw_data") and to in m.destinations):
        message = email.message_from_string(raw.raw_data, policy=email.policy.default)
        [ics] = list(message.iter_attachments())
        found.append((message["Subject"], icalendar.Calendar.from_ical(ics.get_payload(decode=True))))
    return found


@pytest.fixture
def meetings(api):
    member("NOR-1")
    member("NOR-2")
    member("NOR-9", active=False)
    return bootstrap.container().meetings


def test_meetings_are_planned_off_bank_holidays_and_each_member_is_invited_once(meetings):
    planned = meetings.plan("northamptonshire", "northampton")
    starts = [p.meeting.starts_at for p in planned]
    assert len(planned) == 6 and starts == sorted(starts)
    # Second Monday of every other month at 18:30 London time, from January 2027.
    assert [s.date() for s in starts[:3]] == [date(2027, 1, 11), date(2027, 3, 8), date(2027, 5, 10)]
    assert {s.astimezone(LONDON).strftime("%H:%M") for s in starts} == {"18:30"}
    assert meetings.tell_members("northamptonshire", "northampton") == 12
    assert meetings.plan_and_tell("northamptonshire")["sent"] == 0  # daily runs send nothing again
    assert not calendars("nor-9@example.org")  # a former member is not invited
    subject, calendar = calendars("nor-1@example.org")[0]
    assert calendar["METHOD"] == "REQUEST" and subject.startswith("Northampton IAG: Monday 11 January 2027")
    [first] = [m for m in sent_emails() if hasattr(m, "raw_data") and "nor-1@example.org" in m.destinations][:1]
    text = email.message_from_string(first.raw_data, policy=email.policy.default).get_body(("plain",)).get_content()
    assert "agenda is agreed by the IAG Chair and the Local Neighbourhood Policing Inspector" in text


def test_a_moved_meeting_keeps_its_uid_with_a_higher_sequence_and_a_cancellation_cancels_it(meetings, clock):
    first, second = meetings.plan("northamptonshire", "northampton")[:2]
    meetings.tell_members("northamptonshire", "northampton")
    uid = first.meeting.uid_key
    meetings.reschedule("northamptonshire", "northampton", uid, datetime(2027, 1, 18, 18, 30, tzinfo=LONDON),
                        "The room was double-booked.")
    # A change made from an out-of-date copy is refused.
    assert not bootstrap.container().meeting_store.change("northamptonshire", "northampton", first, first,
                                                          clock.now())
    meetings.cancel("northamptonshire", "northampton", second.meeting.uid_key, "Too few can come.")
    sent = {subject: calendar for subject, calendar in calendars("nor-2@example.org")}
    [moved] = [c for s, c in sent.items() if s.startswith("Moved:")]
    [event] = moved.walk("VEVENT")
    assert str(event["UID"]).startswith(uid) and event["SEQUENCE"] == 1
    assert event.decoded("dtstart") == datetime(2027, 1, 18, 18, 30, tzinfo=LONDON)
    [cancelled] = [c for s, c in sent.items() if s.startswith("Cancelled:")]
    assert cancelled["METHOD"] == "CANCEL" and cancelled.walk("VEVENT")[0]["STATUS"] == "CANCELLED"
    with pytest.raises(MeetingChangeRefused):
        meetings.reschedule("northamptonshire", "northampton", second.meeting.uid_key,
                            datetime(2027, 3, 15, 18, 30, tzinfo=LONDON), "")
    assert len(calendars("nor-2@example.org")) == 6 + 2


def test_an_extraordinary_meeting_after_an_incident_goes_to_every_member(meetings):
    extra = meetings.extraordinary("northamptonshire", "northampton", datetime(2026, 11, 24, 19, 0, tzinfo=LONDON),
                                   90, "Campbell Square police station", True, "Community tension after Saturday.")
    assert extra.meeting.starts_at.utcoffset() == timedelta(0)
    assert [s for s, _ in calendars("nor-1@example.org") if "Tuesday 24 November 2026 at 19:00" in s]
    with pytest.raises(MeetingChangeRefused):
        meetings.extraordinary("northamptonshire", "northampton", datetime(2026, 11, 1, 19, 0, tzinfo=LONDON),
                               90, "x", False, "In the past")
