"""Metric values computed by the services: consumer lag and delivery outcomes."""

from __future__ import annotations

import datetime as dt

from prometheus_client.parser import text_string_to_metric_families

from services.notifier.delivery import Attempt
from services.notifier.metrics import outcome
from services.runtime.metrics import exposition, set_consumer_lag


def lag_series(service: str) -> dict[tuple[str, str], float]:
    families = text_string_to_metric_families(exposition().decode())
    return {
        (s.labels["topic"], s.labels["partition"]): s.value
        for family in families
        for s in family.samples
        if s.name == "pai_consumer_lag" and s.labels["service"] == service
    }


def test_lag_is_the_high_watermark_minus_the_committed_offset() -> None:
    lags = set_consumer_lag(
        "unit-a",
        {("t", 0): 120, ("t", 1): 7, ("t", 2): None, ("t", 3): 5},
        {("t", 0): 100, ("t", 1): 7, ("t", 2): 3},  # t/3: never committed
    )
    assert lags == {("t", 0): 20, ("t", 1): 0, ("t", 3): 5}  # t/2: no fetch yet, no series
    assert lag_series("unit-a") == {("t", "0"): 20, ("t", "1"): 0, ("t", "3"): 5}


def test_a_partition_revoked_leaves_no_stale_lag_behind() -> None:
    set_consumer_lag("unit-b", {("t", 0): 50, ("t", 1): 50}, {})
    set_consumer_lag("unit-b", {("t", 1): 60}, {("t", 1): 60})
    assert lag_series("unit-b") == {("t", "1"): 0}


def attempt(status: int | None, error: str | None) -> Attempt:
    return Attempt(1, dt.datetime(2026, 11, 24, tzinfo=dt.UTC), status, error, 12)


def test_each_attempt_has_an_outcome_and_a_status_class() -> None:
    assert outcome(attempt(204, None)) == ("delivered", "2xx")
    assert outcome(attempt(503, "HTTP 503")) == ("http_error", "5xx")
    assert outcome(attempt(410, "HTTP 410")) == ("http_error", "4xx")
    assert outcome(attempt(302, "HTTP 302")) == ("http_error", "3xx")
    assert outcome(attempt(None, "timeout")) == ("timeout", "none")
    assert outcome(attempt(None, "not attempted: partner stalled")) == ("not_attempted", "none")
    refused = "ConnectError: refused: 127.0.0.1 is a loopback address"
    assert outcome(attempt(None, refused)) == ("address_refused", "none")
    failed = "connection failed: [Errno 111] Connection refused"
    assert outcome(attempt(None, failed)) == ("connection_error", "none")
