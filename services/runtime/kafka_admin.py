"""Creating and checking the contract's topics on a Kafka-protocol broker (aiokafka admin)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError

from services.runtime.topics import ALL_TOPICS, TopicSpec

TOPIC_ALREADY_EXISTS = 36


@dataclass(frozen=True)
class TopicResult:
    name: str
    created: bool
    partitions: int
    error: str | None = None


def new_topic(spec: TopicSpec, partitions: int, replication_factor: int) -> NewTopic:
    configs = {
        "cleanup.policy": ",".join(spec.cleanup_policy),
        "retention.ms": str(spec.retention_ms),
    }
    return NewTopic(spec.name, partitions, replication_factor, topic_configs=configs)


async def wait_for_broker(bootstrap: str, timeout_s: float = 30.0) -> None:
    """Return once the broker answers a metadata request; raise TimeoutError after ``timeout_s``.

    aiokafka logs every refused connection at ERROR; while waiting for a broker
    that is still starting those are expected, so its logger is quiet meanwhile.
    """
    quiet = logging.getLogger("aiokafka")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        await _wait(bootstrap, timeout_s)
    finally:
        quiet.setLevel(level)


async def _wait(bootstrap: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaConnectionError, KafkaError, OSError) as exc:
            last = exc
        finally:
            await admin.close()
        await asyncio.sleep(0.2)
    raise TimeoutError(f"no Kafka broker answered at {bootstrap} within {timeout_s:.0f} s: {last}")


async def create_topics(
    client: Mapping[str, Any],
    partitions: int,
    replication_factor: int = 1,
    specs: Iterable[TopicSpec] = ALL_TOPICS,
) -> list[TopicResult]:
    """Create the topics that do not exist yet; existing ones are left as they are.

    ``client``: aiokafka connection arguments (``settings.kafka_client_kwargs``).
    """
    specs = list(specs)
    admin = AIOKafkaAdminClient(**client)
    await admin.start()
    try:
        response = await admin.create_topics(
            [new_topic(s, partitions, replication_factor) for s in specs]
        )
        results = []
        for name, code, message in response.topic_errors:
            if code not in (0, TOPIC_ALREADY_EXISTS):
                results.append(TopicResult(name, False, partitions, f"error {code}: {message}"))
            else:
                results.append(TopicResult(name, code == 0, partitions))
        return results
    finally:
        await admin.close()


async def partition_counts(client: Mapping[str, Any]) -> dict[str, int]:
    """Partition count of every topic on the broker."""
    admin = AIOKafkaAdminClient(**client)
    await admin.start()
    try:
        names = await admin.list_topics()
        described = await admin.describe_topics(names)
        return {d["topic"]: len(d["partitions"]) for d in described}
    finally:
        await admin.close()
