"""Periods by the Civil Code: art. 112 cycle ends, art. 114 cap accounting, art. 115 shifts."""

from __future__ import annotations

import datetime as dt

import pytest

from services.scheduler.calendar import (
    CAP_DAYS,
    action_due,
    cycle_last_day,
    days_used,
    full_weeks,
    planned_last_day,
    shift_to_working_day,
)

D = dt.date


@pytest.mark.parametrize(
    ("start", "last"),
    [  # SPEC.md's examples
        (D(2026, 1, 15), D(2026, 3, 14)),
        (D(2026, 1, 1), D(2026, 2, 28)),
        (D(2026, 1, 31), D(2026, 3, 30)),
        (D(2025, 12, 29), D(2026, 2, 28)),
        (D(2025, 12, 31), D(2026, 2, 28)),
        (D(2027, 12, 30), D(2028, 2, 29)),
        (D(2026, 11, 1), D(2026, 12, 31)),
        # more month ends and leap years
        (D(2027, 12, 29), D(2028, 2, 28)),  # 29 Feb 2028 exists: the day before it
        (D(2027, 12, 31), D(2028, 2, 29)),
        (D(2026, 12, 31), D(2027, 2, 28)),
        (D(2026, 7, 31), D(2026, 9, 30)),  # 31 Sep does not exist
        (D(2026, 8, 31), D(2026, 10, 30)),
        (D(2026, 2, 28), D(2026, 4, 27)),
    ],
)
def test_a_cycle_ends_the_day_before_the_corresponding_date(start: dt.date, last: dt.date) -> None:
    assert cycle_last_day(start) == last


def test_a_full_cycle_uses_60_and_an_early_end_its_inclusive_days() -> None:
    start = D(2026, 1, 15)
    last = cycle_last_day(start)  # 59 calendar days, still 60 days-equivalent
    assert days_used(start, last, last) == 60
    assert days_used(start, D(2026, 1, 15), last) == 1
    assert days_used(start, D(2026, 2, 13), last) == 30
    # a 62-day cycle ended on its 61st day is still capped at 60
    long_start = D(2026, 7, 1)
    long_last = cycle_last_day(long_start)
    assert (long_last - long_start).days + 1 == 62
    assert days_used(long_start, long_last - dt.timedelta(days=1), long_last) == 60


def test_three_full_cycles_use_the_cap_exactly() -> None:
    used, start = 0, D(2026, 1, 1)
    for _ in range(3):
        last = planned_last_day(start, CAP_DAYS - used)
        assert last is not None
        used += days_used(start, last, cycle_last_day(start))
        start = last + dt.timedelta(days=10)
    assert used == CAP_DAYS
    assert planned_last_day(start, CAP_DAYS - used) is None


def test_after_early_ends_the_last_cycle_is_shortened_to_the_days_left() -> None:
    used, start = 0, D(2026, 1, 1)
    ends = [D(2026, 2, 9), D(2026, 4, 3)]  # 40 days each: 1 Jan-9 Feb, 23 Feb-3 Apr
    for end in ends:
        last = planned_last_day(start, CAP_DAYS - used)
        assert last == cycle_last_day(start)
        used += days_used(start, end, last)
        start = end + dt.timedelta(days=14)
    assert used == 80
    # 100 left: a full cycle
    last = planned_last_day(start, CAP_DAYS - used)
    assert last == cycle_last_day(start)
    used += days_used(start, last, last)
    assert used == 140
    # 40 left: a cycle of 40 calendar days
    start = D(2026, 8, 3)
    assert planned_last_day(start, CAP_DAYS - used) == D(2026, 9, 11)


@pytest.mark.parametrize(
    ("due", "shifted"),
    [
        (D(2026, 3, 4), D(2026, 3, 4)),  # a Wednesday
        (D(2026, 3, 7), D(2026, 3, 9)),  # Saturday -> Monday
        (D(2026, 3, 8), D(2026, 3, 9)),  # Sunday -> Monday
        (D(2026, 4, 5), D(2026, 4, 7)),  # Easter Sunday, Easter Monday -> Tuesday
        (D(2026, 12, 24), D(2026, 12, 28)),  # Christmas Eve (a holiday from 2025) .. Sunday 27
        (D(2026, 11, 11), D(2026, 11, 12)),  # Independence Day, a Wednesday
        (D(2027, 1, 1), D(2027, 1, 4)),  # New Year (Friday), weekend
        (D(2026, 5, 1), D(2026, 5, 4)),  # 1 May (Friday), 2-3 May weekend and holiday
    ],
)
def test_due_dates_move_to_the_next_working_day(due: dt.date, shifted: dt.date) -> None:
    assert shift_to_working_day(due) == shifted


def test_the_profile_review_is_due_7_days_after_the_cycle_shifted() -> None:
    assert action_due(D(2026, 3, 14), 7) == D(2026, 3, 23)  # 21 March is a Saturday
    assert action_due(D(2026, 3, 16), 7) == D(2026, 3, 23)


def test_full_weeks_are_the_monday_to_sunday_weeks_inside_the_cycle() -> None:
    weeks = full_weeks(D(2026, 1, 15), D(2026, 3, 14))  # Thursday .. Saturday
    assert weeks[0] == D(2026, 1, 19) and weeks[-1] == D(2026, 3, 2)
    assert len(weeks) == 7
    assert full_weeks(D(2026, 3, 2), D(2026, 3, 8)) == [D(2026, 3, 2)]
    assert full_weeks(D(2026, 3, 3), D(2026, 3, 9)) == []
