"""How far a consumer group has committed, read without joining the group."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.runtime.end_offsets import fetched_end_offsets


async def partitions_of(client_kwargs: dict[str, Any], topics: list[str]) -> dict[str, list[int]]:
    """The partition numbers of each topic, as the cluster describes it (empty if unknown).

    Asked of the cluster, not of a consumer's metadata: a consumer that subscribes to
    nothing knew no topic's partitions on Apache Kafka (tansu answered with every topic),
    and every topic then looked caught up.
    """
    admin = AIOKafkaAdminClient(**client_kwargs)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    found: dict[str, list[int]] = {topic: [] for topic in topics}
    for topic in described:
        if topic.get("error_code", 0) == 0 and topic["topic"] in found:
            found[topic["topic"]] = sorted(p["partition"] for p in topic["partitions"])
    return found


async def caught_up(client_kwargs: dict[str, Any], group: str, topics: Iterable[str]) -> bool:
    """Whether ``group`` has committed every partition of ``topics`` to its end.

    End offsets are the high watermarks a Fetch reports (see ``end_offsets``); the
    group's offsets are read by a consumer that is assigned, not subscribed, so
    asking never triggers a rebalance of the group. One consumer serves every topic.
    """
    known = await partitions_of(client_kwargs, list(topics))
    if not all(known.values()):  # a topic with no known partition is never "caught up"
        return False
    tps = [TopicPartition(topic, p) for topic, partitions in known.items() for p in partitions]
    reader = AIOKafkaConsumer(**client_kwargs, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        reader.assign(tps)
        ends = await fetched_end_offsets(client_kwargs, await reader.end_offsets(tps))
        for tp in tps:
            if ((await reader.committed(tp)) or 0) < ends[tp]:
                return False
    finally:
        await reader.stop()
    return True
