"""Reading a worker's ``GET /metrics`` as Prometheus would (``prometheus_client``'s parser)."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

import services.eligibility.metrics
import services.gateway.metrics
import services.notifier.metrics
import services.scheduler.metrics  # noqa: F401  (importing registers their metrics)
from services.runtime.metrics import REGISTRY


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


def registry_series() -> dict[str, str]:
    """Every series name the services can export, mapped to its metric family.

    Counters are exported as ``<family>_total``, histograms as ``_bucket``, ``_sum``
    and ``_count``; the services' modules share one registry.
    """
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    return {
        family.name + suffix: family.name
        for family in REGISTRY.collect()
        for suffix in suffixes.get(family.type, ("",))
    }


def exported_families(port: int) -> set[str]:
    """The metric families a running worker declares (its ``# TYPE`` lines)."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {family.name for family in text_string_to_metric_families(text)}
