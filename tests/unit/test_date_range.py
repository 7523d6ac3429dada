"""services.runtime.date_range: the days an event may name."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from services.runtime.date_range import DERIVED_SLACK, FIRST_DAY, LAST_DAY, out_of_range


@given(st.dates(), st.datetimes())
def test_a_date_is_out_exactly_when_outside_the_range_and_timestamps_never(
    day: dt.date, instant: dt.datetime
) -> None:
    found = out_of_range({"at": instant, "day": day})
    assert found == (None if FIRST_DAY <= day <= LAST_DAY else ("day", day))


def test_a_day_after_the_last_as_eligibility_derives_it_passes_with_the_slack() -> None:
    changes_on = LAST_DAY + dt.timedelta(days=1)  # valid_until LAST_DAY: a change next day
    assert out_of_range({"changes_on": changes_on}) == ("changes_on", changes_on)
    assert out_of_range({"changes_on": changes_on}, DERIVED_SLACK) is None
