"""Every worker's live view of the erasure markers (``pai.erasures.v1``): the Kafka adapter
of :mod:`services.personal_data.erasures`.

A group-less consumer assigned every partition reads the compacted topic from its start
and follows it (as the program editions are followed, :mod:`services.scheduler.editions`);
:attr:`ErasureView.caught_up` is set once it has read up to the ends it found at start, and
a service handles no input before that. :func:`read_erasures` reads it once (for
``pai dlq replay``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from aiokafka import ConsumerRecord

from services.personal_data.erasures import Erasures
from services.runtime.codec import AvroCodec, UndecodableRecord
from services.runtime.end_offsets import fetched_end_offsets
from services.runtime.topic_reader import read_until_now, read_whole_topic
from services.runtime.topics import ERASURES

log = logging.getLogger(__name__)
CODEC = AvroCodec("erasures")


def _apply(erasures: Erasures, record: ConsumerRecord[bytes, bytes]) -> None:
    if record.value is None:
        erasures.apply(record.key, None)
        return
    try:
        erasures.apply(record.key, CODEC.decode(record.value).fields)
    except UndecodableRecord as exc:  # only pai forget writes here: say so, do not stop
        log.error(
            "%s[%d]@%d is no erasure marker: %s",
            ERASURES.name,
            record.partition,
            record.offset,
            exc,
        )


class ErasureView:
    def __init__(self, client_kwargs: Mapping[str, Any], secret: str | None) -> None:
        self.client_kwargs = client_kwargs
        self.erasures = Erasures(secret)
        self.caught_up = asyncio.Event()

    async def run(self) -> None:
        """Follow the topic until cancelled."""
        consumer, tps = await read_whole_topic(self.client_kwargs, ERASURES.name)
        try:
            ends = await fetched_end_offsets(self.client_kwargs, await consumer.end_offsets(tps))
            while True:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    for record in records:
                        _apply(self.erasures, record)
                if not self.caught_up.is_set():
                    positions = [await consumer.position(tp) for tp in tps]
                    if all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True)):
                        log.info("erasure markers read: %d", len(self.erasures.erased))
                        self.caught_up.set()
        finally:
            await consumer.stop()


async def read_erasures(client_kwargs: Mapping[str, Any], secret: str | None) -> Erasures:
    """The markers on the topic now."""
    erasures = Erasures(secret)
    for record in await read_until_now(client_kwargs, ERASURES.name):
        _apply(erasures, record)
    return erasures
