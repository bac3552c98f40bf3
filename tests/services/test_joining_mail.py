from datetime import datetime, timezone

from chalicelib.services.joining_mail import when


def test_times_in_emails_are_london_times_in_summer_and_winter():
    assert when(datetime(2027, 7, 1, 17, 30, tzinfo=timezone.utc)) == "Thursday 1 July 2027, 6:30pm"
    assert when(datetime(2027, 1, 12, 18, 0, tzinfo=timezone.utc)) == "Tuesday 12 January 2027, 6pm"
