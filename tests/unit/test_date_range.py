"""services.runtime.date_range: the days an event may name, and the instants."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from services.runtime.date_range import (
    DERIVED_SLACK,
    FIRST_DAY,
    LAST_DAY,
    describe,
    out_of_range,
)

_OFFSETS = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)


@given(st.dates())
def test_a_date_is_out_exactly_when_outside_the_range(day: dt.date) -> None:
    found = out_of_range({"day": day})
    assert found == (None if FIRST_DAY <= day <= LAST_DAY else ("day", day))


@given(st.datetimes(timezones=_OFFSETS))
def test_a_timestamp_is_out_exactly_when_its_instant_is_outside_the_range(
    instant: dt.datetime,
) -> None:
    first = dt.datetime.combine(FIRST_DAY, dt.time(), dt.UTC)
    end = dt.datetime.combine(LAST_DAY + dt.timedelta(days=1), dt.time(), dt.UTC)
    found = out_of_range({"day": FIRST_DAY, "at": instant})
    assert found == (None if first <= instant < end else ("at", instant))


def test_a_timestamp_past_pythons_dates_in_utc_is_out_and_described() -> None:
    instant = dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(-dt.timedelta(hours=5)))
    assert out_of_range({"occurred_at": instant}) == ("occurred_at", instant)
    assert describe("BenefitsGranted", "occurred_at", instant) == (
        "BenefitsGranted.occurred_at 9999-12-31T23:00:00-05:00 is outside"
        " 1900-01-01..2999-12-31 (its day in UTC)"
    )


def test_a_day_after_the_last_as_eligibility_derives_it_passes_with_the_slack() -> None:
    changes_on = LAST_DAY + dt.timedelta(days=1)  # valid_until LAST_DAY: a change next day
    assert out_of_range({"changes_on": changes_on}) == ("changes_on", changes_on)
    assert out_of_range({"changes_on": changes_on}, DERIVED_SLACK) is None
