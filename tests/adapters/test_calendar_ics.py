from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar

from chalicelib.adapters.calendar_ics import calendar_file
from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.domain.meetings import upcoming

TODAY = datetime(2026, 11, 22, 10, 30, tzinfo=timezone.utc)


@pytest.fixture
def meetings():
    """Derbyshire's next 6 IAG meetings, January to November 2027: GMT, then BST, then GMT again."""
    force = FileForceCatalogue().get("derbyshire")
    group = force.group("derbyshire-iag")
    return upcoming(force.id, group.id, group.name, group.meetings[0], after=TODAY, count=6)


def parsed(meetings, **options) -> Calendar:
    options = {"calendar_name": "Derbyshire IAG meetings", "stamp": TODAY, **options}
    return Calendar.from_ical(calendar_file(meetings, **options))


def test_the_calendar_names_its_product_version_method_and_title(meetings):
    calendar = parsed(meetings, method="request")
    assert str(calendar["PRODID"]) == "-//IAG Back Office//EN"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(calendar["X-WR-CALNAME"]) == "Derbyshire IAG meetings"


def test_each_meeting_becomes_an_event_at_its_london_time(meetings):
    events = parsed(meetings).events
    assert [e.start for e in events] == [m.starts_at for m in meetings]
    assert [e.end for e in events] == [m.ends_at for m in meetings]
    assert all(str(e.start.tzinfo) == "Europe/London" for e in events)
    january, may = events[0].start, events[2].start
    assert (january.hour, january.minute, january.utcoffset()) == (18, 30, timedelta(0))
    assert (may.hour, may.minute, may.utcoffset()) == (18, 30, timedelta(hours=1))


def test_the_file_says_its_times_are_in_london_time(meetings):
    raw = calendar_file(meetings, calendar_name="Derbyshire IAG meetings")
    assert b"DTSTART;TZID=Europe/London:20270112T183000" in raw
    assert b"DTSTART;TZID=Europe/London:20270511T183000" in raw


def test_the_file_carries_the_london_time_zone_with_its_clock_changes(meetings):
    calendar = parsed(meetings)
    assert [tz.tz_name for tz in calendar.timezones] == ["Europe/London"]
    assert calendar.get_missing_tzids() == set()
    rules = calendar.timezones[0].to_tz(lookup_tzid=False)  # from the VTIMEZONE alone, not the tz database
    assert datetime(2027, 3, 9, 18, 30, tzinfo=rules).utcoffset() == timedelta(0)
    assert datetime(2027, 5, 11, 18, 30, tzinfo=rules).utcoffset() == timedelta(hours=1)
    assert datetime(2027, 11, 9, 18, 30, tzinfo=rules).utcoffset() == timedelta(0)


def test_each_event_says_what_where_and_whether_online(meetings):
    event = parsed(meetings, organiser_email="helen.ham@derbyshire.police.uk").events[0]
    assert str(event["SUMMARY"]) == "Derbyshire Independent Advisory Group: IAG meeting"
    assert str(event["LOCATION"]) == "Force Headquarters, Ripley, or online"  # as Derbyshire's seed says
    assert "Force Headquarters" in str(event["DESCRIPTION"])
    assert str(event["ORGANIZER"]) == "mailto:helen.ham@derbyshire.police.uk"
    assert event.stamp == TODAY


def test_uids_are_unique_and_the_same_in_every_build(meetings):
    first, second = parsed(meetings), parsed(meetings, stamp=TODAY + timedelta(days=3))
    uids = [e.uid for e in first.events]
    assert len(set(uids)) == 6
    assert uids == [e.uid for e in second.events]
    assert uids[0] == "derbyshire.derbyshire-iag.iag-meeting.2027-01-12@iag-backoffice"


def test_a_rebuild_with_a_higher_sequence_keeps_the_uids_so_it_replaces_the_events(meetings):
    original, update = parsed(meetings), parsed(meetings, sequence=1)
    assert [e.uid for e in update.events] == [e.uid for e in original.events]
    assert {e.sequence for e in original.events} == {0}
    assert {e.sequence for e in update.events} == {1}


def test_no_meetings_make_an_empty_calendar():
    calendar = parsed([])
    assert calendar.events == [] and calendar.timezones == []
