"""Signatures made by the standardwebhooks library verify; anything else is a 401 reason."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.gateway.authentication import ReplayGuard, Unauthorized, cap_for, verify
from services.gateway.ratelimit import TokenBucket
from services.runtime.signing import secret_key
from tests.support.gateway import INBOUND_SECRET, OTHER_INBOUND_SECRET, signed_headers

KEYS = (secret_key(INBOUND_SECRET),)


def reason(headers: dict[str, str], body: bytes, keys=KEYS, now: float | None = None) -> str:
    with pytest.raises(Unauthorized) as refused:
        verify(headers, body, keys, time.time() if now is None else now)
    return refused.value.reason


def test_the_librarys_signature_verifies_also_during_a_rotation() -> None:
    body = b'{"type": "BenefitsGranted"}'
    headers = signed_headers(body)
    assert verify(headers, body, KEYS, time.time()) == headers["webhook-id"]
    rotated = (secret_key(OTHER_INBOUND_SECRET), *KEYS)
    assert verify(headers, body, rotated, time.time()) == headers["webhook-id"]
    both = signed_headers(body, OTHER_INBOUND_SECRET, webhook_id=headers["webhook-id"])
    headers["webhook-signature"] += " " + both["webhook-signature"]
    assert verify(headers, body, KEYS, time.time())


def test_refusals() -> None:
    body = b"{}"
    good = signed_headers(body)
    assert reason({}, body) == "missing-headers"
    assert reason(good, body + b" ") == "bad-signature"
    assert reason(signed_headers(body, OTHER_INBOUND_SECRET), body) == "bad-signature"
    assert reason(good, body, keys=()) == "no-inbound-secret"
    assert reason(good, body, now=time.time() + 301) == "stale-timestamp"
    assert reason(good, body, now=time.time() - 301) == "stale-timestamp"
    assert reason(good | {"webhook-timestamp": "1e9"}, body) == "bad-timestamp"
    assert reason(good | {"webhook-id": "a.b"}, body) == "bad-id"


@given(
    signature=st.text(max_size=300),
    stamp=st.text(max_size=20),
    webhook_id=st.text(max_size=300),
    body=st.binary(max_size=200),
)
def test_any_header_values_are_an_answer_never_a_crash(
    signature: str, stamp: str, webhook_id: str, body: bytes
) -> None:
    headers = {"webhook-id": webhook_id, "webhook-timestamp": stamp, "webhook-signature": signature}
    with pytest.raises(Unauthorized):
        verify(headers, body, KEYS, time.time())


def test_a_webhook_id_is_refused_a_second_time_within_the_window_only() -> None:
    guard = ReplayGuard(window_s=600)
    guard.check_and_remember("1465011", "msg_1", 1000.0)
    with pytest.raises(Unauthorized, match="used before"):
        guard.check_and_remember("1465011", "msg_1", 1200.0)
    guard.check_and_remember("0261011", "msg_1", 1200.0)  # another partner's id space
    guard.check_and_remember("1465011", "msg_1", 1601.0)  # past the window: stale anyway
    guard.forget("1465011", "msg_1")
    guard.check_and_remember("1465011", "msg_1", 1602.0)


def test_a_busy_partner_never_evicts_another_partners_ids() -> None:
    guard = ReplayGuard(window_s=600, caps={"1465011": 3, "0261011": 3})
    guard.check_and_remember("0261011", "msg_quiet", 1000.0)
    for n in range(10):  # the busy one evicts only its own oldest
        guard.check_and_remember("1465011", f"msg_{n}", 1000.0 + n)
    with pytest.raises(Unauthorized, match="used before"):
        guard.check_and_remember("0261011", "msg_quiet", 1100.0)
    with pytest.raises(Unauthorized, match="used before"):
        guard.check_and_remember("1465011", "msg_9", 1100.0)


@given(
    rate=st.floats(0.5, 5),
    burst=st.integers(1, 5),
    gaps=st.lists(st.floats(0, 30), min_size=1, max_size=60),
    replayed=st.lists(st.integers(0, 59), max_size=20),
)
def test_within_its_rate_a_partner_s_every_id_in_the_window_is_refused_again(
    rate: float, burst: int, gaps: list[float], replayed: list[int]
) -> None:
    """Requests admitted as the token bucket admits them: the guard sized by cap_for
    remembers each of them for the whole window."""
    window = 60.0
    guard = ReplayGuard(window_s=window, caps={"1465011": cap_for(rate, burst, window)})
    bucket = TokenBucket(rate, burst)
    now, admitted = 1000.0, []
    for n, gap in enumerate(gaps):
        now += gap
        guard.check_and_remember("1465011", f"msg_{n}", now)
        if bucket.take(now):
            guard.forget("1465011", f"msg_{n}")  # 429: forgotten
        else:
            admitted.append((f"msg_{n}", now))
    for k in replayed:
        if k < len(admitted) and admitted[k][1] >= now - window:
            with pytest.raises(Unauthorized):
                guard.check_and_remember("1465011", admitted[k][0], now)
