"""How far a consumer group has committed, read without joining the group."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.runtime.end_offsets import fetched_end_offsets


async def caught_up(client_kwargs: dict[str, Any], group: str, topics: Iterable[str]) -> bool:
    """Whether ``group`` has committed every partition of ``topics`` to its end.

    End offsets are the high watermarks a Fetch reports (see ``end_offsets``); the
    group's offsets are read by a consumer that is assigned, not subscribed, so
    asking never triggers a rebalance of the group. One consumer serves every topic.
    """
    reader = AIOKafkaConsumer(**client_kwargs, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        tps = [
            TopicPartition(topic, partition)
            for topic in topics
            for partition in sorted(reader.partitions_for_topic(topic) or ())
        ]
        reader.assign(tps)
        ends = await fetched_end_offsets(client_kwargs, await reader.end_offsets(tps))
        for tp in tps:
            if ((await reader.committed(tp)) or 0) < ends[tp]:
                return False
    finally:
        await reader.stop()
    return True
