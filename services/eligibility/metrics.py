"""The eligibility worker's own Prometheus metrics (common ones: ``services.runtime.metrics``)."""

from __future__ import annotations

from prometheus_client import Counter

from services.runtime.metrics import REGISTRY

DECISIONS = Counter(
    "pai_eligibility_decisions",
    "Eligibility decisions emitted (on a change of outcome), by outcome and rule set",
    ["outcome", "ruleset", "ruleset_version"],
    registry=REGISTRY,
)


def outcome_label(eligible: bool) -> str:
    return "eligible" if eligible else "not_eligible"
