"""A person's PAI cycles and deadlines: what the scheduler decides, without Kafka or Avro.

Pure domain. :class:`Schedule` is one person's state (the table value); each
``on_*`` function changes it for one input and returns the :class:`Outgoing`
events to emit; :func:`on_day` fires the deadlines that have come. Every
deadline event has an id derived from (cycle, kind[, week]), and a fired
deadline is recorded in the state, so a repeat after a crash carries the same
id and a replayed tick emits nothing new. Rules: SPEC.md §1 (rules 2-5) and
"What the services decide"; periods: :mod:`services.scheduler.calendar`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from services.scheduler import calendar

NAMESPACE = uuid.UUID("2f8f6f4e-5a41-4f0c-8a55-4c3f7d7f9b21")
DAY = dt.timedelta(days=1)


class Kind(StrEnum):
    """Scheduler event kinds (record names of ``scheduler-events``)."""

    REFERRAL_ACCEPTED = "ReferralAccepted"
    REFERRAL_REJECTED = "ReferralRejected"
    CYCLE_STARTED = "CycleStarted"
    CYCLE_ENDING_SOON = "CycleEndingSoon"
    CYCLE_ENDED = "CycleEnded"
    PROFILE_REVIEW_DUE = "ProfileReviewDue"
    PROFILE_REVIEW_OVERDUE = "ProfileReviewOverdue"
    PROFILE_REVIEW_RECORDED = "ProfileReviewRecorded"
    CAP_EXHAUSTED = "CapExhausted"
    EXCLUSIVITY_CONFLICT = "ExclusivityConflict"
    INTEGRATION_HOURS_SHORTFALL = "IntegrationHoursShortfall"


class Rejection(StrEnum):
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    EDITION_UNKNOWN = "EDITION_UNKNOWN"
    EDITION_WITHOUT_COUNCIL_OPINION = "EDITION_WITHOUT_COUNCIL_OPINION"
    EDITION_OUTSIDE_VALIDITY = "EDITION_OUTSIDE_VALIDITY"
    EDITION_NOT_COVERING_OPS = "EDITION_NOT_COVERING_OPS"
    CYCLE_ALREADY_ACTIVE = "CYCLE_ALREADY_ACTIVE"
    CAP_EXHAUSTED = "CAP_EXHAUSTED"
    NO_PROFILE_REVIEW = "NO_PROFILE_REVIEW"


@dataclass(frozen=True)
class Config:
    ending_soon_days: int = 7
    review_due_days: int = 7
    weekly_hours: float = 10.0
    shortfall_after_days: int = 2


@dataclass(frozen=True)
class Edition:
    """A program edition as the PUP published it (``pai.pup.program-editions.v1``)."""

    edition_id: str
    pup_code: str
    ops_codes: frozenset[str]
    council_opinion_on: dt.date | None
    valid_from: dt.date
    valid_to: dt.date


@dataclass(frozen=True)
class Outgoing:
    """One event to emit: its record name, deterministic id and kind-specific fields."""

    kind: Kind
    event_id: str
    cycle: Cycle | None
    fields: dict[str, Any] = field(default_factory=dict)


class Cycle(BaseModel):
    cycle_id: str
    referral_id: str
    edition_id: str
    pup_code: str
    ops_code: str
    number: int
    start_on: dt.date
    last_day: dt.date
    """Planned last day: art. 112, or shortened to the days left under the cap."""
    full_last_day: dt.date
    """Where a full 2-month cycle from start_on would end (decides a full cycle's 60)."""
    ended_on: dt.date | None = None
    end_reason: str | None = None
    days_used: int | None = None
    review_due_on: dt.date | None = None
    reviewed: bool = False
    hours: dict[str, float] = Field(default_factory=dict)
    fired: list[str] = Field(default_factory=list)
    """Deadline keys (kind or kind:week) already emitted for this cycle."""
    closed: bool = False
    """Ended with every deadline emitted: nothing more can fall due for this cycle."""

    @property
    def active(self) -> bool:
        return self.ended_on is None


class Schedule(BaseModel):
    """Everything the scheduler keeps for one person."""

    person_id: str
    eligibility: list[tuple[dt.date, bool]] = Field(default_factory=list)
    cycles: list[Cycle] = Field(default_factory=list)
    seen_event_ids: list[str] = Field(default_factory=list)

    def eligible_on(self, day: dt.date) -> bool:
        """The latest decision decided on or before ``day`` (False with none)."""
        eligible = False
        for decided_on, value in self.eligibility:
            if decided_on <= day:
                eligible = value
        return eligible

    def used_days(self) -> int:
        return sum(c.days_used or 0 for c in self.cycles if not c.active)

    def cycle(self, referral_id: str) -> Cycle | None:
        return next((c for c in self.cycles if c.referral_id == referral_id), None)


def deadline_id(cycle: Cycle, kind: Kind, week: dt.date | None = None) -> str:
    suffix = f"|{week.isoformat()}" if week else ""
    return str(uuid.uuid5(NAMESPACE, f"{cycle.cycle_id}|{kind.value}{suffix}"))


def _emit_once(
    cycle: Cycle, kind: Kind, fields: dict[str, Any], week: dt.date | None = None
) -> list[Outgoing]:
    key = f"{kind.value}:{week.isoformat()}" if week else kind.value
    if key in cycle.fired:
        return []
    cycle.fired.append(key)
    return [Outgoing(kind, deadline_id(cycle, kind, week), cycle, fields)]


# -- inputs -------------------------------------------------------------------------------
def on_decision(schedule: Schedule, decided_on: dt.date, eligible: bool) -> None:
    """Remember an eligibility decision (kept ordered by date)."""
    schedule.eligibility = sorted(
        [*schedule.eligibility, (decided_on, eligible)], key=lambda x: x[0]
    )


def on_referral(
    schedule: Schedule,
    event_id: str,
    referral_id: str,
    edition_id: str,
    pup_code: str,
    ops_code: str,
    start_on: dt.date,
    edition: Edition | None,
    today: dt.date,
    config: Config,
) -> list[Outgoing]:
    """Accept the referral and open its cycle, or reject it with every reason."""
    reasons: list[Rejection] = []
    if not schedule.eligible_on(start_on):
        reasons.append(Rejection.NOT_ELIGIBLE)
    if edition is None:
        reasons.append(Rejection.EDITION_UNKNOWN)
    else:
        if edition.council_opinion_on is None or edition.council_opinion_on > start_on:
            reasons.append(Rejection.EDITION_WITHOUT_COUNCIL_OPINION)
        if not edition.valid_from <= start_on <= edition.valid_to:
            reasons.append(Rejection.EDITION_OUTSIDE_VALIDITY)
        if ops_code not in edition.ops_codes:
            reasons.append(Rejection.EDITION_NOT_COVERING_OPS)
    if any(c.active for c in schedule.cycles):
        reasons.append(Rejection.CYCLE_ALREADY_ACTIVE)
    left = calendar.CAP_DAYS - schedule.used_days()
    if left <= 0:
        reasons.append(Rejection.CAP_EXHAUSTED)
    ended = [c for c in schedule.cycles if not c.active]
    if ended and not ended[-1].reviewed:
        reasons.append(Rejection.NO_PROFILE_REVIEW)
    common = {"referral_id": referral_id, "pup_code": pup_code, "ops_code": ops_code}
    accepted_id = str(uuid.uuid5(NAMESPACE, f"{schedule.person_id}|{event_id}|referral"))
    if reasons:
        return [
            Outgoing(
                Kind.REFERRAL_REJECTED,
                accepted_id,
                None,
                common
                | {
                    "edition_id": edition_id,
                    "start_on": start_on,
                    "reasons": [r.value for r in reasons],
                },
            )
        ]
    last_day = calendar.planned_last_day(start_on, left)
    assert last_day is not None
    cycle = Cycle(
        cycle_id=str(uuid.uuid5(NAMESPACE, f"{schedule.person_id}|{referral_id}")),
        referral_id=referral_id,
        edition_id=edition_id,
        pup_code=pup_code,
        ops_code=ops_code,
        number=len(schedule.cycles) + 1,
        start_on=start_on,
        last_day=last_day,
        full_last_day=calendar.cycle_last_day(start_on),
    )
    schedule.cycles.append(cycle)
    planned_use = calendar.days_used(start_on, last_day, cycle.full_last_day)
    out = [
        Outgoing(
            Kind.REFERRAL_ACCEPTED,
            accepted_id,
            cycle,
            {
                "edition_id": edition_id,
                "cycle_number": cycle.number,
                "start_on": start_on,
                "last_day": last_day,
                "days_used": schedule.used_days(),
                "days_left": left - planned_use,
            },
        )
    ]
    return out + on_day(schedule, today, config)


def on_participation_ended(
    schedule: Schedule, cycle: Cycle, ended_on: dt.date, reason: str, config: Config
) -> list[Outgoing]:
    """The PUP ended the participation: the cycle ends now (early, or on its last day)."""
    if not cycle.active:
        return []
    end = min(ended_on, cycle.last_day)
    return _end_cycle(schedule, cycle, end, reason if end < cycle.last_day else None, config)


def _end_cycle(
    schedule: Schedule, cycle: Cycle, ended_on: dt.date, reason: str | None, config: Config
) -> list[Outgoing]:
    cycle.ended_on, cycle.end_reason = ended_on, reason
    cycle.days_used = calendar.days_used(cycle.start_on, ended_on, cycle.full_last_day)
    used = schedule.used_days()
    cycle.review_due_on = calendar.action_due(ended_on, config.review_due_days)
    out = _emit_once(
        cycle,
        Kind.CYCLE_ENDED,
        {
            "ended_on": ended_on,
            "early": ended_on < cycle.last_day,
            "end_reason": reason,
            "days_used": cycle.days_used,
            "days_used_total": used,
            "days_left": calendar.CAP_DAYS - used,
        },
    )
    out += _emit_once(cycle, Kind.PROFILE_REVIEW_DUE, {"due_on": cycle.review_due_on})
    if used >= calendar.CAP_DAYS:
        out += _emit_once(cycle, Kind.CAP_EXHAUSTED, {"days_used_total": used})
    return out


def on_profile_reviewed(
    schedule: Schedule, reviewed_on: dt.date, outcome: str, new_profile: str | None
) -> list[Outgoing]:
    """The PUP's decision after the latest ended cycle."""
    ended = [c for c in schedule.cycles if not c.active]
    if not ended:
        return []
    cycle = ended[-1]
    cycle.reviewed = True
    return _emit_once(
        cycle,
        Kind.PROFILE_REVIEW_RECORDED,
        {
            "reviewed_on": reviewed_on,
            "outcome": outcome,
            "new_profile": new_profile,
            "ops_agreement_required": outcome in ("SUPPORTED_EMPLOYMENT", "SOCIAL_COOPERATIVE"),
        },
    )


def on_other_assistance(
    schedule: Schedule, event_id: str, instrument: str, referred_on: dt.date
) -> list[Outgoing]:
    """Another form of assistance during a cycle breaks exclusivity (rule 5)."""
    for cycle in schedule.cycles:
        end = cycle.ended_on or cycle.last_day
        if cycle.start_on <= referred_on <= end:
            event = str(uuid.uuid5(NAMESPACE, f"{cycle.cycle_id}|conflict|{event_id}"))
            return [
                Outgoing(
                    Kind.EXCLUSIVITY_CONFLICT,
                    event,
                    cycle,
                    {"instrument": instrument, "referred_on": referred_on},
                )
            ]
    return []


def on_hours(cycle: Cycle, week_start: dt.date, activity: str, hours: float) -> None:
    """Record one activity's hours in one week.

    A week's hours are the sum over its activities; a later report of the same
    activity for the same week corrects (replaces) the earlier one.
    """
    cycle.hours[f"{week_start.isoformat()}|{activity}"] = hours


def week_hours(cycle: Cycle, week_start: dt.date) -> float:
    prefix = f"{week_start.isoformat()}|"
    return sum(h for key, h in cycle.hours.items() if key.startswith(prefix))


# -- time ---------------------------------------------------------------------------------
def on_day(schedule: Schedule, today: dt.date, config: Config) -> list[Outgoing]:
    """Every deadline that has come by ``today`` and was not emitted yet, in date order.

    Deadlines due on the same date come in cycle order, and within a cycle in the
    order of :func:`_deadlines` (start, weeks, ending soon, end, review overdue).
    """
    return fire_due(schedule, today, config)[0]


def fire_due(
    schedule: Schedule, today: dt.date, config: Config
) -> tuple[list[Outgoing], dt.date | None]:
    """:func:`on_day`, and the date the next pending deadline falls due afterwards."""
    out: list[Outgoing] = []
    while True:  # an ending cycle brings new deadlines (the review): repeat until none is due
        pending = [
            (due, cycle.number, n, emit)
            for cycle in schedule.cycles
            for n, (due, _, emit) in enumerate(
                _deadlines(schedule, cycle, config, pending_only=True, until=today)
            )
        ]
        due_now = sorted(item for item in pending if item[0] <= today)
        if not due_now:
            _close_finished(schedule, config)
            return out, min((item[0] for item in pending), default=None)
        for *_, emit in due_now:
            out += emit()


def _close_finished(schedule: Schedule, config: Config) -> None:
    for cycle in schedule.cycles:
        if not (cycle.closed or cycle.active or _deadlines(schedule, cycle, config, True)):
            cycle.closed = True


def next_due(schedule: Schedule, config: Config) -> dt.date | None:
    """The earliest date a deadline not yet emitted falls due (for the due index)."""
    dates = [
        due
        for cycle in schedule.cycles
        for due, _, _ in _deadlines(schedule, cycle, config, pending_only=True)
    ]
    return min(dates) if dates else None


def pending(schedule: Schedule, config: Config) -> list[tuple[dt.date, str, str]]:
    """Every deadline not yet emitted as (due, kind[:week], cycle_id), earliest first.

    A week's shortfall is listed though hours may still arrive that prevent it.
    """
    return sorted(
        (due, key, cycle.cycle_id)
        for cycle in schedule.cycles
        for due, key, _ in _deadlines(schedule, cycle, config, pending_only=True)
    )


_STARTED = Kind.CYCLE_STARTED.value
_ENDING_SOON = Kind.CYCLE_ENDING_SOON.value
_ENDED = Kind.CYCLE_ENDED.value
_OVERDUE = Kind.PROFILE_REVIEW_OVERDUE.value
_SHORTFALL = Kind.INTEGRATION_HOURS_SHORTFALL.value


def _deadlines(
    schedule: Schedule,
    cycle: Cycle,
    config: Config,
    pending_only: bool = False,
    until: dt.date | None = None,
) -> list[tuple[dt.date, str, Any]]:
    """The cycle's deadlines as (due, key, emit), earliest first (stable for equal dates).

    With ``until``, the weekly hours checks stop after the first one due later
    than ``until``: enough to fire what is due and to know the next date.
    """
    found: list[tuple[dt.date, str, Any]] = []
    if pending_only and cycle.closed:
        return found
    fired = frozenset(cycle.fired) if pending_only else frozenset()

    if _STARTED not in fired:
        found.append(
            (
                cycle.start_on,
                _STARTED,
                lambda: _emit_once(
                    cycle,
                    Kind.CYCLE_STARTED,
                    {"start_on": cycle.start_on, "last_day": cycle.last_day},
                ),
            )
        )
    if cycle.active:
        soon = cycle.last_day - dt.timedelta(days=config.ending_soon_days)
        if soon >= cycle.start_on and _ENDING_SOON not in fired:
            found.append(
                (
                    soon,
                    _ENDING_SOON,
                    lambda: _emit_once(
                        cycle,
                        Kind.CYCLE_ENDING_SOON,
                        {"last_day": cycle.last_day, "days_before": config.ending_soon_days},
                    ),
                )
            )
        if _ENDED not in fired:
            found.append(
                (
                    cycle.last_day + DAY,
                    _ENDED,
                    lambda: _end_cycle(schedule, cycle, cycle.last_day, None, config),
                )
            )
    end = cycle.ended_on or cycle.last_day
    after = dt.timedelta(days=6 + config.shortfall_after_days)
    for monday in calendar.full_weeks(cycle.start_on, end):
        key = f"{_SHORTFALL}:{monday.isoformat()}"
        if key not in fired:
            due = monday + after
            found.append((due, key, lambda monday=monday: _shortfall(cycle, monday, config)))
            if until is not None and due > until:
                break
    if cycle.review_due_on is not None and not cycle.reviewed and _OVERDUE not in fired:
        found.append(
            (
                cycle.review_due_on + DAY,
                _OVERDUE,
                lambda: _emit_once(
                    cycle, Kind.PROFILE_REVIEW_OVERDUE, {"due_on": cycle.review_due_on}
                ),
            )
        )
    found.sort(key=lambda triple: triple[0])
    return found


def _shortfall(cycle: Cycle, monday: dt.date, config: Config) -> list[Outgoing]:
    hours = week_hours(cycle, monday)
    key = f"{Kind.INTEGRATION_HOURS_SHORTFALL.value}:{monday.isoformat()}"
    if hours >= config.weekly_hours:
        if key not in cycle.fired:
            cycle.fired.append(key)  # checked: no event, nothing to check again
        return []
    return _emit_once(
        cycle,
        Kind.INTEGRATION_HOURS_SHORTFALL,
        {
            "week_start": monday,
            "hours_reported": hours,
            "hours_required": config.weekly_hours,
        },
        week=monday,
    )
