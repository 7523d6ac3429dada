"""Every worker reads the topics the gateway writes, to know which events are written.

A group-less aiokafka consumer assigned every partition of the accepted
topics from the beginning (:func:`services.runtime.topic_reader.read_whole_topic`)
feeds :class:`~services.gateway.written.WrittenEvents`. The worker is ready
only once it has read up to the ends the topics had at start; until then a
repeated event could be written twice. A record that is not ours (unreadable,
without ``event_id`` or ``ops_code``) is skipped here: the services dead-letter it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from services.gateway.written import Written, WrittenEvents, digest
from services.runtime import lost_records
from services.runtime.codec import AvroCodec, UndecodableRecord
from services.runtime.end_offsets import fetched_end_offsets

log = logging.getLogger(__name__)


class Follower:
    def __init__(
        self,
        client_kwargs: Mapping[str, Any],
        codecs: Mapping[str, AvroCodec],
        written: WrittenEvents,
        embedded_broker: bool,
    ) -> None:
        self.client_kwargs = client_kwargs
        self.codecs = codecs
        self.written = written
        self.embedded_broker = embedded_broker
        self.caught_up = False
        self.consumer: AIOKafkaConsumer | None = None

    async def run(self) -> None:
        """Read for ever (cancel to stop); ``caught_up`` once the start's ends are read."""
        consumer = AIOKafkaConsumer(
            **self.client_kwargs,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=50,
            max_poll_records=2000,
        )
        self.consumer = consumer
        await consumer.start()
        try:
            tps: list[TopicPartition] = []
            for topic in self.codecs:
                partitions = consumer.partitions_for_topic(topic)
                while not partitions:
                    await asyncio.sleep(0.5)
                    await consumer._client.force_metadata_update()
                    partitions = consumer.partitions_for_topic(topic)
                tps.extend(TopicPartition(topic, p) for p in sorted(partitions))
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await fetched_end_offsets(self.client_kwargs, await consumer.end_offsets(tps))
            watch = lost_records.Watch(consumer, self.embedded_broker, self.client_kwargs)
            while True:
                if not self.caught_up:
                    self.caught_up = all([await consumer.position(tp) >= ends[tp] for tp in tps])
                    if self.caught_up:
                        log.info("read the %d events already written", len(self.written))
                await watch.check()
                try:
                    batches = await consumer.getmany(timeout_ms=200)
                except KafkaError as exc:
                    log.warning("reading the written events failed (%s); trying again", exc)
                    await asyncio.sleep(1)
                    continue
                now = time.time()
                for tp, records in batches.items():
                    for record in records:
                        self._take(tp, record.offset, record.value, record.timestamp / 1000, now)
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()

    def _take(
        self, tp: TopicPartition, offset: int, value: bytes | None, stamp: float, now: float
    ) -> None:
        try:
            fields = self.codecs[tp.topic].decode(value).fields
        except UndecodableRecord:
            return
        event_id, ops_code = fields.get("event_id"), fields.get("ops_code")
        if value is None or event_id is None or ops_code is None:
            return
        written = Written(str(ops_code), digest(value), tp.topic, tp.partition, offset, stamp)
        self.written.add(str(event_id), written, now)
