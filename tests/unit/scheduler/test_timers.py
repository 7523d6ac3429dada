"""The due index over stored schedules: rebuilt from the table, a tick opens only who is due."""

from __future__ import annotations

import datetime as dt

from services.scheduler import domain, stored
from services.scheduler.domain import Config, Edition, Kind, Schedule
from services.scheduler.timers import Timers

D = dt.date
CONFIG = Config()
EDITION = Edition(
    "ED-1", "1465", frozenset({"1465011"}), D(2026, 1, 1), D(2026, 1, 1), D(2026, 12, 31)
)


def referred(person: str, start: dt.date) -> bytes:
    schedule = Schedule(person_id=person)
    domain.on_decision(schedule, D(2026, 1, 1), True)
    domain.on_referral(
        schedule, "ev", "REF", "ED-1", "1465", "1465011", start, EDITION, D(2026, 1, 1), CONFIG
    )
    return stored.pack(schedule, domain.next_due(schedule, CONFIG))


def test_stored_value_carries_the_next_due_date_and_reads_back() -> None:
    raw = referred("44051401359", D(2026, 2, 2))
    assert stored.due_of(raw) == D(2026, 2, 2)
    assert stored.unpack(raw).cycles[0].start_on == D(2026, 2, 2)
    assert stored.due_of(stored.pack(Schedule(person_id="44051401359"), None)) is None


def test_a_tick_opens_only_the_persons_due_and_returns_their_events() -> None:
    table = {b"A": referred("A", D(2026, 2, 2)), b"B": referred("B", D(2026, 3, 2))}
    opened: list[bytes] = []

    def load(key: bytes) -> bytes | None:
        opened.append(key)
        return table.get(key)

    timers = Timers(CONFIG)
    assert timers.rebuild(table.items()) == 2
    assert timers.fire(load, D(2026, 2, 1)) == []
    fired = timers.fire(load, D(2026, 2, 2))
    assert opened == [b"A"]
    assert [(f.key, [e.kind for e in f.events]) for f in fired] == [(b"A", [Kind.CYCLE_STARTED])]
    # next: the hours check of the first full week (2-8 February), two days after it
    assert fired[0].next_due == stored.due_of(fired[0].value) == D(2026, 2, 10)
    timers.settle(b"A", fired[0].next_due)
    assert timers.fire(load, D(2026, 2, 2)) == []  # a repeated tick emits nothing


def test_persons_whose_events_were_not_sent_are_due_again() -> None:
    table = {b"A": referred("A", D(2026, 2, 2))}
    timers = Timers(CONFIG)
    timers.rebuild(table.items())
    fired = timers.fire(table.get, D(2026, 2, 2))
    timers.retry(fired, D(2026, 2, 2))
    again = timers.fire(table.get, D(2026, 2, 2))
    assert [e.event_id for f in again for e in f.events] == [e.event_id for e in fired[0].events]
