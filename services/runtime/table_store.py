"""A RocksDB table store that places keys by murmur2 when there is no current event.

faust-streaming 0.15.3's RocksDB store finds the partition of a write from the
event being processed (``current_event()``) and asserts there is one; a table
with ``use_partitioner=True`` written from a timer, a web view or a
``take_events`` batch has none, and the write crashed with ``AssertionError``.
For such tables this store uses the partition murmur2 of the key gives, the
same one the changelog record goes to, so recovery and writes agree.
Registered as the ``pai-rocksdb://`` store URL (:func:`register`).

:func:`write_through` writes a batch of values without Faust's per-record publish
path (``Table.__setitem__`` queues one changelog record per key through the
topic's ``send_soon`` buffer, ~300 µs a write here, STACK-FACTS.md): the batch's
changelog records go straight to the app's producer, each to the partition
murmur2 of its key gives, and RocksDB is written at once. The guarantees are
those of Faust's own path: the caller sends the changelog only after its batch's
effects are acknowledged (a changelog ahead of its effects would let a worker
taking over skip a decision it never sent); Faust flushes the producer before it
commits offsets, so no input offset is committed before the changelog records of
its batch are acknowledged; each acknowledgement advances the partition's
persisted changelog offset as Faust's callback does, and a record the broker
refuses is logged. Measured in docs/benchmarks.md (issue 18): awaiting the
changelog's acknowledgement inside the batch as well cost a second round trip per
batch and made the worker slower than Faust's path.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping
from typing import Any

from faust import stores
from faust.stores.rocksdb import Store as RocksDBStore
from faust.streams import current_event

from services.runtime.partitioning import expected_partition

log = logging.getLogger(__name__)

URL = "pai-rocksdb://"


class PartitionedRocksDBStore(RocksDBStore):
    def _partition_of(self, key: bytes) -> int | None:
        if self.table.use_partitioner:
            partitions = self.table.partitions or self.app.conf.topic_partitions
            return expected_partition(key, partitions)
        event = current_event()
        return None if event is None else int(event.message.partition)

    def _set(self, key: bytes, value: bytes | None) -> None:
        partition = self._partition_of(key)
        if partition is None:
            raise RuntimeError(
                f"table {self.table.name}: a write outside stream iteration"
                " needs use_partitioner=True"
            )
        self._key_index[key] = partition
        self._db_for_partition(partition).put(key, value)

    def _get(self, key: bytes) -> bytes | None:
        if not self.table.use_partitioner:
            return super()._get(key)
        partition = self._partition_of(key)
        assert partition is not None
        value = self._db_for_partition(partition).get(key)
        return value  # type: ignore[no-any-return]


def register() -> None:
    """Make ``pai-rocksdb://`` a store URL Faust knows (idempotent)."""
    stores.STORES.data["pai-rocksdb"] = f"{__name__}:PartitionedRocksDBStore"


async def write_through(table: Any, values: Mapping[bytes, bytes]) -> None:
    """Send ``values`` to ``table``'s changelog and write them to its RocksDB store (a
    ``use_partitioner`` table of this store; see the module docstring)."""
    if not values:
        return
    app = table.app
    topic = table.changelog_topic.get_topic_name()
    partitions = table.partitions or app.conf.topic_partitions
    store = table.data
    for key, value in values.items():
        sent = await app.producer.send(
            topic, key, value, expected_partition(key, partitions), None, None
        )
        asyncio.ensure_future(sent).add_done_callback(functools.partial(_persisted, store, topic))
        store[key] = value


def _persisted(store: Any, topic: str, sent: asyncio.Future[Any]) -> None:
    """Faust's ``_on_changelog_sent``: the store remembers how far its changelog is written."""
    if sent.cancelled():
        return
    if (exc := sent.exception()) is not None:
        log.error("a changelog record of %s was refused: %r", topic, exc)
        return
    metadata = sent.result()
    try:
        store.set_persisted_offset(metadata.topic_partition, metadata.offset)
    except Exception as exc:  # the partition's database closed meanwhile (a rebalance)
        log.info("persisted offset of %s not kept: %r", metadata.topic_partition, exc)
