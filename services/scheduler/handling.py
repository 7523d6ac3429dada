"""One inbound event applied to one person's schedule, or the reason it is refused.

Pure: takes the decoded fields of a participation, integration-activities or
eligibility-decision record and calls :mod:`services.scheduler.domain`. It
owns what the domain cannot accept (an unknown referral, an end before the
start, hours out of range, a week that does not start on a Monday, ...), which
the worker dead-letters with :attr:`InvalidInput.reason`, and de-duplication:
an event id seen recently is a repeat and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from services.scheduler import domain
from services.scheduler.domain import Config, Cycle, Edition, Outgoing, Schedule

SEEN_IDS_KEPT = 64
MAX_WEEKLY_HOURS = 168.0


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
) -> list[Outgoing]:
    """Apply one event; the events to emit (none for a repeat). Raises :class:`InvalidInput`."""
    event_id = str(fields["event_id"])
    if event_id in schedule.seen_event_ids:
        return []
    out = _apply(schedule, kind, fields, edition_of, today, config)
    schedule.seen_event_ids = [*schedule.seen_event_ids, event_id][-SEEN_IDS_KEPT:]
    return out


def _apply(
    schedule: Schedule,
    kind: str,
    fields: dict[str, Any],
    edition_of: Callable[[str], Edition | None],
    today: dt.date,
    config: Config,
) -> list[Outgoing]:
    if kind == "EligibilityDecision":
        domain.on_decision(schedule, fields["decided_on"], fields["eligible"])
        return domain.on_day(schedule, today, config)
    if kind == "ReferredToProgram":
        referral_id = fields["referral_id"]
        if schedule.cycle(referral_id) is not None:
            raise InvalidInput(
                "duplicate-referral",
                f"referral {referral_id} already opened a cycle for this person:"
                " a new referral needs a new referral_id",
            )
        return domain.on_referral(
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
    if kind == "ParticipationEnded":
        cycle = _cycle_of(schedule, fields["referral_id"])
        if fields["ended_on"] < cycle.start_on:
            raise InvalidInput(
                "end-before-start",
                f"ended_on {fields['ended_on']} is before the cycle's start {cycle.start_on}",
            )
        out = domain.on_participation_ended(
            schedule, cycle, fields["ended_on"], fields["reason"], config
        )
        return out + domain.on_day(schedule, today, config)
    if kind == "ProfileReviewed":
        if "UNKNOWN" in (fields["outcome"], fields["new_profile"]):
            raise InvalidInput(
                "unknown-symbol",
                "outcome or new_profile UNKNOWN: a symbol this service's schema does not know",
            )
        return domain.on_profile_reviewed(
            schedule, fields["reviewed_on"], fields["outcome"], fields["new_profile"]
        )
    if kind == "OtherAssistanceReferral":
        return domain.on_other_assistance(
            schedule, str(fields["event_id"]), fields["instrument"], fields["referred_on"]
        )
    if kind == "IntegrationHoursReported":
        _record_hours(schedule, fields)
        return []
    raise InvalidInput("unexpected-type", f"the scheduler does not handle {kind} records")


def _cycle_of(schedule: Schedule, referral_id: str) -> Cycle:
    cycle = schedule.cycle(referral_id)
    if cycle is None:
        raise InvalidInput(
            "unknown-referral",
            f"no accepted referral {referral_id} for this person (rejected, or never sent)",
        )
    return cycle


def _record_hours(schedule: Schedule, fields: dict[str, Any]) -> None:
    cycle = _cycle_of(schedule, fields["referral_id"])
    week: dt.date = fields["week_start"]
    hours: float = fields["hours"]
    if week.weekday() != 0:
        raise InvalidInput(
            "week-start-not-monday", f"week_start {week} is a {week:%A}; weeks start on Monday"
        )
    if not (math.isfinite(hours) and 0 <= hours <= MAX_WEEKLY_HOURS):
        raise InvalidInput(
            "hours-out-of-range", f"hours {hours} is outside 0-{MAX_WEEKLY_HOURS:g} for one week"
        )
    if fields["ops_code"] != cycle.ops_code:
        raise InvalidInput(
            "wrong-ops",
            f"OPS {fields['ops_code']} reported hours for a cycle run with OPS {cycle.ops_code}",
        )
    end = cycle.ended_on or cycle.last_day
    if week > end or week + dt.timedelta(days=6) < cycle.start_on:
        raise InvalidInput(
            "week-outside-cycle",
            f"week {week} does not overlap the cycle {cycle.start_on}..{end}",
        )
    domain.on_hours(cycle, week, fields["activity"], hours)
