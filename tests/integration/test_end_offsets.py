"""End offsets are right on the embedded broker even where its ListOffsets answer is stale."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faust.types import TP

from services.local.embedded_broker import EmbeddedBroker
from services.runtime.end_offsets import fetched_end_offsets
from tests.integration.kafka_helpers import private_topic

pytestmark = pytest.mark.integration
RECORDS = 2000


def test_end_offsets_count_every_acknowledged_record(tansu: EmbeddedBroker) -> None:
    broker = tansu  # the stale ListOffsets answer is the embedded broker's

    async def scenario() -> tuple[int, int]:
        topic = await private_topic(broker.bootstrap, "end-offsets", partitions=1)
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=0)
        await producer.start()
        try:
            # many records in flight: the broker receives batches of several records
            futures = [await producer.send(topic, b"v", key=b"k") for _ in range(RECORDS)]
            await asyncio.gather(*futures)
        finally:
            await producer.stop()
        tp = TP(topic, 0)
        consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap)
        await consumer.start()
        try:
            [listed] = (await consumer.end_offsets([tp])).values()
        finally:
            await consumer.stop()
        corrected = await fetched_end_offsets({"bootstrap_servers": broker.bootstrap}, {tp: listed})
        return listed, corrected[tp]

    listed, corrected = asyncio.run(scenario())
    assert corrected == RECORDS
    print(f"ListOffsets said {listed}, Fetch {corrected} for {RECORDS} records")
