"""The notifier's Prometheus metrics: labels are ops_codes, types and reasons, never PESEL."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()

DELIVERED = Counter(
    "pai_notifier_webhooks_delivered",
    "Webhooks a partner answered with 2xx",
    ["partner", "type"],
    registry=REGISTRY,
)
FAILED_ATTEMPTS = Counter(
    "pai_notifier_attempts_failed",
    "Delivery attempts that failed (status, timeout, connection error, not attempted)",
    ["partner", "error"],
    registry=REGISTRY,
)
RETRIED = Counter(
    "pai_notifier_webhooks_retried",
    "Webhooks handed to a retry topic",
    ["partner", "level"],
    registry=REGISTRY,
)
DEAD_LETTERED = Counter(
    "pai_notifier_webhooks_dead_lettered",
    "Webhooks sent to pai.notifier.dlq.v1 after the whole schedule",
    ["partner"],
    registry=REGISTRY,
)
SKIPPED = Counter(
    "pai_notifier_events_skipped",
    "Events that became no webhook, by design (not subscribed, no OPS yet)",
    ["reason", "type"],
    registry=REGISTRY,
)
REJECTED = Counter(
    "pai_notifier_events_dead_lettered",
    "Input events sent to pai.dlq.v1 (unreadable, unknown ops_code)",
    ["reason"],
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
