"""Noticing a broker that lost records, and reading its partitions again from the start.

A consumer's position can only pass a partition's end when the broker lost the
records behind it: the embedded broker keeps everything in memory, so a restart
brings back empty topics. Apache Kafka answers a fetch past the end with
OFFSET_OUT_OF_RANGE and the client resets by ``auto.offset.reset``; tansu answers
with nothing (measured: a consumer at offset 100 of a 3-record partition waits
there for ever), so new records at offsets below the old position would never
be read. Every consumer of the services therefore checks, every few seconds,
each assigned partition's position against the high watermark the last fetch
reported and seeks a partition that is past its end to the beginning, with a
warning. What is read again is recognised by its event id as before.

A partition that looks past its end is rewound only when a fresh Fetch from the
broker confirms it (:func:`services.runtime.end_offsets.fetched_end_offsets`, a
probe consumer of its own). While records arrive, the high watermark a consumer
last saw can lag the records it just fetched by a few offsets (measured on tansu:
position 2,837, end 2,836); the check alone then "saw" a lost partition under live
traffic and read it again from offset 0: with 10,000 persons in a topic that was
seconds of replayed work, the 0.7-3.6 s latency stalls of docs/benchmarks.md
(issue 18). The broker's own end is at or past every record a consumer was given;
after a real loss it stays below the position.

Only with ``PAI_KAFKA_BROKER=tansu``: on Apache Kafka a consumer whose position
lies past a partition's end (the topic deleted and created again, measured in
``tests/integration/test_kafka_behaviour.py``) gets OFFSET_OUT_OF_RANGE and
starts again from ``auto_offset_reset=earliest`` by itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer

from services.runtime.end_offsets import fetched_end_offsets

log = logging.getLogger(__name__)
CHECK_EVERY_S = 2.0

TP = TypeVar("TP")


def past_the_end(positions: Mapping[TP, int | None], ends: Mapping[TP, int | None]) -> list[TP]:
    """The partitions whose position is beyond their end (both known)."""
    return [
        tp
        for tp, position in positions.items()
        if position is not None and (end := ends.get(tp)) is not None and position > end
    ]


async def _rewind(
    consumer: Any, partitions: list[Any], client_kwargs: Mapping[str, Any]
) -> list[Any]:
    """The partitions of ``consumer`` past their end, as the broker confirms it; ``consumer``
    is aiokafka's or Faust's (both answer ``highwater`` and ``position`` alike)."""
    ends = {tp: consumer.highwater(tp) for tp in partitions}
    positions = {tp: await consumer.position(tp) for tp in partitions if ends[tp] is not None}
    suspects = past_the_end(positions, ends)
    if not suspects:
        return []
    fresh = await fetched_end_offsets(client_kwargs, {tp: 0 for tp in suspects})
    lost = past_the_end({tp: positions[tp] for tp in suspects}, fresh)
    if len(lost) < len(suspects):
        log.info(
            "%d partition(s) only seemed past their end (a lagging high watermark)",
            len(suspects) - len(lost),
        )
    for tp in lost:
        log.warning(
            "the broker no longer has the records of %s:%s before offset %s (its end is %s):"
            " reading the partition again from the beginning",
            tp.topic,
            tp.partition,
            positions[tp],
            ends[tp],
        )
    return lost


async def rewind_aiokafka(
    consumer: AIOKafkaConsumer, client_kwargs: Mapping[str, Any]
) -> list[Any]:
    """Seek the partitions of ``consumer`` that are past their end to the beginning."""
    lost = await _rewind(consumer, list(consumer.assignment()), client_kwargs)
    if lost:
        await consumer.seek_to_beginning(*lost)
    return lost


async def rewind_faust(app: Any, client_kwargs: Mapping[str, Any]) -> list[Any]:
    """The same for a Faust worker's source partitions (not its changelogs)."""
    sources = [
        tp
        for tp in app.consumer.assignment()
        if not tp.topic.endswith("-changelog") and "__assignor" not in tp.topic
    ]
    lost = await _rewind(app.consumer, sources, client_kwargs)
    for tp in lost:
        await app.consumer.seek(tp, 0)  # Faust's seek also forgets what it read of the partition
    return lost


class Watch:
    """Calls :func:`rewind_aiokafka` at most every ``CHECK_EVERY_S`` from a consumer's loop,
    when ``enabled`` (``PAI_KAFKA_BROKER=tansu``: Apache Kafka needs no such check)."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        enabled: bool,
        client_kwargs: Mapping[str, Any],
        every_s: float = CHECK_EVERY_S,
    ) -> None:
        self.consumer, self.enabled, self.every_s = consumer, enabled, every_s
        self.client_kwargs = client_kwargs
        self.next_check = time.monotonic() + every_s

    async def check(self) -> None:
        if self.enabled and time.monotonic() >= self.next_check:
            self.next_check = time.monotonic() + self.every_s
            await rewind_aiokafka(self.consumer, self.client_kwargs)
