"""Signatures made by the standardwebhooks library verify; anything else is a 401 reason."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.gateway.authentication import ReplayGuard, Unauthorized, verify
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
