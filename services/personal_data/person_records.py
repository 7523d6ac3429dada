"""A person's records on a per-person topic keyed ``<PESEL>:<id>``: read back, and written.

The disclosure register (``pai.notifier.disclosures.v1``) and the access log
(``pai.audit.v1``) put each record of a person on the partition murmur2 gives the PESEL,
so reading a person's entries reads one partition from its beginning to its end at the
time of asking (no consumer group). The Kafka adapter of :mod:`disclosures` and
:mod:`access_log`; errors a caller must handle are :class:`RecordsUnavailable`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from services.personal_data import access_log
from services.personal_data.disclosures import person_of_key
from services.runtime.codec import AvroCodec, UndecodableRecord
from services.runtime.end_offsets import fetched_end_offsets
from services.runtime.partitioning import expected_partition
from services.runtime.topics import AUDIT

METADATA_WAIT_S = 10.0
READ_TIMEOUT_S = 60.0
WRITE_TIMEOUT_S = 10.0


class RecordsUnavailable(RuntimeError):
    """The topic could not be read or written now; the message says what to do."""


async def partition_of(consumer: AIOKafkaConsumer, topic: str, person_id: str) -> int:
    """The partition of ``topic`` that holds ``person_id``'s records."""
    deadline = asyncio.get_running_loop().time() + METADATA_WAIT_S
    partitions = consumer.partitions_for_topic(topic)
    while not partitions:
        if asyncio.get_running_loop().time() > deadline:
            raise RecordsUnavailable(f"topic {topic} does not exist: run `pai topics create`")
        await asyncio.sleep(0.2)
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic)
    return expected_partition(person_id.encode(), len(partitions))


async def read_person(
    client_kwargs: Mapping[str, Any], topic: str, codec: AvroCodec, person_id: str
) -> list[tuple[bytes, dict[str, Any] | None]]:
    """Every record of ``person_id`` on ``topic`` in log order, decoded (``None``: a
    tombstone); records that do not decode are skipped (they are not the person's data)."""
    consumer = AIOKafkaConsumer(
        **client_kwargs, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=50
    )
    try:
        await consumer.start()
        tp = TopicPartition(topic, await partition_of(consumer, topic, person_id))
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await fetched_end_offsets(client_kwargs, await consumer.end_offsets([tp])))[tp]
        found: list[tuple[bytes, dict[str, Any] | None]] = []
        async with asyncio.timeout(READ_TIMEOUT_S):
            while await consumer.position(tp) < end:
                for records in (await consumer.getmany(tp, timeout_ms=500)).values():
                    for record in records:
                        if record.key is None or person_of_key(record.key) != person_id:
                            continue
                        if record.value is None:
                            found.append((record.key, None))
                            continue
                        try:
                            found.append((record.key, codec.decode(record.value).fields))
                        except UndecodableRecord:
                            continue
        return found
    except (KafkaError, TimeoutError, OSError) as exc:
        raise RecordsUnavailable(f"{topic} could not be read: {exc!r}") from exc
    finally:
        await consumer.stop()


Send = Callable[[str, bytes, bytes | None, int], Awaitable[None]]
"""``send(topic, key, value, partition)``: write one record and wait for its acknowledgement."""


def producer_send(producer: AIOKafkaProducer) -> Send:
    """A :data:`Send` over an aiokafka producer."""

    async def send(topic: str, key: bytes, value: bytes | None, partition: int) -> None:
        await producer.send_and_wait(topic, value=value, key=key, partition=partition)

    return send


class AccessLog:
    """Writes ``PersonDataRead`` records (a read is answered only once its record is) and
    ``PersonErased`` ones."""

    def __init__(self, send: Send, partitions: int, service: str) -> None:
        self.send = send
        self.partitions = partitions
        self.service = service
        self.codec = AvroCodec("audit")

    async def record_read(
        self, person_id: str, operator: str, user: str | None, what: str
    ) -> dict[str, Any]:
        """Write the read and wait for the broker (RecordsUnavailable when it cannot); the
        fields written."""
        key, fields = access_log.read_entry(
            person_id, operator, user, self.service, what, dt.datetime.now(dt.UTC)
        )
        value = self.codec.encode("PersonDataRead", fields)
        await self._write(key, value, expected_partition(person_id.encode(), self.partitions))
        return fields

    async def record_lookup(
        self,
        found: bool,
        secret: str | None,
        person_id: str,
        operator: str,
        user: str | None,
        what: str,
    ) -> dict[str, Any]:
        """Record a read once its answer is known: under the PESEL when it found the person's
        data, else under :func:`access_log.absent_id` (no PESEL written back)."""
        recorded = person_id if found else access_log.absent_id(secret, person_id)
        return await self.record_read(recorded, operator, user, what)

    async def record_erasure(
        self, secret: str, person_id: str, operator: str, reason: str, removed: list[str]
    ) -> None:
        """Write the fact of an erasure (no PESEL); RecordsUnavailable when it cannot."""
        key, fields = access_log.erasure_entry(
            secret, person_id, operator, reason, removed, dt.datetime.now(dt.UTC)
        )
        value = self.codec.encode("PersonErased", fields)
        await self._write(key, value, expected_partition(key, self.partitions))

    async def _write(self, key: bytes, value: bytes, partition: int) -> None:
        try:
            async with asyncio.timeout(WRITE_TIMEOUT_S):
                await self.send(AUDIT.name, key, value, partition)
        except (KafkaError, TimeoutError, OSError) as exc:
            raise RecordsUnavailable(
                f"the access could not be recorded in {AUDIT.name} ({exc!r}); nothing was shown"
            ) from exc
