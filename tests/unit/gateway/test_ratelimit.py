"""The token bucket never lets through more than the burst plus the rate over the time."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from services.gateway.ratelimit import TokenBucket


@given(
    rate=st.floats(0.1, 100),
    burst=st.integers(1, 50),
    gaps=st.lists(st.floats(0, 2), min_size=1, max_size=300),
)
def test_accepted_requests_stay_within_burst_plus_rate(
    rate: float, burst: int, gaps: list[float]
) -> None:
    bucket = TokenBucket(rate, burst)
    now, accepted = 0.0, 0
    for gap in gaps:
        now += gap
        wait = bucket.take(now)
        if wait == 0:
            accepted += 1
        else:
            assert wait >= 1
            assert dataclasses.replace(bucket).take(now + wait) == 0  # Retry-After is enough
        assert accepted <= burst + rate * now + 1e-9


def test_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(1.0, 3)
    assert [bucket.take(0.0) for _ in range(4)] == [0, 0, 0, 1]
    assert bucket.take(1.0) == 0
