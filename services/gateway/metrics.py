"""The gateway's own Prometheus metrics (common ones: ``services.runtime.metrics``).

``partner`` is the OPS's TERYT code from the URL when it is a known partner,
``unknown`` otherwise (a caller cannot create series); never a PESEL.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from services.runtime.metrics import REGISTRY

REQUESTS = Counter(
    "pai_gateway_requests",
    "HTTP requests to /v1/ by partner, route (event, batch) and status code",
    ["partner", "route", "status"],
    registry=REGISTRY,
)
EVENTS = Counter(
    "pai_gateway_events",
    "Posted events by partner and outcome (accepted, duplicate, conflict, invalid, forbidden,"
    " unavailable, internal-error); a batch counts each item, a request refused as a whole"
    " counts none",
    ["partner", "outcome"],
    registry=REGISTRY,
)
REJECTED = Counter(
    "pai_gateway_requests_rejected",
    "Requests refused before any event was looked at, by partner and reason (bad-signature,"
    " stale-timestamp, replay, missing-headers, unknown-partner, rate-limited, too-large,"
    " not-json, ...)",
    ["partner", "reason"],
    registry=REGISTRY,
)
WRITE_SECONDS = Histogram(
    "pai_gateway_write_seconds",
    "From a request's arrival to the broker's acknowledgement of its records (acks=all)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
