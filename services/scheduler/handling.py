"""One inbound event applied to one person's schedule, or the reason it is refused.

Pure: takes the decoded fields of a participation, integration-activities or
eligibility-decision record and calls :mod:`services.scheduler.domain`. It
owns what the domain cannot accept (an unknown referral, an end before the
start, hours out of range, a week that does not start on a Monday, a date outside
:mod:`services.runtime.date_range`, ...), which
the worker dead-letters with :attr:`InvalidInput.reason`, and de-duplication:
an event id seen recently, or one the schedule records (a referral, an end, a
review), is a repeat and changes nothing. A refused event leaves the schedule as
it was; one taken counts in ``last_event_at`` (retention counts from it). Before
any input but an end, a cycle whose end has come is ended
(:func:`~services.scheduler.domain.catch_up`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from services.personal_data.retention import sweep_day
from services.runtime import date_range
from services.scheduler import domain
from services.scheduler.domain import Config, Cycle, Edition, Outgoing, Schedule

SEEN_IDS_KEPT = 64
ZERO = dt.timedelta(0)
MAX_WEEKLY_HOURS = 168.0
MAX_DAILY_HOURS = 24.0


class InvalidInput(Exception):
    """An event the scheduler cannot accept; ``reason`` is the dead letter's reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def handle(
    schedule: Schedule,
    kind: str,
    fields: dict[str, Any],
    edition_of: Callable[[str], Edition | None],
    today: dt.date,
    config: Config,
    wall_day: dt.date | None = None,
) -> list[Outgoing]:
    """Apply one event; the events to emit (none for a repeat). Raises :class:`InvalidInput`
    and then leaves ``schedule`` unchanged. ``wall_day`` is the wall clock's day (None: the
    same as ``today``): an ``occurred_at`` is counted no later than the day a retention
    sweep would count to (:func:`~services.personal_data.retention.sweep_day`)."""
    derived = kind == "EligibilityDecision"  # its dates are eligibility's, a day past inputs
    outside = date_range.out_of_range(fields, date_range.DERIVED_SLACK if derived else ZERO)
    if outside is not None:
        raise InvalidInput("date-out-of-range", date_range.describe(kind, *outside))
    event_id = str(fields["event_id"])
    if event_id in schedule.seen_event_ids or schedule.recorded(event_id):
        return []
    # the stored form (what a restart reads back) as the snapshot a refusal restores: a
    # deep copy of the model per event cost ~9x a dump (bench/scheduler_stream.py)
    before = schedule.model_dump_json()
    try:
        out = _apply(schedule, kind, fields, edition_of, today, config)
    except InvalidInput:
        restored = Schedule.model_validate_json(before)
        for name in Schedule.model_fields:
            setattr(schedule, name, getattr(restored, name))
        raise
    _took(schedule, fields.get("occurred_at"), sweep_day(today, wall_day or today))
    schedule.seen_event_ids = [*schedule.seen_event_ids, event_id][-SEEN_IDS_KEPT:]
    return out


def _took(schedule: Schedule, occurred_at: dt.datetime | None, today: dt.date) -> None:
    """Count an input in ``last_event_at``: a backdated one never moves it back, and one
    that says it occurred after ``today`` (the day it is handled, held back to the wall
    clock's as a sweep counts) counts from that day (a producer's far-future
    ``occurred_at`` would keep the person for ever, and so would a topic clock far ahead of
    the wall clock). A value stored before it was kept (it took inputs, it has no date)
    counts from ``today`` at least: its earlier inputs, whose dates it never kept, may be
    later than this one."""
    start = dt.datetime.combine(today, dt.time(), dt.UTC)
    floor = schedule.last_event_at
    if floor is None and schedule.seen_event_ids:
        floor = start
    if occurred_at is not None:
        occurred_at = min(occurred_at, dt.datetime.combine(today, dt.time.max, dt.UTC))
    latest = [t for t in (floor, occurred_at) if t is not None]
    if latest:
        schedule.last_event_at = max(latest)


def _apply(
    schedule: Schedule,
    kind: str,
    fields: dict[str, Any],
    edition_of: Callable[[str], Edition | None],
    today: dt.date,
    config: Config,
) -> list[Outgoing]:
    if kind == "ParticipationEnded":
        return _ended(schedule, fields, today, config)
    out = domain.catch_up(schedule, today, config)
    if kind == "EligibilityDecision":
        domain.on_decision(
            schedule,
            fields["decided_on"],
            fields["eligible"],
            fields.get("effective_from"),
            fields.get("changes_on"),
        )
        return out + domain.on_day(schedule, today, config)
    if kind == "ReferredToProgram":
        referral_id = fields["referral_id"]
        if schedule.cycle(referral_id) is not None:
            raise InvalidInput(
                "duplicate-referral",
                f"referral {referral_id} already opened a cycle for this person:"
                " a new referral needs a new referral_id",
            )
        return out + domain.on_referral(
            schedule,
            str(fields["event_id"]),
            referral_id,
            fields["edition_id"],
            fields["pup_code"],
            fields["ops_code"],
            fields["start_on"],
            edition_of(fields["edition_id"]),
            today,
            config,
        )
    if kind == "ProfileReviewed":
        return out + _reviewed(schedule, fields, today, config)
    if kind == "OtherAssistanceReferral":
        return out + domain.on_other_assistance(
            schedule, str(fields["event_id"]), fields["instrument"], fields["referred_on"]
        )
    if kind == "IntegrationHoursReported":
        _record_hours(schedule, fields)
        return out
    if kind == "PsuHoursReported":
        return out + _psu_hours(schedule, fields, config)
    raise InvalidInput("unexpected-type", f"the scheduler does not handle {kind} records")


