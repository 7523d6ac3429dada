"""What the embedded broker hid, checked on Apache Kafka: idempotent producers, compaction of
the editions topic (a tombstone removes an edition for a reader that comes later), a consumer
past a partition's end reset by the broker itself, and the topics Faust creates for itself
created as the manifests declare them. docs/architecture.md states each finding.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from services.local.embedded_broker import EmbeddedBroker
from services.runtime.group_progress import caught_up
from services.runtime.processes import terminate
from services.runtime.settings import load_settings, producer_kwargs
from services.runtime.topic_reader import read_until_now
from services.runtime.topics import PROGRAM_EDITIONS
from tests.integration.kafka_helpers import (
    FAST_COMPACTION,
    produce,
    set_topic_configs,
    topic_configs,
)
from tests.support import events as ev
from tests.support.apache_kafka import ROOT, KafkaCluster
from tests.support.editions import running_editions_view
from tests.support.workers import PARTITIONS, WORKER_ENV, start_worker, wait_ready

pytestmark = pytest.mark.integration
D = dt.date


def test_the_services_producers_are_idempotent_where_the_broker_allows(
    kafka: KafkaCluster, tansu: EmbeddedBroker
) -> None:
    async def send(bootstrap: str, kind: str) -> None:
        options = producer_kwargs(load_settings(kafka_broker=kind))
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **options)
        try:
            await asyncio.wait_for(producer.start(), 20)
            await asyncio.wait_for(
                (await producer.send("pai.clock.v1", ev.tick(dt.datetime.now(dt.UTC)))), 20
            )
        finally:
            await producer.stop()

    assert producer_kwargs(load_settings(kafka_broker="kafka"))["enable_idempotence"] is True
    asyncio.run(send(kafka.bootstrap, "kafka"))
    asyncio.run(send(tansu.bootstrap, "tansu"))  # off there: tansu refuses InitProducerId
    with pytest.raises((KafkaError, TimeoutError)):
        asyncio.run(send(tansu.bootstrap, "kafka"))


def test_the_editions_topic_compacts_and_a_tombstone_removes_an_edition_for_a_late_reader(
    kafka: KafkaCluster,
) -> None:
    tag = uuid.uuid4().hex[:6]
    kept, withdrawn = f"ED-{tag}-kept", f"ED-{tag}-withdrawn"
    topic = PROGRAM_EDITIONS.name
    bootstrap = kafka.internal_bootstrap if kafka.security else kafka.bootstrap

    async def mine() -> list[tuple[bytes, bytes | None]]:
        records = await read_until_now({"bootstrap_servers": bootstrap}, topic)
        return [(r.key, r.value) for r in records if r.key and tag.encode() in r.key]

    async def roll_every_partition() -> None:
        """A record on each partition: a new one rolls the active segment (never compacted)."""
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            key, value = ev.edition(f"ED-{tag}-roll", None, D(2026, 1, 1), D(2026, 6, 30))
            for partition in range(PARTITIONS):
                await producer.send_and_wait(topic, value, key=key, partition=partition)
        finally:
            await producer.stop()

    async def scenario() -> dict[str, Any]:
        before = await topic_configs(bootstrap, topic)
        assert before["cleanup.policy"] == "compact"
        # AlterConfigs replaces a topic's whole configuration: restate what creation set
        created = {name: before[name] for name in ("cleanup.policy", "retention.ms")}
        await set_topic_configs(bootstrap, topic, created | FAST_COMPACTION)
        try:
            await produce(
                bootstrap,
                topic,
                [
                    ev.edition(kept, None, D(2026, 1, 1), D(2026, 6, 30), seq=0),
                    ev.edition(withdrawn, D(2025, 12, 1), D(2026, 1, 1), D(2026, 6, 30)),
                    ev.edition(kept, D(2025, 12, 15), D(2026, 1, 1), D(2026, 6, 30), seq=1),
                    (withdrawn.encode(), None),  # type: ignore[list-item]  # withdrawn: a tombstone
                ],
            )
            assert len(await mine()) == 4
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                await roll_every_partition()
                left = [k for k, _v in await mine() if not k.endswith(b"-roll")]
                if left == [kept.encode()]:
                    break
                await asyncio.sleep(0.5)
            compacted = await mine()
            async with running_editions_view(bootstrap) as (view, _letters):
                seen = {"kept": view.get(kept), "withdrawn": view.get(withdrawn)}
            return {"compacted": compacted, **seen}
        finally:
            await set_topic_configs(
                bootstrap, topic, {name: before[name] for name in FAST_COMPACTION}
            )

    found = asyncio.run(scenario())
    mine_left = [(k, v) for k, v in found["compacted"] if not k.endswith(b"-roll")]
    assert [k for k, _v in mine_left] == [kept.encode()], "compaction kept the latest only"
    assert found["withdrawn"] is None
    assert found["kept"] is not None and found["kept"].council_opinion_on == D(2025, 12, 15)


def test_a_consumer_past_a_partitions_end_starts_again_by_itself_on_kafka(
    kafka: KafkaCluster,
) -> None:
    """The rewind of services/runtime/lost_records.py is for tansu: Kafka answers
    OFFSET_OUT_OF_RANGE and the client resets to the earliest offset itself."""
    topic = f"pai.test.past-end.{uuid.uuid4().hex[:8]}"
    bootstrap = kafka.internal_bootstrap if kafka.security else kafka.bootstrap

    async def scenario() -> tuple[list[bytes], float]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        await admin.create_topics([NewTopic(topic, 1, 1)])
        await produce(bootstrap, topic, [(b"k", f"old-{n}".encode()) for n in range(100)])
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            metadata_max_age_ms=1000,
        )
        await consumer.start()
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        try:
            seen: list[bytes] = []
            while len(seen) < 100:
                for records in (await consumer.getmany(timeout_ms=1000)).values():
                    seen.extend(r.value for r in records)
            # the broker loses the records behind the position: the topic is deleted and
            # created again (as a restarted tansu brings its topics back empty)
            await admin.delete_topics([topic])
            await asyncio.sleep(2)
            for _ in range(20):
                try:
                    await admin.create_topics([NewTopic(topic, 1, 1)])
                    break
                except KafkaError:
                    await asyncio.sleep(0.5)
            await produce(bootstrap, topic, [(b"k", f"new-{n}".encode()) for n in range(3)])
            started, fresh = time.monotonic(), list[bytes]()
            while len(fresh) < 3 and time.monotonic() - started < 60:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    fresh.extend(r.value for r in records if r.value.startswith(b"new"))
            return fresh, time.monotonic() - started
        finally:
            await consumer.stop()
            await admin.close()

    fresh, took = asyncio.run(scenario())
    assert fresh == [b"new-0", b"new-1", b"new-2"], f"after {took:.1f} s"


def _manifest_topics() -> dict[str, dict[str, Any]]:
    path = ROOT / "deploy" / "k8s" / "base" / "kafka" / "topics.yaml"
    return {
        doc["spec"]["topicName"]: doc["spec"]
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if doc and doc.get("kind") == "KafkaTopic"
    }


@pytest.mark.parametrize(
    ("service", "topics"),
    [
        (
            "eligibility",
            ["pai-eligibility-persons-changelog", "pai-eligibility-__assignor-__leader"],
        ),
        ("scheduler", ["pai-scheduler-schedules-changelog", "pai-scheduler-__assignor-__leader"]),
    ],
)
def test_faust_creates_its_own_topics_as_the_manifests_declare_them(
    kafka: KafkaCluster, tmp_path: Path, service: str, topics: list[str]
) -> None:
    log = tmp_path / f"{service}.log"
    worker, port = start_worker(
        f"services.{service}", kafka.bootstrap, tmp_path / "data", log, **WORKER_ENV
    )
    try:
        wait_ready(worker, port, 60, log)
    finally:
        terminate(worker, grace_s=15)
    declared = _manifest_topics()

    async def actual(topic: str) -> tuple[int, dict[str, str]]:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
        await admin.start()
        try:
            (description,) = await admin.describe_topics([topic])
        finally:
            await admin.close()
        return len(description["partitions"]), await topic_configs(kafka.bootstrap, topic)

    for topic in topics:
        partitions, configs = asyncio.run(actual(topic))
        spec = declared[topic]
        expected = PARTITIONS if spec["partitions"] > 1 else 1  # the manifests: 12 and 1
        assert partitions == expected, topic
        for name, value in spec.get("config", {}).items():
            assert configs[name] == str(value), (topic, name, configs[name], value)


def test_a_group_that_committed_nothing_is_not_caught_up(kafka: KafkaCluster) -> None:
    """On Kafka a consumer that subscribes to nothing knew no topic's partitions, so every
    topic looked caught up (the scheduler crash test then referred people before their
    decisions were read). Once the group commits to the end, it is."""
    topic = f"pai.test.progress.{uuid.uuid4().hex[:8]}"
    group = f"pai-test-{uuid.uuid4().hex[:8]}"
    client = {"bootstrap_servers": kafka.internal_bootstrap if kafka.security else kafka.bootstrap}

    async def scenario() -> tuple[bool, bool]:
        admin = AIOKafkaAdminClient(**client)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(topic, 2, 1)])
        finally:
            await admin.close()
        await produce(client["bootstrap_servers"], topic, [(b"a", b"1"), (b"b", b"2")])
        before = await caught_up(client, group, [topic])
        consumer = AIOKafkaConsumer(
            topic, **client, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False
        )
        await consumer.start()
        try:
            seen = 0
            while seen < 2:
                seen += sum(len(r) for r in (await consumer.getmany(timeout_ms=1000)).values())
            await consumer.commit()
        finally:
            await consumer.stop()
        return before, await caught_up(client, group, [topic])

    assert asyncio.run(scenario()) == (False, True)
