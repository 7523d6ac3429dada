"""Group-less readers of a whole topic, for what every worker must see (clock ticks, editions).

A Faust GlobalTable does not follow other workers' writes between rebalances
(faust-streaming #283), so such topics are read by a plain aiokafka consumer in
each worker, assigned every partition from the beginning. :func:`read_until_now`
reads a topic once, up to the ends it has when called (for commands and reports).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from services.runtime.end_offsets import fetched_end_offsets


async def read_whole_topic(
    client_kwargs: Mapping[str, Any], topic: str
) -> tuple[AIOKafkaConsumer, list[TopicPartition]]:
    """A started consumer assigned every partition of ``topic`` at its beginning.

    Waits for the topic to exist; the caller stops the consumer.
    """
    consumer = AIOKafkaConsumer(
        **client_kwargs,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        while not partitions:
            await asyncio.sleep(0.5)
            await consumer._client.force_metadata_update()  # the topic may be created later
            partitions = consumer.partitions_for_topic(topic)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
    except BaseException:
        await consumer.stop()
        raise
    return consumer, tps


async def read_until_now(
    client_kwargs: Mapping[str, Any], topic: str
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` up to the partition ends it has now (Fetch high watermarks)."""
    consumer, tps = await read_whole_topic(client_kwargs, topic)
    found: list[ConsumerRecord[bytes, bytes]] = []
    try:
        ends = await fetched_end_offsets(client_kwargs, await consumer.end_offsets(tps))
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found.extend(records)
    finally:
        await consumer.stop()
    return found
