"""How long a Faust consumer's fetch may wait at the broker for data.

faust-streaming 0.15.3 builds its aiokafka consumer with ``fetch_max_wait_ms=1500``
fixed. Apache Kafka answers a fetch as soon as data arrives, but the embedded
broker (tansu) holds it much longer: a raw aiokafka consumer saw p50 127 ms with
500 ms and 14 ms with 50 ms (docs/benchmarks.md), and the eligibility worker's
decisions lagged their input by ~1.2 s at p50. :func:`install` sets the wait from
``PAI_KAFKA_FETCH_MAX_WAIT_MS``; a short wait costs an idle worker a few more
fetch requests a second.
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

_state: dict[str, Any] = {}


def install(fetch_max_wait_ms: int) -> None:
    """Make every Faust worker consumer of this process use ``fetch_max_wait_ms`` (idempotent)."""
    _state["wait_ms"] = fetch_max_wait_ms
    if "original" in _state:
        return
    original = AIOKafkaConsumerThread._create_worker_consumer
    _state["original"] = original

    def _create_worker_consumer(self: AIOKafkaConsumerThread, transport: Any) -> Any:
        consumer = original(self, transport)
        consumer._fetch_max_wait_ms = _state["wait_ms"]  # read by AIOKafkaConsumer.start()
        return consumer

    AIOKafkaConsumerThread._create_worker_consumer = _create_worker_consumer  # type: ignore[method-assign]
