"""Small aiokafka helpers for integration tests: private topics, produce, consume."""

from __future__ import annotations

import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from services.runtime.kafka_admin import create_topics
from services.runtime.topics import TopicSpec


async def private_topic(bootstrap: str, purpose: str, partitions: int = 4) -> str:
    """A topic only this test uses."""
    name = f"test.{purpose}.{uuid.uuid4().hex[:8]}"
    spec = TopicSpec(name, None, "person_id", f"test topic: {purpose}")
    [result] = await create_topics({"bootstrap_servers": bootstrap}, partitions, specs=[spec])
    assert result.created, result
    return name


async def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    await produce_with_headers(bootstrap, topic, [(key, value, []) for key, value in records])


async def produce_with_headers(
    bootstrap: str,
    topic: str,
    records: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]],
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        batch = [
            await producer.send(topic, value=value, key=key, headers=headers)
            for key, value, headers in records
        ]
        for future in batch:
            await future
    finally:
        await producer.stop()


async def consume_all(
    bootstrap: str, topic: str, expected: int, group: str | None = None, timeout_s: float = 30
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read until ``expected`` records arrived (or the timeout); commit them when in a group."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    await consumer.start()
    seen: list[ConsumerRecord[bytes, bytes]] = []
    try:
        deadline = time.monotonic() + timeout_s
        while len(seen) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                seen.extend(records)
        if group is not None:
            await consumer.commit()
    finally:
        await consumer.stop()
    return seen


async def topic_configs(bootstrap: str, topic: str) -> dict[str, str]:
    """A topic's configuration as the broker describes it."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (response,) = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)]
        )
        (resource,) = response.resources
        return {entry[0]: entry[1] for entry in resource[4]}
    finally:
        await admin.close()


async def set_topic_configs(bootstrap: str, topic: str, configs: dict[str, str]) -> None:
    """AlterConfigs: it replaces the topic's whole configuration (restate what matters)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs)])
    finally:
        await admin.close()


FAST_COMPACTION = {  # the cleaner compacts within a second (never the active segment)
    "segment.ms": "300",
    "min.cleanable.dirty.ratio": "0.01",
    # and whatever the dirty ratio: a log the session's other tests filled keeps its new
    # tombstones' ratio under 1 %, and a tombstone goes only in a later pass
    "max.compaction.lag.ms": "1000",
    "min.compaction.lag.ms": "0",
    "delete.retention.ms": "500",
}
