"""The erasure markers: what they drop (events of the person from before the erasure) and
what they let through (later events, other persons); no PESEL in a marker."""

from __future__ import annotations

import datetime as dt

import orjson
from hypothesis import given
from hypothesis import strategies as st

from services.personal_data import erasures
from services.personal_data.access_log import person_hash

SECRET = "s" * 32
PESEL, OTHER = "44051401359", "02070803628"
ERASED_AT = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)
instants = st.datetimes(
    min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2032, 1, 1), timezones=st.just(dt.UTC)
)


def register(*markers: tuple[str, dt.datetime]) -> erasures.Erasures:
    known = erasures.Erasures(SECRET)
    for person, at in markers:
        known.apply(*erasures.marker(SECRET, person, at))
    return known


def test_a_marker_holds_no_pesel() -> None:
    key, fields = erasures.marker(SECRET, PESEL, ERASED_AT)
    assert key == f"erased:{person_hash(SECRET, PESEL)}".encode()
    assert PESEL not in key.decode() + orjson.dumps(fields, default=str).decode()


@given(instants)
def test_only_the_persons_events_up_to_the_erasure_are_dropped(occurred: dt.datetime) -> None:
    known = register((PESEL, ERASED_AT))
    dropped = known.erased_at(PESEL, occurred)
    assert (dropped is not None) == (occurred <= ERASED_AT)
    assert known.erased_at(OTHER, occurred) is None


@given(st.lists(instants, min_size=1, max_size=5))
def test_the_latest_erasure_counts_whatever_the_order_read(times: list[dt.datetime]) -> None:
    known = register(*[(PESEL, t) for t in times])
    assert known.erased_at(PESEL, max(times)) == max(times)


def test_a_tombstone_withdraws_a_marker_and_no_secret_means_no_erasure() -> None:
    known = register((PESEL, ERASED_AT))
    known.apply(erasures.marker(SECRET, PESEL, ERASED_AT)[0], None)
    assert known.erased_at(PESEL, ERASED_AT) is None
    unkeyed = erasures.Erasures(None)
    unkeyed.apply(*erasures.marker(SECRET, PESEL, ERASED_AT))
    assert unkeyed.erased_at(PESEL, ERASED_AT) is None


def test_the_subject_of_a_webhook_body() -> None:
    body = orjson.dumps({"type": "t", "timestamp": "2026-03-02T12:00:00.000Z", "data": {}})
    assert erasures.webhook_subject(body) is None  # names no person
    body = orjson.dumps(
        {"type": "t", "timestamp": "2026-03-02T12:00:00.000Z", "data": {"person_id": PESEL}}
    )
    assert erasures.webhook_subject(body) == (PESEL, ERASED_AT)
    assert erasures.webhook_subject(b"not json") is None
