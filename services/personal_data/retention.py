"""Retention: when a person's state ends, and the last event it is counted from.

A person's state ends ``PAI_PERSON_RETENTION_YEARS`` after their last event (10 by
default: the archival duties of a public office come first, RODO art. 17(3)(b), and the
office sets the period its archival rules require), counted from the later of that event
and the day their situation ends: a person is kept while it is in force. For eligibility
the last event is the latest ``occurred_at`` of the events it kept (not a decision by
date, which is no event of the person) and the situation a registration (it ends on
``deregistered_on``), a benefit grant (its ``valid_until`` or the ``BenefitsEnded`` that
ends it) and a social contract (its ``valid_until`` or ``ended_on``). For the scheduler it
is the later of the latest ``occurred_at`` of the inputs it took
(:attr:`~services.scheduler.domain.Schedule.last_event_at`: every input counts, a rejected
referral, an other-assistance referral or PSU hours as much as a decision), the latest
day the schedule names (a cycle's start, last day or end, a review or its due day, a
decision's start), so a cycle planned after its referral is not cut short, and the last
day its decisions make the person eligible (the day before a ``changes_on``). A situation
with no end (a registration not ended, a grant with no ``valid_until``, an eligible
decision with no ``changes_on``) never expires (:data:`IN_FORCE`). A
schedule stored before ``last_event_at`` was kept has no last event here: the sweep
dates it on the day it first meets it (:func:`services.scheduler.stored.dated`), since
nothing it holds bounds the inputs it took; an eligibility state with no date at all
is kept. A sweep counts to its clock's day held back to the wall clock's
(:func:`sweep_day`). Pure: no Kafka, HTTP or Avro here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from services.eligibility.rules import PersonState, grant_last_day
from services.scheduler.domain import Schedule


def cutoff(today: dt.date, years: int) -> dt.date:
    """The day ``years`` before ``today`` (29 February → 28 February)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def sweep_day(clock_day: dt.date, wall_day: dt.date) -> dt.date:
    """The day a retention sweep counts to: the service clock's, never past the wall
    clock's. With ``PAI_CLOCK=topic`` one far-future ``ClockTick`` (the topic clock keeps
    the greatest) would otherwise make every person look expired; so a person is removed
    only once retention has passed by both clocks. A clock behind the wall clock (a replay
    of past years) still counts by its own day, so a simulation keeps what it replays."""
    return min(clock_day, wall_day)


IN_FORCE = dt.date.max
"""The last day of a situation that has no end (an open registration, grant or eligibility
decision): retention never passes it."""
DAY = dt.timedelta(days=1)


def expired(last_event: dt.date | None, today: dt.date, years: int) -> bool:
    """Whether a state whose last event was on ``last_event`` has passed its retention."""
    return last_event is not None and last_event < cutoff(today, years)


def _latest(days: Iterable[dt.date | None]) -> dt.date | None:
    known = [d for d in days if d is not None]
    return max(known) if known else None


def eligibility_last_event(state: PersonState) -> dt.date | None:
    """The later of the latest event eligibility kept for the person (UTC dates) and the
    latest day their situation ends (a deregistration, a grant's or contract's last day);
    :data:`IN_FORCE` while a registration, grant or contract has no end."""
    stamps = eligibility_stamps(state)
    registration = state.deregistered_on
    if state.registered_on is not None and registration is None:
        registration = IN_FORCE
    ends = [registration, *(grant_last_day(state, g) or IN_FORCE for g in state.grants)]
    ends += [min(c.valid_until, c.ended_on or c.valid_until) for c in state.contracts.values()]
    return _latest([*(s.date() for s in stamps), *ends])


def eligibility_stamps(state: PersonState) -> list[dt.datetime]:
    """The instants of the events eligibility keeps for the person (each as eligibility
    counts it: an ``occurred_at`` no later than when its event was handled)."""
    stamps = [
        state.registration_stamp,
        state.profile_stamp,
        state.benefits_stamp,
        *(p.stamp for p in state.profiles),
        *(g.stamp for g in state.grants),
        *(e.stamp for e in state.benefit_ends),
        *(c.stamp for c in state.contracts.values()),
    ]
    return [stamp for stamp in stamps if stamp is not None]


def eligible_until(schedule: Schedule) -> dt.date | None:
    """The last day a decision the schedule holds makes the person eligible (the latest
    decision covering a day decides it); :data:`IN_FORCE` if one does with no end, None if
    none ever does. Eligibility changes only on a decision's first day or on its
    ``changes_on``, and after the latest of those days it no longer changes."""
    periods = schedule.eligibility
    bounds = sorted(
        {p.effective_from for p in periods} | {p.changes_on for p in periods if p.changes_on}
    )
    if bounds and schedule.eligible_on(bounds[-1]):
        return IN_FORCE
    # latest first: a person no longer eligible is found at the decision that ended it
    return next((b - DAY for b in reversed(bounds) if schedule.eligible_on(b - DAY)), None)


def schedule_last_event(schedule: Schedule) -> dt.date | None:
    """The later of the schedule's last input (UTC date), the latest day it names and the
    last day a decision makes the person eligible (:data:`IN_FORCE`: an open-ended one);
    None for a value stored before it kept its last input (the sweep dates it)."""
    if schedule.last_event_at is None:
        return None
    days: list[dt.date | None] = [schedule.last_event_at.astimezone(dt.UTC).date()]
    days += [p.effective_from for p in schedule.eligibility]
    days.append(eligible_until(schedule))
    for cycle in schedule.cycles:
        days += [cycle.start_on, cycle.last_day, cycle.ended_on, cycle.pending_end]
        days += [cycle.review_due_on, *(r.reviewed_on for r in cycle.reviews)]
    return _latest(days)
