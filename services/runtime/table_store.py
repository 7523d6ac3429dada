"""A RocksDB table store that places keys by murmur2 when there is no current event.

faust-streaming 0.15.3's RocksDB store finds the partition of a write from the
event being processed (``current_event()``) and asserts there is one; a table
with ``use_partitioner=True`` written from a timer, a web view or a
``take_events`` batch has none, and the write crashed with ``AssertionError``.
For such tables this store uses the partition murmur2 of the key gives, the
same one the changelog record goes to, so recovery and writes agree.
Registered as the ``pai-rocksdb://`` store URL (:func:`register`).
"""

from __future__ import annotations

from faust import stores
from faust.stores.rocksdb import Store as RocksDBStore
from faust.streams import current_event

from services.runtime.partitioning import expected_partition

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
