"""Removing persons from a service's per-person table: the daily retention sweep (the Faust
adapter of :mod:`services.personal_data.retention`) and one person on request
(:func:`erase_person`, behind ``DELETE`` on the operator views, for ``pai forget``).

Once a day, each worker looks at the persons of the partitions it owns and removes those
whose last event is older than ``PAI_PERSON_RETENTION_YEARS`` before the day of its clock,
held back to the wall clock's day (:func:`~services.personal_data.retention.sweep_day`: a
far-future ``ClockTick`` removes no one who is not past retention by the wall clock
too). ``del`` on the table writes the changelog tombstone, so a worker recovering later
does not bring them back. A value with no date of its last event is dated the day of
the sweep when the service says how (the scheduler's values stored before they kept
one). It works in chunks under the service's lock, between batches.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from services.personal_data.retention import expired, sweep_day
from services.runtime.clock import warsaw_date
from services.runtime.partitioning import expected_partition

log = logging.getLogger(__name__)
CHUNK = 500
RETENTION_CHECK_S = 5.0
"""How often a worker asks whether a new day has come (it sweeps once a day)."""


async def erase_person(
    app: Any, table: Any, lock: asyncio.Lock, pesel: str, forget: Callable[[bytes], None]
) -> dict[str, Any]:
    """Remove ``pesel`` from ``table`` (the changelog gets a tombstone) and the service's
    index (``forget``), between batches; the producer is flushed before it answers."""
    key = pesel.encode()
    async with lock:
        present = table.get(key) is not None
        if present:
            del table[key]
        forget(key)
        await app.producer.flush()
    return {"table": table.name, "removed": int(present)}


class RetentionSweep:
    def __init__(
        self,
        table: Any,
        lock: asyncio.Lock,
        owned: Callable[[], frozenset[int]],
        partitions: int,
        last_event: Callable[[bytes], dt.date | None],
        years: int,
        forget: Callable[[bytes], None],
        undated: Callable[[bytes, dt.date], bytes] | None = None,
    ) -> None:
        """``last_event`` reads a stored value's last event (None: no date); ``undated``,
        when given, is the value to store instead of one with no date, dated the sweep's
        day (a migration of values stored before their last event was kept)."""
        self.table, self.lock, self.owned, self.partitions = table, lock, owned, partitions
        self.last_event, self.years, self.forget = last_event, years, forget
        self.undated = undated
        self.swept_on: dt.date | None = None
        self.held_back_on: dt.date | None = None

    async def sweep_at(self, now: dt.datetime, wall: dt.datetime) -> int:
        """:meth:`sweep` on the day of the service's clock ``now``, held back to the wall
        clock's day (:func:`~services.personal_data.retention.sweep_day`); a clock ahead is
        logged once per day of it."""
        day, wall_day = warsaw_date(now), warsaw_date(wall)
        if day > wall_day and self.held_back_on != day:
            self.held_back_on = day
            log.warning(
                "retention sweep of %s: the clock (%s) is ahead of the wall clock (%s);"
                " retention is counted to %s, the wall clock's day, so no person is removed"
                " before their period has passed by both",
                self.table.name,
                day,
                wall_day,
                wall_day,
            )
        return await self.sweep(sweep_day(day, wall_day))

    async def sweep(self, today: dt.date) -> int:
        """Remove the expired persons of the owned partitions, once per ``today``."""
        if self.swept_on == today:
            return 0
        owned = self.owned()
        if not owned:
            return 0
        keys = [
            k for k in list(self.table.keys()) if expected_partition(k, self.partitions) in owned
        ]
        removed = dated = 0
        for start in range(0, len(keys), CHUNK):
            async with self.lock:
                for key in keys[start : start + CHUNK]:
                    raw = self.table.get(key)
                    if raw is None:
                        continue
                    last = self.last_event(raw)
                    if last is None and self.undated is not None:
                        self.table[key] = self.undated(raw, today)
                        dated += 1
                    elif expired(last, today, self.years):
                        del self.table[key]
                        self.forget(key)
                        removed += 1
            await asyncio.sleep(0)
        self.swept_on = today
        log.log(
            logging.WARNING if removed else logging.INFO,
            "retention sweep of %s: %d of %d person(s) with a last event over %d years before"
            " it removed; %d stored before their last event was kept dated %s",
            today,
            removed,
            len(keys),
            self.years,
            dated,
            today,
        )
        return removed
