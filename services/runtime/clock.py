"""The clock every service shares: ``PAI_CLOCK=system`` (wall clock) or ``topic``.

With ``topic`` the time is the greatest ``ClockTick`` seen on ``pai.clock.v1``
(read by every worker; see :mod:`services.runtime.clock_reader`), so tests and
simulations move through months in seconds. A worker handles no input before
its clock is :meth:`~Clock.ready`: a topic clock once its reader has read every
tick the topic held when the worker started (on Apache Kafka a worker gets its
partitions at once, and judged events by a clock that had not read the ticks
sent before them). If the topic holds no tick yet, ``now()`` is None and callers
fall back to the time of the event they handle. Calendar dates are Europe/Warsaw
dates.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

WARSAW = ZoneInfo("Europe/Warsaw")


def warsaw_date(instant: dt.datetime) -> dt.date:
    """The Europe/Warsaw calendar date of an aware instant."""
    return instant.astimezone(WARSAW).date()


class Clock(Protocol):
    """Tells the current instant, or None when it is not known yet."""

    def now(self) -> dt.datetime | None: ...

    async def ready(self) -> None:
        """Return once the clock tells the time it will tell for the input read next."""


class SystemClock:
    """The wall clock (UTC)."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    async def ready(self) -> None:
        return None


class TopicClock:
    """The greatest instant observed; never moves back."""

    def __init__(self) -> None:
        self._now: dt.datetime | None = None
        self.caught_up = asyncio.Event()
        """Set by the reader once it has read the ticks the topic held at start."""

    async def ready(self) -> None:
        await self.caught_up.wait()

    def observe(self, instant: dt.datetime) -> bool:
        """Take a tick; True when it moved the clock forward."""
        if self._now is None or instant > self._now:
            self._now = instant
            return True
        return False

    def now(self) -> dt.datetime | None:
        return self._now


def clock_for(source: str) -> SystemClock | TopicClock:
    """The clock named by ``PAI_CLOCK``."""
    if source == "system":
        return SystemClock()
    if source == "topic":
        return TopicClock()
    raise ValueError(f"unknown clock source {source!r}: system or topic")
