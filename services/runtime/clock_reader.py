"""Feeds a :class:`~services.runtime.clock.TopicClock` from ``pai.clock.v1`` in every worker.

A group-less aiokafka consumer assigned every partition of the clock topic, so
each worker sees every tick (a Faust GlobalTable does not follow other workers'
writes live: faust-streaming #283). A tick that cannot be read is dead-lettered, and so is
one whose ``now`` lies outside :mod:`services.runtime.date_range` (reason
``date-out-of-range``): the clock keeps the greatest tick, so one of 9999-12-31T23:30Z
would stay for ever and make every timer's Warsaw date overflow.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from services.runtime import date_range, lost_records
from services.runtime.clock import TopicClock
from services.runtime.codec import AvroCodec
from services.runtime.deadletter import DeadLetter
from services.runtime.end_offsets import fetched_end_offsets
from services.runtime.inbound import Inbound, Rejected, dead_letter, decode
from services.runtime.topic_reader import read_whole_topic
from services.runtime.topics import CLOCK

log = logging.getLogger(__name__)

OnTick = Callable[[], Awaitable[None]]


def read_tick(inbound: Inbound, codec: AvroCodec) -> dt.datetime:
    """The instant a ``ClockTick`` record tells; :class:`Rejected` when it cannot be read or
    lies outside :mod:`services.runtime.date_range` (the field named)."""
    tick = decode(inbound, codec)
    outside = date_range.out_of_range(tick.fields)
    if outside is not None:
        raise Rejected("date-out-of-range", date_range.describe(tick.type, *outside))
    now: dt.datetime = tick.fields["now"]
    return now


async def follow_clock(
    clock: TopicClock,
    client_kwargs: dict[str, Any],
    service: str,
    send_dead_letter: Callable[[DeadLetter], Awaitable[None]],
    on_tick: OnTick | None = None,
    rewind_past_end: bool = False,
) -> None:
    """Read ticks forever (until cancelled); call ``on_tick`` when the clock moves forward."""
    codec = AvroCodec(CLOCK.schema or "clock")
    consumer, tps = await read_whole_topic(client_kwargs, CLOCK.name)
    watch = lost_records.Watch(consumer, rewind_past_end, client_kwargs)
    try:
        ends = await fetched_end_offsets(client_kwargs, await consumer.end_offsets(tps))
        while True:
            await watch.check()
            if not clock.caught_up.is_set():
                positions = [await consumer.position(tp) for tp in tps]
                if all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True)):
                    clock.caught_up.set()
            batches = await consumer.getmany(timeout_ms=500)
            moved = False
            for records in batches.values():
                for record in records:
                    inbound = Inbound.of(record)
                    try:
                        now = read_tick(inbound, codec)
                    except Rejected as rejected:
                        await send_dead_letter(dead_letter(service, inbound, rejected))
                        continue
                    moved = clock.observe(now) or moved
            if moved and on_tick is not None:
                await on_tick()
    finally:
        await consumer.stop()
