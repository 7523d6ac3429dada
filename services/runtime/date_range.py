"""The calendar days an event may name: what every service and the gateway accept.

Pure. Python's dates end at 9999-12-31 and the rules add months and years to the
dates of an event (a benefit's end, a review, a cycle's weeks), so a date near
either end overflows inside the rules instead of being refused. No legal date of
these services comes near: an event's dates must lie within
:data:`FIRST_DAY`..:data:`LAST_DAY`, far from both ends and wide enough for any
real date (the oldest registration, the furthest end of a benefit) and for the
tests' far eras (up to 2400).

Timestamps (``occurred_at``) are held to the same range by their day in UTC: the
services order the events of a grant, a contract or a registration by them, date
decisions by them when no clock has ticked and compare them with erasures, so one
``occurred_at`` in the year 9999 would make the later real events of its grant or
contract look stale (and itself sit after any erasure) instead of being refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)
RANGE = f"{FIRST_DAY}..{LAST_DAY}"
"""The range as the refusals state it."""


DERIVED_SLACK = dt.timedelta(days=366)
"""How far past the range a date a service derives from the dates of an event may lie
(eligibility's ``changes_on`` is a ``valid_until`` plus a day): the scheduler accepts
eligibility's decisions within this much more."""


def day_of(value: dt.date) -> dt.date | None:
    """The day a field names: a date itself, a timestamp its day in UTC (a naive one as
    written); None for a timestamp whose day in UTC lies past Python's dates
    (``9999-12-31T23:00:00-05:00``)."""
    if not isinstance(value, dt.datetime):
        return value
    if value.tzinfo is None:
        return value.date()
    try:
        return value.astimezone(dt.UTC).date()
    except OverflowError:
        return None


def out_of_range(
    fields: Mapping[str, Any], slack: dt.timedelta = dt.timedelta(0)
) -> tuple[str, dt.date] | None:
    """The first date or timestamp field (name, value) outside the range (widened by
    ``slack`` either way), in field order; None if none."""
    first, last = FIRST_DAY - slack, LAST_DAY + slack
    for name, value in fields.items():
        if isinstance(value, dt.date):
            day = day_of(value)
            if day is None or not first <= day <= last:
                return name, value
    return None


def describe(event_type: str, name: str, value: dt.date) -> str:
    if isinstance(value, dt.datetime):
        return f"{event_type}.{name} {value.isoformat()} is outside {RANGE} (its day in UTC)"
    return f"{event_type}.{name} {value} is outside {RANGE}"
