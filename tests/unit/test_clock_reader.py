"""The ticks a worker's clock takes (review finding 6): a ``ClockTick`` outside
:mod:`services.runtime.date_range` is refused with reason ``date-out-of-range`` naming the
field, as an unreadable one is; every tick inside it is taken as it says. Real Avro bytes,
encoded as a producer encodes them."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.runtime.clock import TopicClock, warsaw_date
from services.runtime.clock_reader import read_tick
from services.runtime.codec import AvroCodec
from services.runtime.date_range import FIRST_DAY, LAST_DAY
from services.runtime.inbound import Inbound, Rejected, dead_letter
from services.runtime.topics import CLOCK
from tests.support import events as ev

CODEC = AvroCodec(CLOCK.schema or "clock")


def record(value: bytes | None) -> Inbound:
    return Inbound(CLOCK.name, 0, 7, b"", value)


def test_a_tick_past_the_range_is_dead_lettered_naming_the_field() -> None:
    """9999-12-31T23:30Z decodes, but its Warsaw date overflows in every timer."""
    inbound = record(ev.tick(dt.datetime(9999, 12, 31, 23, 30, tzinfo=dt.UTC)))
    with pytest.raises(Rejected) as caught:
        read_tick(inbound, CODEC)
    assert caught.value.reason == "date-out-of-range"
    assert "ClockTick.now 9999-12-31T23:30:00+00:00 is outside 1900-01-01..2999-12-31" in str(
        caught.value
    )
    letter = dead_letter("scheduler", inbound, caught.value)
    assert (letter.reason, letter.topic, letter.offset) == ("date-out-of-range", CLOCK.name, 7)
    assert letter.value == inbound.value, "the tick is kept whole in the dead letter"


def test_an_unreadable_tick_is_still_refused_as_undecodable() -> None:
    with pytest.raises(Rejected) as caught:
        read_tick(record(b"\x00garbage"), CODEC)
    assert caught.value.reason != "date-out-of-range"


@given(st.datetimes(min_value=dt.datetime(1899, 1, 1), max_value=dt.datetime(3001, 1, 1)))
def test_a_tick_is_taken_exactly_when_its_day_in_utc_lies_in_the_range(
    naive: dt.datetime,
) -> None:
    now = naive.replace(tzinfo=dt.UTC, microsecond=naive.microsecond // 1000 * 1000)
    inbound = record(ev.tick(now))
    if FIRST_DAY <= now.date() <= LAST_DAY:
        clock = TopicClock()
        assert clock.observe(read_tick(inbound, CODEC))
        assert clock.now() == now
        warsaw_date(now)  # what every timer computes from it: no overflow
    else:
        with pytest.raises(Rejected) as caught:
            read_tick(inbound, CODEC)
        assert caught.value.reason == "date-out-of-range"
        assert str(caught.value).startswith("ClockTick.now ")
