"""Faust's producer made idempotent on Apache Kafka (``enable_idempotence``, ``acks=all``).

faust-streaming 0.15 turns idempotence on only for its exactly-once transactions
(``Producer._settings_extra``), which this project does not use (at-least-once with
deterministic ids: docs/architecture.md). An idempotent producer still matters: a
batch retried after a lost acknowledgement is written once and in order, so a
changelog or a decision topic never holds a duplicate or reordered record from a
retry. The embedded broker refuses ``InitProducerId``, so there it stays off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from faust.transport.drivers.aiokafka import Producer

_original = Producer._settings_extra


def install(enabled: bool) -> None:
    """From now on Faust's producers are idempotent when ``enabled`` (else as Faust makes them)."""

    def settings_extra(self: Producer) -> Mapping[str, Any]:
        extra = dict(_original(self))
        if enabled:
            extra |= {"acks": "all", "enable_idempotence": True}
        return extra

    Producer._settings_extra = settings_extra  # type: ignore[method-assign]
