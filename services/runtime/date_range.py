"""The calendar days an event may name: what every service and the gateway accept.

Pure. Python's dates end at 9999-12-31 and the rules add months and years to the
dates of an event (a benefit's end, a review, a cycle's weeks), so a date near
either end overflows inside the rules instead of being refused. No legal date of
these services comes near: an event's dates must lie within
:data:`FIRST_DAY`..:data:`LAST_DAY`, far from both ends and wide enough for any
real date (the oldest registration, the furthest end of a benefit) and for the
tests' far eras (up to 2400).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


DERIVED_SLACK = dt.timedelta(days=366)
"""How far past the range a date a service derives from the dates of an event may lie
(eligibility's ``changes_on`` is a ``valid_until`` plus a day): the scheduler accepts
eligibility's decisions within this much more."""


def out_of_range(
    fields: Mapping[str, Any], slack: dt.timedelta = dt.timedelta(0)
) -> tuple[str, dt.date] | None:
    """The first date field (name, value) outside the range (widened by ``slack`` either
    way), in field order; None if none. Timestamps (datetimes) are not dates here."""
    first, last = FIRST_DAY - slack, LAST_DAY + slack
    for name, value in fields.items():
        is_day = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
        if is_day and not first <= value <= last:
            return name, value
    return None


def describe(event_type: str, name: str, value: dt.date) -> str:
    return f"{event_type}.{name} {value} is outside {FIRST_DAY}..{LAST_DAY}"
