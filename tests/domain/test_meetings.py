from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.domain.meetings import Meeting, upcoming, upcoming_for_group

LONDON = ZoneInfo("Europe/London")
TODAY = datetime(2026, 11, 22, 10, 30, tzinfo=timezone.utc)


def derbyshire():
    force = FileForceCatalogue().get("derbyshire")
    return force, force.group("derbyshire-iag")


def series_named(name: str):
    _, group = derbyshire()
    return next(s for s in group.meetings if s.name == name)


def meetings_of(series, after=TODAY, count=6) -> list[Meeting]:
    return upcoming("derbyshire", "derbyshire-iag", "Derbyshire Independent Advisory Group", series,
                    after=after, count=count)


def local_starts(meetings: list[Meeting]) -> list[str]:
    return [m.starts_at.astimezone(LONDON).strftime("%a %Y-%m-%d %H:%M") for m in meetings]


def test_derbyshire_meets_on_the_second_tuesday_of_every_other_month():
    meetings = meetings_of(series_named("IAG meeting"))
    assert local_starts(meetings) == [
        "Tue 2027-01-12 18:30", "Tue 2027-03-09 18:30", "Tue 2027-05-11 18:30",
        "Tue 2027-07-13 18:30", "Tue 2027-09-14 18:30", "Tue 2027-11-09 18:30",
    ]
    first = meetings[0]
    assert first.uid_key == "derbyshire.derbyshire-iag.iag-meeting.2027-01-12"
    assert first.title == "Derbyshire Independent Advisory Group: IAG meeting"
    assert first.ends_at - first.starts_at == timedelta(minutes=120)
    assert (first.venue, first.online_option) == ("Force Headquarters, Butterley Hall, Ripley DE5 3RS", True)


def test_derbyshire_scrutiny_panel_meets_on_the_third_thursday_of_every_month_at_ten():
    meetings = meetings_of(series_named("Scrutiny panel"), count=4)
    # 19 November 2026 is the third Thursday but falls before TODAY.
    assert local_starts(meetings) == [
        "Thu 2026-12-17 10:00", "Thu 2027-01-21 10:00", "Thu 2027-02-18 10:00", "Thu 2027-03-18 10:00",
    ]
    assert meetings[0].uid_key == "derbyshire.derbyshire-iag.scrutiny-panel.2026-12-17"
    assert meetings[0].ends_at - meetings[0].starts_at == timedelta(minutes=180)


def test_meetings_are_aware_london_times():
    for meeting in meetings_of(series_named("IAG meeting")):
        assert meeting.starts_at.tzinfo == LONDON and meeting.ends_at.tzinfo == LONDON


def test_a_meeting_after_the_clock_change_keeps_its_local_time_and_moves_in_utc():
    # Clocks go forward on 28 March 2027: 9 March is GMT, 11 May BST.
    march, may = meetings_of(series_named("IAG meeting"))[1:3]
    assert march.starts_at.isoformat() == "2027-03-09T18:30:00+00:00"
    assert may.starts_at.isoformat() == "2027-05-11T18:30:00+01:00"
    assert march.starts_at.utcoffset() == timedelta(0)
    assert may.starts_at.utcoffset() == timedelta(hours=1)
    assert may.starts_at.astimezone(timezone.utc).hour == 17
    assert may.ends_at.isoformat() == "2027-05-11T20:30:00+01:00"


def test_a_last_weekday_series_meets_on_the_last_such_day_whether_the_month_has_four_or_five():
    last_tuesdays = replace(series_named("IAG meeting"), week_of_month=-1)
    # November 2026 and January 2027 have four Tuesdays, March 2027 five; 24 November is after TODAY.
    assert local_starts(meetings_of(last_tuesdays, count=3)) == [
        "Tue 2026-11-24 18:30", "Tue 2027-01-26 18:30", "Tue 2027-03-30 18:30",
    ]


def test_meeting_months_wrap_through_the_year_from_the_first_month():
    quarterly_from_april = replace(series_named("IAG meeting"), interval_months=3, first_month=4)
    starts = local_starts(meetings_of(quarterly_from_april, count=4))
    assert [s[4:11] for s in starts] == ["2027-01", "2027-04", "2027-07", "2027-10"]


@pytest.mark.parametrize("missing", ["weekday", "week_of_month", "start_time", "first_month", "duration_minutes"])
def test_a_series_without_a_schedule_has_no_dates(missing):
    assert meetings_of(replace(series_named("IAG meeting"), **{missing: None})) == []


def test_only_the_number_of_meetings_asked_for_are_given():
    series = series_named("IAG meeting")
    assert len(meetings_of(series, count=2)) == 2
    assert meetings_of(series, count=0) == []


def test_a_meeting_exactly_at_after_is_not_upcoming():
    series = series_named("IAG meeting")
    january = datetime(2027, 1, 12, 18, 30, tzinfo=LONDON)
    assert local_starts(meetings_of(series, after=january, count=1)) == ["Tue 2027-03-09 18:30"]
    assert local_starts(meetings_of(series, after=january - timedelta(seconds=1), count=1)) == ["Tue 2027-01-12 18:30"]


def test_after_may_be_given_in_any_time_zone():
    series = series_named("IAG meeting")
    same_moment = datetime(2027, 5, 11, 17, 30, tzinfo=timezone.utc)  # 18:30 BST
    assert local_starts(meetings_of(series, after=same_moment, count=1)) == ["Tue 2027-07-13 18:30"]


def test_a_group_s_meetings_merge_its_series_earliest_first():
    force, group = derbyshire()
    meetings = upcoming_for_group(force, group, after=TODAY, count=6)
    assert [(m.title.split(": ")[1], m.starts_at.date().isoformat()) for m in meetings] == [
        ("Scrutiny panel", "2026-12-17"), ("IAG meeting", "2027-01-12"), ("Scrutiny panel", "2027-01-21"),
        ("Scrutiny panel", "2027-02-18"), ("IAG meeting", "2027-03-09"), ("Scrutiny panel", "2027-03-18"),
    ]
