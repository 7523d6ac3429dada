"""The Prometheus metrics every service exports on ``GET /metrics``, and how they are served.

One registry per process (a process is one worker of one service); the
``service`` label says which. Service-specific metrics live beside their
service (``services/<service>/metrics.py``) on the same registry. Labels are
topics, partitions, reasons, kinds, rule sets and OPS codes: never a PESEL or
anything else about a person.

Consumer lag is computed when Prometheus scrapes: for each partition this
worker is assigned, the high watermark of its last fetch minus the offset
the group has committed (the records not yet durably handled), without a
round trip to the broker.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

disable_created_metrics()  # type: ignore[no-untyped-call]  # no <name>_created series
REGISTRY = CollectorRegistry()
CONTENT_TYPE = CONTENT_TYPE_LATEST

EVENTS_CONSUMED = Counter(
    "pai_events_consumed",
    "Records read from an input topic (dead-lettered ones included)",
    ["service", "topic"],
    registry=REGISTRY,
)
DEAD_LETTERS = Counter(
    "pai_dead_letters",
    "Records sent to pai.dlq.v1 because they could not be read or accepted",
    ["service", "reason"],
    registry=REGISTRY,
)
CONSUMER_LAG = Gauge(
    "pai_consumer_lag",
    "Records after the group's committed offset, per partition assigned to this worker",
    ["service", "topic", "partition"],
    registry=REGISTRY,
)
PROCESSING = Histogram(
    "pai_processing_seconds",
    "Time to handle one batch of records, its effects acknowledged by the broker included",
    ["service"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
EVENT_LATENCY = Histogram(
    "pai_event_latency_seconds",
    "From a record's Kafka timestamp to its effect acknowledged (decision, event, webhook)",
    ["service"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600),
    registry=REGISTRY,
)
READY = Gauge(
    "pai_ready",
    "1 when the worker has its partitions and its tables recovered (as /health/ready), else 0",
    ["service"],
    registry=REGISTRY,
)

Partition = tuple[str, int]


def set_consumer_lag(
    service: str,
    highwaters: Mapping[Partition, int | None],
    committed: Mapping[Partition, int | None],
) -> dict[Partition, int]:
    """Publish the lag of the partitions in ``highwaters`` (the assigned ones); return it.

    A partition with no fetch yet (no high watermark) is left out; one the group
    never committed counts from offset 0. Series of partitions no longer
    assigned are removed, so a rebalance leaves no stale lag behind.
    """
    lags = {
        tp: max(high - (committed.get(tp) or 0), 0)
        for tp, high in highwaters.items()
        if high is not None
    }
    for labels in list(_series_of(service)):
        if (labels[1], int(labels[2])) not in lags:
            CONSUMER_LAG.remove(*labels)
    for (topic, partition), lag in lags.items():
        CONSUMER_LAG.labels(service, topic, str(partition)).set(lag)
    return lags


def _series_of(service: str) -> Iterable[tuple[str, str, str]]:
    for metric in CONSUMER_LAG.collect():
        for sample in metric.samples:
            if sample.labels["service"] == service:
                labels = sample.labels
                yield labels["service"], labels["topic"], labels["partition"]


def observe_latency(service: str, timestamps_s: Iterable[float | None]) -> None:
    """Event latency of records whose effects were just acknowledged."""
    now = time.time()
    histogram = EVENT_LATENCY.labels(service)
    for timestamp in timestamps_s:
        if timestamp is not None:
            histogram.observe(max(now - timestamp, 0.0))


def exposition() -> bytes:
    """The registry in the Prometheus text format."""
    return generate_latest(REGISTRY)
