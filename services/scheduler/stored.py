"""How one person's schedule is kept in the ``schedules`` table.

A value is the date of the person's next pending deadline as ten ASCII
characters (``YYYY-MM-DD``, or ten ``-`` when nothing is pending), a newline,
then the :class:`~services.scheduler.domain.Schedule` as JSON. Rebuilding the
due index after a partition assignment reads only that prefix instead of
parsing every schedule, which is what keeps a rebuild for a million open
cycles within seconds (``bench/scheduler.py``).
"""

from __future__ import annotations

import datetime as dt

from services.scheduler.domain import Schedule

NOTHING_DUE = b"-" * 10


def pack(schedule: Schedule, next_due: dt.date | None) -> bytes:
    prefix = next_due.isoformat().encode() if next_due else NOTHING_DUE
    return prefix + b"\n" + schedule.model_dump_json().encode()


def unpack(raw: bytes) -> Schedule:
    return Schedule.model_validate_json(raw[11:])


def due_of(raw: bytes) -> dt.date | None:
    prefix = raw[:10]
    return None if prefix == NOTHING_DUE else dt.date.fromisoformat(prefix.decode())


def dated(raw: bytes, day: dt.date) -> bytes:
    """A value stored before schedules kept their last input, dated ``day`` (its start,
    UTC): the retention sweep's migration. Nothing such a value holds bounds the inputs
    it took (a rejected referral or PSU hours keep no date), so it counts from the day
    the sweep first meets it: kept at least as long as the law asks, never cut short."""
    schedule = unpack(raw)
    schedule.last_event_at = dt.datetime.combine(day, dt.time(), dt.UTC)
    return raw[:11] + schedule.model_dump_json().encode()
