"""The notifier's own Prometheus metrics (common ones: ``services.runtime.metrics``).

``partner`` is the OPS's TERYT code; ``type`` a webhook type; never a PESEL.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from services.notifier.delivery import Attempt
from services.runtime.metrics import REGISTRY

ATTEMPTS = Counter(
    "pai_notifier_attempts",
    "Delivery attempts by partner, webhook type, outcome (delivered, http_error, timeout,"
    " connection_error, address_refused, not_attempted) and HTTP status class (none: no answer)",
    ["partner", "type", "outcome", "status_class"],
    registry=REGISTRY,
)
RETRIED = Counter(
    "pai_notifier_webhooks_retried",
    "Webhooks handed to a retry topic (level n: waiting for attempt n+1)",
    ["partner", "level"],
    registry=REGISTRY,
)
DEAD_LETTERED = Counter(
    "pai_notifier_webhooks_dead_lettered",
    "Webhooks sent to pai.notifier.dlq.v1 after the whole retry schedule",
    ["partner"],
    registry=REGISTRY,
)
SKIPPED = Counter(
    "pai_notifier_events_skipped",
    "Events that became no webhook, by design (not subscribed, no OPS yet, person erased)",
    ["reason", "type"],
    registry=REGISTRY,
)
HEALTHY = Gauge(
    "pai_notifier_partner_healthy",
    "1 while the partner's last attempts succeeded, 0 after PAI_NOTIFIER_UNHEALTHY_AFTER failures",
    ["partner"],
    registry=REGISTRY,
)
IN_FLIGHT = Gauge(
    "pai_notifier_partner_in_flight",
    "Deliveries to the partner running or waiting for a connection",
    ["partner"],
    registry=REGISTRY,
)
DURATION = Histogram(
    "pai_notifier_attempt_seconds",
    "How long one delivery attempt took",
    ["partner"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
RETRY_BACKLOG = Gauge(
    "pai_notifier_retry_backlog",
    "Webhooks waiting in retry topic pai.notifier.retry.<level> on this worker's partitions",
    ["level"],
    registry=REGISTRY,
)


def outcome(attempt: Attempt) -> tuple[str, str]:
    """The ``outcome`` and ``status_class`` labels of an attempt."""
    status_class = f"{attempt.status_code // 100}xx" if attempt.status_code else "none"
    error = attempt.error
    if error is None:
        return "delivered", status_class
    if error.startswith("HTTP "):
        return "http_error", status_class
    if error == "timeout":
        return "timeout", status_class
    if error.startswith("not attempted"):
        return "not_attempted", status_class
    if "refused:" in error:
        return "address_refused", status_class
    return "connection_error", status_class
