import sys
from datetime import date

import pytest

from chalicelib.adapters.bank_holidays import bank_holidays


@pytest.mark.parametrize("day", [
    date(2027, 3, 26),  # Good Friday
    date(2027, 3, 29),  # Easter Monday
    date(2027, 5, 3),  # early May
    date(2027, 5, 31),  # spring
    date(2027, 8, 30),  # summer
    date(2026, 12, 28),  # Boxing Day falls on a Saturday: substitute Monday
    date(2023, 5, 8),  # the coronation of King Charles III, a one-off
])
def test_england_s_bank_holidays_include_the_moving_substitute_and_one_off_ones(day):
    assert day in bank_holidays(range(2023, 2028))


def test_only_the_years_asked_for_are_given():
    days = bank_holidays([2027])
    assert {d.year for d in days} == {2027}
    assert date(2023, 5, 8) not in days and date(2026, 12, 28) not in days


def test_an_ordinary_day_is_not_a_bank_holiday():
    assert date(2027, 5, 10) not in bank_holidays([2027])


def test_england_and_wales_share_their_bank_holidays():
    assert bank_holidays(range(2026, 2028), "WLS") == bank_holidays(range(2026, 2028))


def test_scotland_and_northern_ireland_have_their_own():
    scotland, northern_ireland = bank_holidays([2027], "SCT"), bank_holidays([2027], "NIR")
    assert date(2027, 1, 4) in scotland and date(2027, 11, 30) in scotland  # 2 January's substitute, St Andrew's
    assert date(2027, 3, 29) not in scotland  # no Easter Monday
    assert date(2027, 3, 17) in northern_ireland and date(2027, 7, 12) in northern_ireland
    assert date(2027, 3, 17) not in bank_holidays([2027])


def test_the_dates_are_a_frozenset_of_dates_for_meetings_to_avoid():
    days = bank_holidays([2027])
    assert isinstance(days, frozenset) and all(type(d) is date for d in days)


def test_an_unknown_subdivision_is_refused():
    with pytest.raises(ValueError, match="SCT"):
        bank_holidays([2027], "XYZ")


def test_importing_the_adapter_does_not_load_the_holidays_package():
    # A fresh interpreter, since other tests here have already loaded it.
    import subprocess

    code = "import sys, chalicelib.adapters.bank_holidays; print('holidays' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
