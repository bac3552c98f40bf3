from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
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


def meetings_of(series, after=TODAY, count=6, avoid=frozenset()) -> list[Meeting]:
    return upcoming("derbyshire", "derbyshire-iag", "Derbyshire Independent Advisory Group", series,
                    after=after, count=count, avoid=avoid)


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
    assert (first.venue, first.online_option) == ("Force Headquarters, Ripley", True)


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


# Bank holidays in England, written out so the domain tests need no adapter.
EARLY_MAY_2027 = date(2027, 5, 3)
EASTER_MONDAY_2027 = date(2027, 3, 29)
SUMMER_2026 = date(2026, 8, 31)


def mondays(week_of_month: int, interval_months: int = 1):
    return replace(series_named("IAG meeting"), weekday="monday", week_of_month=week_of_month,
                   interval_months=interval_months, first_month=1)


def test_a_meeting_on_a_bank_holiday_moves_a_week_later_keeping_its_london_time_and_takes_a_new_uid_key():
    after = datetime(2027, 4, 10, tzinfo=LONDON)
    [scheduled] = meetings_of(mondays(1), after=after, count=1)
    [moved] = meetings_of(mondays(1), after=after, count=1, avoid=frozenset({EARLY_MAY_2027}))
    assert local_starts([scheduled, moved]) == ["Mon 2027-05-03 18:30", "Mon 2027-05-10 18:30"]
    assert moved.starts_at.isoformat() == "2027-05-10T18:30:00+01:00"
    assert moved.ends_at - moved.starts_at == timedelta(minutes=120)
    assert scheduled.uid_key == "derbyshire.derbyshire-iag.iag-meeting.2027-05-03"
    assert moved.uid_key == "derbyshire.derbyshire-iag.iag-meeting.2027-05-10"


def test_a_meeting_moves_again_while_the_week_later_is_avoided_too():
    avoid = frozenset({EARLY_MAY_2027, date(2027, 5, 10)})
    meetings = meetings_of(mondays(1), after=datetime(2027, 4, 10, tzinfo=LONDON), count=3, avoid=avoid)
    assert local_starts(meetings) == ["Mon 2027-05-17 18:30", "Mon 2027-06-07 18:30", "Mon 2027-07-05 18:30"]


def test_a_meeting_moved_across_the_clock_change_keeps_its_london_time():
    # Last Monday of March 2027 is Easter Monday (BST from 28 March); it moves to 5 April, still 18:30.
    [april] = meetings_of(mondays(-1), after=datetime(2027, 3, 1, tzinfo=LONDON), count=1,
                          avoid=frozenset({EASTER_MONDAY_2027}))
    assert april.starts_at.isoformat() == "2027-04-05T18:30:00+01:00"
    assert april.uid_key.endswith(".2027-04-05")


def test_last_month_s_meeting_moved_into_this_month_is_still_upcoming():
    # The last Monday of August is always the summer bank holiday: 31 August 2026 moves to 7 September.
    after = datetime(2026, 9, 1, tzinfo=LONDON)
    meetings = meetings_of(mondays(-1), after=after, count=2, avoid=frozenset({SUMMER_2026}))
    assert local_starts(meetings) == ["Mon 2026-09-07 18:30", "Mon 2026-09-28 18:30"]
    assert local_starts(meetings_of(mondays(-1), after=after, count=1)) == ["Mon 2026-09-28 18:30"]


def test_a_meeting_is_only_moved_when_its_own_date_is_avoided():
    series = series_named("IAG meeting")
    avoid = frozenset({date(2027, 1, 11), date(2027, 1, 13), date(2027, 1, 19)})
    assert meetings_of(series, avoid=avoid) == meetings_of(series)


def test_meetings_whose_moves_run_into_one_another_are_one_meeting():
    avoid = frozenset(date(2027, 5, 3) + timedelta(weeks=n) for n in range(5))  # every Monday in May
    meetings = meetings_of(mondays(1), after=datetime(2027, 4, 10, tzinfo=LONDON), count=3, avoid=avoid)
    assert local_starts(meetings) == ["Mon 2027-06-07 18:30", "Mon 2027-07-05 18:30", "Mon 2027-08-02 18:30"]


def test_a_group_s_meetings_avoid_the_dates_given():
    force, group = derbyshire()
    avoid = frozenset({date(2026, 12, 17), date(2027, 1, 12)})
    meetings = upcoming_for_group(force, group, after=TODAY, count=3, avoid=avoid)
    assert [(m.title.split(": ")[1], m.starts_at.date().isoformat()) for m in meetings] == [
        ("Scrutiny panel", "2026-12-24"), ("IAG meeting", "2027-01-19"), ("Scrutiny panel", "2027-01-21"),
    ]
