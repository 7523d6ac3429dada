"""Computing PAI periods by the Polish Civil Code (Kodeks cywilny), on calendar dates.

Pure: no Kafka, HTTP or Avro. All dates are Europe/Warsaw calendar dates.

- Art. 112, a continuous period: a cycle that starts on day S lasts two months
  and ends on the day before the date that corresponds to S two months later;
  where that month has no such date, on the last day of that month.
- Art. 114, a non-continuous period: the 6-month cap counts a month as 30 days,
  so it is 180 days-equivalent; a full cycle uses 60, a cycle that ends early its
  actual days, start and end inclusive (never more than 60).
- Art. 115: a due date for the PUP to act that falls on a Saturday, Sunday or a
  Polish public holiday moves to the next working day. Program dates do not move.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from functools import lru_cache

import holidays

CYCLE_MONTHS = 2
FULL_CYCLE_DAYS = 60
CAP_DAYS = 180
ONE_DAY = dt.timedelta(days=1)


def add_months(day: dt.date, months: int) -> dt.date | None:
    """The date that corresponds to ``day`` ``months`` later, or None if that month lacks it."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if day.day > _calendar.monthrange(year, month)[1]:
        return None
    return dt.date(year, month, day.day)


def cycle_last_day(start: dt.date) -> dt.date:
    """Last day of a full 2-month cycle starting on ``start`` (art. 112 KC)."""
    corresponding = add_months(start, CYCLE_MONTHS)
    if corresponding is None:
        index = start.month - 1 + CYCLE_MONTHS
        year, month = start.year + index // 12, index % 12 + 1
        return dt.date(year, month, _calendar.monthrange(year, month)[1])
    return corresponding - ONE_DAY


def days_used(start: dt.date, ended_on: dt.date, full_last_day: dt.date) -> int:
    """Days-equivalent a cycle used of the cap (art. 114 KC).

    A cycle that ran to its full last day uses 60; one that ended earlier, its
    days from start to end inclusive, at most 60.
    """
    if ended_on >= full_last_day:
        return FULL_CYCLE_DAYS
    return min(FULL_CYCLE_DAYS, (ended_on - start).days + 1)


def planned_last_day(start: dt.date, days_left: int) -> dt.date | None:
    """Last day of a cycle with ``days_left`` of the cap: full (art. 112) or shortened to
    ``days_left`` calendar days when fewer than 60 remain; None when nothing remains."""
    if days_left <= 0:
        return None
    if days_left >= FULL_CYCLE_DAYS:
        return cycle_last_day(start)
    return start + dt.timedelta(days=days_left - 1)


@lru_cache(maxsize=64)
def _polish_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("PL", years=year))


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _polish_holidays(day.year)


def shift_to_working_day(day: dt.date) -> dt.date:
    """``day``, or the next working day when it is a Saturday, Sunday or holiday (art. 115 KC)."""
    while not is_working_day(day):
        day += ONE_DAY
    return day


def action_due(after: dt.date, days: int) -> dt.date:
    """The due date of a PUP action ``days`` after ``after``, shifted by art. 115 KC."""
    return shift_to_working_day(after + dt.timedelta(days=days))


def full_weeks(start: dt.date, last_day: dt.date) -> list[dt.date]:
    """Mondays of the weeks (Monday to Sunday) that lie wholly inside the cycle."""
    first_monday = start + dt.timedelta(days=(7 - start.weekday()) % 7)
    count = ((last_day - first_monday).days + 1) // 7
    return [first_monday + dt.timedelta(days=7 * n) for n in range(max(count, 0))]
