"""Who is screened, and when an earlier result is enough."""
from datetime import date

from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.domain.screening import Outcome, add_months, needs_screening, result

FORCES = FileForceCatalogue()
TODAY = date(2026, 11, 22)


def test_only_groups_whose_profile_asks_are_screened():
    avon = FORCES.get("avon-and-somerset")
    assert not needs_screening(avon, "bristol", None, TODAY)
    assert needs_screening(avon, "counter-terrorism", None, TODAY)
    assert needs_screening(FORCES.get("northamptonshire"), "northampton", None, TODAY)
    assert not needs_screening(FORCES.get("derbyshire"), "derbyshire-iag", None, TODAY)


def test_a_clear_or_referred_result_settles_screening_until_it_expires():
    force = FORCES.get("northamptonshire")
    for outcome in (Outcome.CLEAR, Outcome.REFER):
        earlier = result(force, "northampton", outcome, TODAY)
        assert not needs_screening(force, "northampton", earlier, TODAY)
        assert needs_screening(force, "northampton", earlier, earlier.expires_on)
    not_done = result(force, "northampton", Outcome.NOT_COMPLETED, TODAY)
    assert needs_screening(force, "northampton", not_done, TODAY)


def test_a_basic_check_does_not_stand_in_for_the_limited_screening_of_counter_terrorism():
    avon = FORCES.get("avon-and-somerset")
    basic = result(FORCES.get("northamptonshire"), "northampton", Outcome.CLEAR, TODAY)
    assert basic.level == "basic"
    assert needs_screening(avon, "counter-terrorism", basic, TODAY)
    assert not needs_screening(avon, "counter-terrorism", result(avon, "counter-terrorism", Outcome.CLEAR, TODAY),
                               TODAY)


def test_a_result_expires_after_the_profiles_months_even_from_the_end_of_a_month():
    assert result(FORCES.get("northamptonshire"), "northampton", Outcome.CLEAR, TODAY).expires_on == date(2029, 11, 22)
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
