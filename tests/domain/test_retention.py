from datetime import date, datetime, timezone

import pytest

from chalicelib.domain.lifecycle import ENDED, Stage
from chalicelib.domain.retention import (
    Fate, deletion_date, due_for_deletion, earliest_undue_submission, fate, is_unsuccessful,
)

DECIDED = datetime(2026, 5, 22, 9, 0, tzinfo=timezone.utc)  # 10:00 in London


@pytest.mark.parametrize("today, due", [
    (date(2026, 11, 21), False),  # a day before six months
    (date(2026, 11, 22), True),
    (date(2026, 11, 23), True),
])
def test_an_unsuccessful_application_is_due_six_months_after_its_decision(today, due):
    assert due_for_deletion(Stage.REJECTED, DECIDED, 6, today) is due


@pytest.mark.parametrize("stage", [Stage.INELIGIBLE, Stage.REJECTED, Stage.APPEAL_DISMISSED, Stage.WITHDRAWN,
                                   Stage.EXPIRED])
def test_every_unsuccessful_stage_is_deleted(stage):
    assert deletion_date(stage, DECIDED, 6) == date(2026, 11, 22)


@pytest.mark.parametrize("stage", [s for s in Stage if s not in
                                   (Stage.INELIGIBLE, Stage.REJECTED, Stage.APPEAL_DISMISSED, Stage.WITHDRAWN,
                                    Stage.EXPIRED)])
def test_live_redirected_and_member_applications_are_never_due(stage):
    assert deletion_date(stage, DECIDED, 6) is None
    assert not due_for_deletion(stage, DECIDED, 6, date(2040, 1, 1))


def test_every_ended_stage_is_unsuccessful():
    assert all(is_unsuccessful(s) for s in ENDED)


def test_the_decision_day_is_the_london_day():
    winter_evening = datetime(2026, 2, 28, 23, 30, tzinfo=timezone.utc)  # winter: London is UTC
    summer_night = datetime(2026, 6, 30, 23, 30, tzinfo=timezone.utc)  # 00:30 on 1 July in London
    assert deletion_date(Stage.WITHDRAWN, winter_evening, 6) == date(2026, 8, 28)
    assert deletion_date(Stage.WITHDRAWN, summer_night, 6) == date(2027, 1, 1)


def test_a_month_end_decision_is_due_on_the_last_day_of_a_shorter_month():
    assert deletion_date(Stage.EXPIRED, datetime(2026, 8, 31, 12, tzinfo=timezone.utc), 6) == date(2027, 2, 28)


@pytest.mark.parametrize("item_type, on_retention, on_erasure", [
    ("application", Fate.DELETE, Fate.ANONYMISE),
    ("event", Fate.DELETE, Fate.KEEP),
    ("equality", Fate.DELETE, Fate.DELETE),
    ("screening", Fate.DELETE, Fate.DELETE),
    ("appeal", Fate.DELETE, Fate.DELETE),
    ("agreement", Fate.DELETE, Fate.ANONYMISE),
    ("member", Fate.KEEP, Fate.DELETE),
    ("candidate", Fate.KEEP, Fate.ANONYMISE),
    ("access", Fate.KEEP, Fate.KEEP),  # operators' reads: never removed
    ("deleted_count", Fate.KEEP, Fate.KEEP),
])
def test_what_happens_to_each_kind_of_item(item_type, on_retention, on_erasure):
    assert fate(item_type, erasure=False) is on_retention
    assert fate(item_type, erasure=True) is on_erasure


@pytest.mark.parametrize("decided", [date(2026, 5, 22), date(2026, 8, 31), date(2025, 8, 31), date(2026, 2, 28)])
def test_anything_due_today_was_submitted_before_the_index_bound(decided):
    today = deletion_date(Stage.WITHDRAWN, datetime(decided.year, decided.month, decided.day, 12,
                                                    tzinfo=timezone.utc), 6)
    assert decided < earliest_undue_submission(today, 6)
