"""Every worker's live view of the erasure markers (``pai.erasures.v1``): the Kafka adapter
of :mod:`services.personal_data.erasures`.

A group-less consumer assigned every partition reads the compacted topic from its start
and follows it (as the program editions are followed, :mod:`services.scheduler.editions`);
:attr:`ErasureView.caught_up` is set once it has read up to the ends it found at start, and
a service handles no input before that. :func:`read_erasures` reads it once (for
``pai dlq replay``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from aiokafka import ConsumerRecord

from services.personal_data.erasures import Erasures
from services.runtime.codec import AvroCodec, UndecodableRecord
from services.runtime.end_offsets import fetched_end_offsets
from services.runtime.inbound import Rejected
from services.runtime.settings import Settings, kafka_client_kwargs
from services.runtime.topic_reader import read_until_now, read_whole_topic
from services.runtime.topics import ERASURES

log = logging.getLogger(__name__)
CODEC = AvroCodec("erasures")


def _apply(erasures: Erasures, record: ConsumerRecord[bytes, bytes]) -> None:
    if record.value is None:
        erasures.apply(record.key, None)
        return
    try:
        erasures.apply(record.key, CODEC.decode(record.value).fields)
    except UndecodableRecord as exc:  # only pai forget writes here: say so, do not stop
        log.error(
            "%s[%d]@%d is no erasure marker: %s",
            ERASURES.name,
            record.partition,
            record.offset,
            exc,
        )


SEEN_WAIT_S = 5.0
"""How long an erasure in a service waits for the marker ``pai forget`` wrote just before."""


class ErasureView:
    def __init__(self, client_kwargs: Mapping[str, Any], secret: str | None) -> None:
        self.client_kwargs = client_kwargs
        self.erasures = Erasures(secret)
        self.caught_up = asyncio.Event()

    @classmethod
    def of(cls, settings: Settings) -> ErasureView:
        """The view a service of ``settings`` keeps (its Kafka client, the audit hash secret)."""
        secret = settings.audit_hash_secret
        return cls(
            kafka_client_kwargs(settings), None if secret is None else secret.get_secret_value()
        )

    def check(self, person_id: str, occurred_at: dt.datetime) -> None:
        """Rejected (``person-erased``) for input of a person erased at or after it
        occurred; the message names the hash, never the PESEL."""
        erased_at = self.erasures.erased_at(person_id, occurred_at)
        if erased_at is not None:
            raise Rejected(
                "person-erased",
                f"the person (hash {self.erasures.hash_of(person_id)}) was erased at"
                f" {erased_at.isoformat()}, after this event occurred ({occurred_at.isoformat()});"
                " a later event creates a new state",
            )

    async def seen(self, person_id: str, timeout_s: float = SEEN_WAIT_S) -> bool:
        """Wait (up to ``timeout_s``) until the person's marker is read: an erasure then
        leaves no moment in which a late event could bring the person back."""
        if self.erasures.secret is None:
            return False
        deadline = asyncio.get_running_loop().time() + timeout_s
        hashed = self.erasures.hash_of(person_id)
        while hashed not in self.erasures.erased:
            if asyncio.get_running_loop().time() > deadline:
                log.warning("no erasure marker for hash %s on %s", hashed, ERASURES.name)
                return False
            await asyncio.sleep(0.05)
        return True

    async def run(self) -> None:
        """Follow the topic until cancelled."""
        consumer, tps = await read_whole_topic(self.client_kwargs, ERASURES.name)
        try:
            ends = await fetched_end_offsets(self.client_kwargs, await consumer.end_offsets(tps))
            while True:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    for record in records:
                        _apply(self.erasures, record)
                if not self.caught_up.is_set():
                    positions = [await consumer.position(tp) for tp in tps]
                    if all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True)):
                        log.info("erasure markers read: %d", len(self.erasures.erased))
                        self.caught_up.set()
        finally:
            await consumer.stop()


async def read_erasures(client_kwargs: Mapping[str, Any], secret: str | None) -> Erasures:
    """The markers on the topic now."""
    erasures = Erasures(secret)
    for record in await read_until_now(client_kwargs, ERASURES.name):
        _apply(erasures, record)
    return erasures
