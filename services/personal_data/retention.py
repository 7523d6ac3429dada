"""Retention: when a person's state ends, and the last event it is counted from.

A person's state ends ``PAI_PERSON_RETENTION_YEARS`` after their last event (10 by
default: the archival duties of a public office come first, RODO art. 17(3)(b), and the
office sets the period its archival rules require). The last event is read from what
the state already holds, so the services' hot paths keep nothing more: for eligibility
the latest ``occurred_at`` of the events it kept (not a decision by date, which is no
event of the person), for the
scheduler the latest date of its cycles, reviews and decisions seen. A state with no
date at all is kept (nothing says when it ended). Pure: no Kafka, HTTP or Avro here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from services.eligibility.rules import PersonState
from services.scheduler.domain import Schedule


def cutoff(today: dt.date, years: int) -> dt.date:
    """The day ``years`` before ``today`` (29 February → 28 February)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def expired(last_event: dt.date | None, today: dt.date, years: int) -> bool:
    """Whether a state whose last event was on ``last_event`` has passed its retention."""
    return last_event is not None and last_event < cutoff(today, years)


def _latest(days: Iterable[dt.date | None]) -> dt.date | None:
    known = [d for d in days if d is not None]
    return max(known) if known else None


def eligibility_last_event(state: PersonState) -> dt.date | None:
    """The date of the latest event eligibility kept for the person (UTC dates)."""
    stamps = [
        state.registration_stamp,
        state.profile_stamp,
        state.benefits_stamp,
        *(p.stamp for p in state.profiles),
        *(g.stamp for g in state.grants),
        *(e.stamp for e in state.benefit_ends),
        *(c.stamp for c in state.contracts.values()),
    ]
    return _latest([s.date() for s in stamps if s is not None])


def schedule_last_event(schedule: Schedule) -> dt.date | None:
    """The latest date the scheduler holds for the person."""
    days: list[dt.date | None] = [p.effective_from for p in schedule.eligibility]
    for cycle in schedule.cycles:
        days += [cycle.start_on, cycle.last_day, cycle.ended_on, cycle.pending_end]
        days += [r.reviewed_on for r in cycle.reviews]
    return _latest(days)
