"""Reading a worker's ``GET /metrics`` as Prometheus would (``prometheus_client``'s parser)."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families


def samples(port: int) -> list[tuple[str, dict[str, str], float]]:
    """Every sample ``(name, labels, value)`` the worker on ``port`` exports now."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def metric(port: int, name: str, **labels: str) -> float:
    """The sum of the samples named ``name`` that carry ``labels``."""
    return sum(
        value
        for sample, have, value in samples(port)
        if sample == name and all(have.get(k) == v for k, v in labels.items())
    )


def by_label(port: int, name: str, label: str) -> dict[str, float]:
    """``name``'s samples summed per value of ``label`` (e.g. decisions per outcome)."""
    found: dict[str, float] = {}
    for sample, have, value in samples(port):
        if sample == name and label in have:
            found[have[label]] = found.get(have[label], 0.0) + value
    return found
