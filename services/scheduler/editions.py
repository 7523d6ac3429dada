"""Every worker's live view of the program editions (``pai.pup.program-editions.v1``).

A group-less aiokafka consumer assigned every partition of the compacted topic
reads it from the start and keeps the latest record per ``edition_id`` (a
tombstone removes it). A Faust GlobalTable would not follow other workers'
writes between rebalances (faust-streaming #283), so each worker reads the topic
itself. :attr:`EditionsView.caught_up` is set once the view has read up to the
end offsets it found at start, taken from fetch high watermarks because the
embedded broker's ListOffsets can be stale (:mod:`services.runtime.end_offsets`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import ConsumerRecord

from services.runtime import lost_records
from services.runtime.codec import AvroCodec
from services.runtime.deadletter import DeadLetter
from services.runtime.end_offsets import fetched_end_offsets
from services.runtime.inbound import Inbound, Rejected, dead_letter, decode
from services.runtime.topic_reader import read_whole_topic
from services.runtime.topics import PROGRAM_EDITIONS
from services.scheduler.domain import Edition

log = logging.getLogger(__name__)


class EditionsView:
    def __init__(
        self,
        client_kwargs: dict[str, Any],
        service: str,
        send_dead_letter: Callable[[DeadLetter], Awaitable[None]],
        rewind_past_end: bool = False,
    ) -> None:
        self.client_kwargs = client_kwargs
        self.rewind_past_end = rewind_past_end
        self.service = service
        self.send_dead_letter = send_dead_letter
        self.editions: dict[str, Edition] = {}
        self._stamps: dict[str, dt.datetime] = {}
        self.caught_up = asyncio.Event()
        self.codec = AvroCodec(PROGRAM_EDITIONS.schema or "program-editions")

    def get(self, edition_id: str) -> Edition | None:
        return self.editions.get(edition_id)

    async def run(self) -> None:
        """Follow the topic until cancelled."""
        consumer, tps = await read_whole_topic(self.client_kwargs, PROGRAM_EDITIONS.name)
        try:
            listed = await consumer.end_offsets(tps)
            ends = await fetched_end_offsets(self.client_kwargs, listed)
            watch = lost_records.Watch(consumer, self.rewind_past_end, self.client_kwargs)
            while True:
                await watch.check()
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    for record in records:
                        await self._apply(record)
                if not self.caught_up.is_set():
                    positions = [await consumer.position(tp) for tp in tps]
                    if all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True)):
                        log.info("program editions read: %d", len(self.editions))
                        self.caught_up.set()
        finally:
            await consumer.stop()

    async def _apply(self, record: ConsumerRecord[bytes, bytes]) -> None:
        inbound = Inbound.of(record)
        if record.value is None:  # tombstone: the edition is withdrawn
            if record.key is not None:
                self.editions.pop(record.key.decode(errors="replace"), None)
            return
        try:
            fields = decode(inbound, self.codec).fields
            if record.key != fields["edition_id"].encode():
                raise Rejected(
                    "key-mismatch",
                    f"the key {(record.key or b'')[:64]!r} differs from edition_id"
                    f" {fields['edition_id']!r}: key editions by edition_id",
                )
            if fields["valid_to"] < fields["valid_from"]:
                raise Rejected(
                    "impossible-dates",
                    f"valid_to {fields['valid_to']} is before valid_from {fields['valid_from']}",
                )
        except Rejected as rejected:
            await self.send_dead_letter(dead_letter(self.service, inbound, rejected))
            return
        edition_id = fields["edition_id"]
        if edition_id in self._stamps and fields["occurred_at"] < self._stamps[edition_id]:
            return  # an older version arriving late
        self._stamps[edition_id] = fields["occurred_at"]
        self.editions[edition_id] = Edition(
            edition_id=edition_id,
            pup_code=fields["pup_code"],
            ops_codes=frozenset(fields["ops_codes"]),
            council_opinion_on=fields["council_opinion_on"],
            valid_from=fields["valid_from"],
            valid_to=fields["valid_to"],
        )