def _ended(
    schedule: Schedule, fields: dict[str, Any], today: dt.date, config: Config
) -> list[Outgoing]:
    cycle = _cycle_of(schedule, fields["referral_id"])
    ended_on: dt.date = fields["ended_on"]
    if ended_on < cycle.start_on:
        raise InvalidInput(
            "end-before-start",
            f"ended_on {ended_on} is before the cycle's start {cycle.start_on}",
        )
    if cycle.ended_on is not None:
        if ended_on >= cycle.ended_on:
            raise InvalidInput(
                "cycle-already-ended",
                f"the cycle ended on {cycle.ended_on}: an end on {ended_on} cannot change it"
                " (only an earlier end corrects the days charged, art. 114 KC)",
            )
        cycle.end_event_id = str(fields["event_id"])
        return domain.correct_end(schedule, cycle, ended_on, fields["reason"], today, config)
    cycle.end_event_id = str(fields["event_id"])
    out = domain.on_participation_ended(schedule, cycle, ended_on, fields["reason"], config, today)
    return out + domain.on_day(schedule, today, config)


def _reviewed(
    schedule: Schedule, fields: dict[str, Any], today: dt.date, config: Config
) -> list[Outgoing]:
    if "UNKNOWN" in (fields["outcome"], fields["new_profile"]):
        raise InvalidInput(
            "unknown-symbol",
            "outcome or new_profile UNKNOWN: a symbol this service's schema does not know",
        )
    reviewed_on: dt.date = fields["reviewed_on"]
    out: list[Outgoing] = []
    active = next((c for c in schedule.cycles if c.active), None)
    if active is not None and reviewed_on > active.span_end:
        # reviewed after the cycle's last day: it has ended, though the clock lags
        end_tick = active.pending_end or active.last_day + domain.DAY
        out = domain.on_day(schedule, max(today, end_tick), config)
    elif active is not None:
        raise InvalidInput(
            "review-during-cycle",
            f"reviewed_on {reviewed_on} lies in cycle {active.number} (referral"
            f" {active.referral_id}, {active.start_on}..{active.span_end}), which has not ended",
        )
    ended = [c for c in schedule.cycles if not c.active]
    if not ended:
        raise InvalidInput(
            "no-ended-cycle", "no cycle of this person has ended: there is nothing to review"
        )
    cycle = ended[-1]
    assert cycle.ended_on is not None
    if reviewed_on < cycle.ended_on:
        raise InvalidInput(
            "review-before-cycle-end",
            f"reviewed_on {reviewed_on} is before cycle {cycle.number} ended on"
            f" {cycle.ended_on}: a review counts only on or after the end",
        )
    return out + domain.on_profile_reviewed(
        schedule, reviewed_on, fields["outcome"], fields["new_profile"], str(fields["event_id"])
    )


def _cycle_of(schedule: Schedule, referral_id: str) -> Cycle:
    cycle = schedule.cycle(referral_id)
    if cycle is None:
        raise InvalidInput(
            "unknown-referral",
            f"no accepted referral {referral_id} for this person (rejected, or never sent)",
        )
    return cycle


def checked_hours(hours: float, most: float) -> float:
    """``hours`` if within 0-``most`` in whole hundredths, else :class:`InvalidInput`
    (also what the gateway answers 400 for, before anything is written)."""
    if not (math.isfinite(hours) and 0 <= hours <= most):
        raise InvalidInput("hours-out-of-range", f"hours {hours} is outside 0-{most:g}")
    if abs(hours * 100 - domain.hundredths(hours)) > 1e-6:
        raise InvalidInput(
            "hours-precision", f"hours {hours} has more than two decimals (hundredths of an hour)"
        )
    return hours


def check_week_start(week: dt.date) -> dt.date:
    """``week`` if a Monday, else :class:`InvalidInput` (the gateway's 400 too)."""
    if week.weekday() != 0:
        raise InvalidInput(
            "week-start-not-monday", f"week_start {week} is a {week:%A}; weeks start on Monday"
        )
    return week


def _record_hours(schedule: Schedule, fields: dict[str, Any]) -> None:
    cycle = _cycle_of(schedule, fields["referral_id"])
    week = check_week_start(fields["week_start"])
    hours = checked_hours(fields["hours"], MAX_WEEKLY_HOURS)
    if fields["ops_code"] != cycle.ops_code:
        raise InvalidInput(
            "wrong-ops",
            f"OPS {fields['ops_code']} reported hours for a cycle run with OPS {cycle.ops_code}",
        )
    end = cycle.span_end
    if week > end or week + dt.timedelta(days=6) < cycle.start_on:
        raise InvalidInput(
            "week-outside-cycle",
            f"week {week} does not overlap the cycle {cycle.start_on}..{end}",
        )
    domain.on_hours(cycle, week, fields["activity"], hours)


def _psu_hours(schedule: Schedule, fields: dict[str, Any], config: Config) -> list[Outgoing]:
    cycle = _cycle_of(schedule, fields["referral_id"])
    day: dt.date = fields["worked_on"]
    hours = checked_hours(fields["hours"], MAX_DAILY_HOURS)
    if fields["pup_code"] != cycle.pup_code:
        raise InvalidInput(
            "wrong-pup",
            f"PUP {fields['pup_code']} reported PSU hours for a cycle of PUP {cycle.pup_code}",
        )
    if not cycle.start_on <= day <= cycle.span_end:
        raise InvalidInput(
            "day-outside-cycle",
            f"worked_on {day} is outside the cycle {cycle.start_on}..{cycle.span_end}",
        )
    return domain.on_psu_hours(schedule, cycle, day, hours, config)
