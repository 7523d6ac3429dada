"""The Python producers of docs/integration-guide.md, run as printed, against Apache Kafka.

Each snippet (``examples/integration/producer_*.py``, the guide quotes them verbatim:
``tests/unit/test_integration_guide.py``) publishes registrations of eight people; every
record must sit on the partition the services expect (murmur2 of the PESEL) and decode
with the services' codec. With librdkafka's default partitioner instead of
``murmur2_random``, most records would not (STACK-FACTS.md, Partitioning).
"""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from services.runtime.codec import AvroCodec
from services.runtime.partitioning import expected_partition
from services.runtime.schemas import default_store
from tests.integration.kafka_helpers import consume_all, private_topic
from tests.support import events as ev
from tests.support.apache_kafka import KafkaCluster

pytestmark = pytest.mark.integration
SNIPPETS = Path(__file__).resolve().parents[2] / "examples" / "integration"
PEOPLE = [ev.pesel_from(7_000 + n) for n in range(8)]  # by chance all on murmur2's: 4**-8


def snippet(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"guide_{name}", SNIPPETS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["producer_confluent", "producer_aiokafka"])
def test_a_guide_producer_lands_every_person_where_the_services_read_them(
    kafka: KafkaCluster, name: str
) -> None:
    bs = kafka.bootstrap
    topic = asyncio.run(private_topic(bs, name, partitions=4))
    register = snippet(name).register
    for pesel in PEOPLE:
        done = register(bs, str(default_store().root), pesel, topic=topic)
        if asyncio.iscoroutine(done):
            asyncio.run(done)
    records = asyncio.run(consume_all(bs, topic, len(PEOPLE)))
    assert sorted(r.key for r in records) == sorted(p.encode() for p in PEOPLE)
    codec = AvroCodec("profiles")
    for record in records:
        assert record.key is not None and record.value is not None
        assert record.partition == expected_partition(record.key, 4), record.key
        decoded = codec.decode(record.value)
        assert decoded.type == "UnemployedRegistered"
        assert decoded.fields["person_id"].encode() == record.key
