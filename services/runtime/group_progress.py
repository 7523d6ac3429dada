"""How far a consumer group has committed, read without joining the group."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer

from services.runtime.end_offsets import fetched_end_offsets
from services.runtime.topic_reader import read_whole_topic


async def caught_up(client_kwargs: dict[str, Any], group: str, topics: Iterable[str]) -> bool:
    """Whether ``group`` has committed every partition of ``topics`` to its end.

    End offsets are the high watermarks a Fetch reports (see ``end_offsets``); the
    group's offsets are read by a consumer that is assigned, not subscribed, so
    asking never triggers a rebalance of the group.
    """
    for topic in topics:
        consumer, tps = await read_whole_topic(client_kwargs, topic)
        try:
            ends = await fetched_end_offsets(client_kwargs, await consumer.end_offsets(tps))
        finally:
            await consumer.stop()
        reader = AIOKafkaConsumer(**client_kwargs, group_id=group, enable_auto_commit=False)
        await reader.start()
        try:
            reader.assign(tps)
            for tp in tps:
                if ((await reader.committed(tp)) or 0) < ends[tp]:
                    return False
        finally:
            await reader.stop()
    return True
