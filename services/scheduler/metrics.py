"""The scheduler's own Prometheus metrics (common ones: :mod:`services.runtime.metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from services.runtime.metrics import REGISTRY

EVENTS = Counter(
    "pai_scheduler_events",
    "Scheduler events emitted, by kind (CycleStarted, ProfileReviewOverdue, ...)",
    ["kind"],
    registry=REGISTRY,
)
PENDING_DEADLINES = Gauge(
    "pai_scheduler_pending_deadlines",
    "Persons of this worker's partitions with a deadline still to come",
    registry=REGISTRY,
)
