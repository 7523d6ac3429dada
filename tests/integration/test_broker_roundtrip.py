"""Real Avro bytes through both brokers (Apache Kafka and the embedded tansu): topics, consumer
groups, offsets, dead letters."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from services.local.embedded_broker import EmbeddedBroker
from services.runtime.codec import AvroCodec, UndecodableRecord
from services.runtime.deadletter import DeadLetter, Stage, read_error_headers, send_dead_letter
from services.runtime.kafka_admin import partition_counts
from services.runtime.partitioning import expected_partition
from services.runtime.topics import ALL_TOPICS, DLQ, PROGRAM_EDITIONS
from tests.integration.kafka_helpers import consume_all, private_topic, produce
from tests.support.samples import PESELS
from tests.support.workers import PARTITIONS

pytestmark = pytest.mark.integration


@pytest.fixture(params=["broker", "tansu"])
def broker(request: pytest.FixtureRequest) -> EmbeddedBroker:
    """Each test on both brokers: Apache Kafka (the session's) and the embedded one."""
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def profile_event(n: int) -> tuple[bytes, bytes]:
    pesel = PESELS[n % len(PESELS)]
    fields = {
        "event_id": uuid.UUID(int=n),
        "occurred_at": dt.datetime(2026, 2, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=n),
        "person_id": pesel,
        "pup_code": "1465",
        "profile": "III",
        "established_on": dt.date(2026, 2, 1),
    }
    return pesel.encode(), AvroCodec("profiles").encode("ProfileEstablished", fields)


def test_every_contract_topic_exists_with_the_shared_partition_count(
    broker: EmbeddedBroker,
) -> None:
    counts = asyncio.run(partition_counts({"bootstrap_servers": broker.bootstrap}))
    for spec in ALL_TOPICS:
        assert counts.get(spec.name) == PARTITIONS, spec.name


def test_program_editions_are_compacted(broker: EmbeddedBroker) -> None:
    async def policy(topic: str) -> str:
        admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
        await admin.start()
        try:
            resource = ConfigResource(ConfigResourceType.TOPIC, topic)
            [response] = await admin.describe_configs([resource])
            entries = {e[0]: e[1] for e in response.resources[0][4]}
            return str(entries["cleanup.policy"])
        finally:
            await admin.close()

    assert asyncio.run(policy(PROGRAM_EDITIONS.name)) == "compact"
    assert asyncio.run(policy(DLQ.name)) == "delete"


def test_avro_events_flow_through_a_consumer_group_that_resumes_at_its_commit(
    broker: EmbeddedBroker,
) -> None:
    async def scenario() -> None:
        topic = await private_topic(broker.bootstrap, "roundtrip")
        group = f"test-group-{uuid.uuid4().hex[:6]}"
        first = [profile_event(n) for n in range(200)]
        await produce(broker.bootstrap, topic, first)
        seen = await consume_all(broker.bootstrap, topic, 200, group=group)
        assert len(seen) == 200
        codec = AvroCodec("profiles")
        decoded = [codec.decode(r.value) for r in seen]
        assert {d.fields["event_id"] for d in decoded} == {uuid.UUID(int=n) for n in range(200)}
        assert all(d.type == "ProfileEstablished" for d in decoded)
        # the producer followed the partitioning contract: murmur2 of the PESEL bytes
        for record in seen:
            assert record.key is not None
            assert record.partition == expected_partition(record.key, PARTITIONS)

        # the group committed: a new member reads only what came after
        later = [profile_event(n) for n in range(200, 250)]
        await produce(broker.bootstrap, topic, later)
        resumed = await consume_all(broker.bootstrap, topic, 50, group=group)
        ids = {codec.decode(r.value).fields["event_id"] for r in resumed}
        assert ids == {uuid.UUID(int=n) for n in range(200, 250)}

    asyncio.run(scenario())


def test_an_unreadable_record_is_dead_lettered_with_its_origin(broker: EmbeddedBroker) -> None:
    async def scenario() -> None:
        topic = await private_topic(broker.bootstrap, "dlq-source")
        dlq = await private_topic(broker.bootstrap, "dlq")
        good_key, good_value = profile_event(1)
        await produce(
            broker.bootstrap, topic, [(good_key, b"\xc3\x01\x00\x01"), (good_key, good_value)]
        )
        records = await consume_all(broker.bootstrap, topic, 2)

        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
        await producer.start()

        async def send(
            t: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
        ) -> None:
            await producer.send_and_wait(t, value=value, key=key, headers=headers)

        codec, accepted = AvroCodec("profiles"), []
        try:
            for record in records:
                try:
                    accepted.append(codec.decode(record.value))
                except UndecodableRecord as exc:
                    letter = DeadLetter(
                        "eligibility",
                        record.topic,
                        record.partition,
                        record.offset,
                        record.key,
                        record.value,
                        exc.reason.value,
                        str(exc),
                        "services.runtime.codec.UndecodableRecord",
                        Stage.VALUE_CONVERTER,
                    )
                    await send_dead_letter(send, letter, topic=dlq)
        finally:
            await producer.stop()
        assert len(accepted) == 1

        [dead] = await consume_all(broker.bootstrap, dlq, 1)
        assert (dead.key, dead.value) == (good_key, b"\xc3\x01\x00\x01")
        errors = read_error_headers(list(dead.headers))
        assert errors["topic"] == topic
        assert errors["partition"] == str(records[0].partition)
        assert errors["offset"] == str(records[0].offset)
        assert errors["reason"] == "truncated-header"
        assert errors["stage"] == "VALUE_CONVERTER"
        assert "10-byte" in errors["exception.message"]

    asyncio.run(scenario())
