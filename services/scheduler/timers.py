"""The scheduler's durable timers: which persons have a deadline due, and firing them.

The deadlines themselves live in each person's schedule (a changelogged
table), so they survive restarts and rebalances; this index only says whose
schedule to open. It is rebuilt from the table's values when partitions are
assigned (reading the next-due prefix of :mod:`services.scheduler.stored`),
and a tick pops only the persons due, so it costs O(due persons), not O(all).
No Kafka, HTTP or Avro here: the worker sends what :meth:`Timers.fire` returns.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from services.runtime.due_index import DueIndex
from services.scheduler import domain, stored
from services.scheduler.domain import Config, Outgoing, Schedule


@dataclass(frozen=True, slots=True)
class Fired:
    """One person's deadlines that came due: what to emit, then what to store."""

    key: bytes
    schedule: Schedule
    events: list[Outgoing]
    value: bytes
    next_due: dt.date | None


class Timers:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.index: DueIndex[bytes] = DueIndex()

    def __len__(self) -> int:
        return len(self.index)

    def rebuild(self, items: Iterable[tuple[bytes, bytes]]) -> int:
        """Index every stored schedule with a pending deadline; how many were indexed."""
        dates: dict[bytes, dt.date | None] = {}  # one date object per distinct day

        def due(raw: bytes) -> dt.date | None:
            prefix = raw[:10]
            if prefix not in dates:
                dates[prefix] = stored.due_of(raw)
            return dates[prefix]

        self.index.replace_all((key, due(raw)) for key, raw in items)
        # A full collection now lets the interpreter stop tracking the index's million
        # (date, key) tuples, which the first collection after a rebuild would otherwise
        # do in the middle of a tick (~50 ms with 1,000,000 entries, bench/scheduler.py).
        gc.collect()
        return len(self.index)

    def fire(self, load: Callable[[bytes], bytes | None], today: dt.date) -> list[Fired]:
        """Every person with a deadline due by ``today``, with the events it brings.

        The persons leave the index; the caller puts them back with
        :meth:`settle` once their events are sent and their schedules stored,
        or with :meth:`retry` when sending failed.
        """
        fired = []
        for key in list(self.index.pop_due(today)):
            raw = load(key)
            if raw is None:
                continue
            schedule = stored.unpack(raw)
            events, next_due = domain.fire_due(schedule, today, self.config)
            fired.append(Fired(key, schedule, events, stored.pack(schedule, next_due), next_due))
        return fired

    def settle(self, key: bytes, next_due: dt.date | None) -> None:
        self.index.schedule(key, next_due)

    def retry(self, fired: Iterable[Fired], today: dt.date) -> None:
        """Put persons whose events could not be sent back as due now."""
        for item in fired:
            self.index.schedule(item.key, today)
