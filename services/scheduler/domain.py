"""A person's PAI cycles and deadlines: what the scheduler decides, without Kafka or Avro.

Pure domain. :class:`Schedule` is one person's state (the table value); each
``on_*`` function changes it for one input and returns the :class:`Outgoing`
events to emit; :func:`on_day` fires the deadlines that have come. Every
deadline event has an id derived from (cycle, kind[, week]), and a fired
deadline is recorded in the state, so a repeat after a crash carries the same
id and a replayed tick emits nothing new. Rules: SPEC.md §1 (rules 2-5) and
"What the services decide"; periods: :mod:`services.scheduler.calendar`.

Where the law is silent (README, "Scheduler service"): eligibility is judged
on the start date only; a cycle must lie wholly within its edition; an end
dated after today ends the cycle on that date, not before; an end entered
after the cycle closed on an earlier date corrects the days charged and says
so with a ``CycleEnded`` marked ``corrected``; only a review with outcome
``RE_REFERRAL`` opens another referral.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

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
    PSU_HOURS_EXCEEDED = "PsuHoursExceeded"


class Rejection(StrEnum):
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    EDITION_UNKNOWN = "EDITION_UNKNOWN"
    EDITION_OTHER_PUP = "EDITION_OTHER_PUP"
    EDITION_WITHOUT_COUNCIL_OPINION = "EDITION_WITHOUT_COUNCIL_OPINION"
    EDITION_OUTSIDE_VALIDITY = "EDITION_OUTSIDE_VALIDITY"
    EDITION_NOT_COVERING_OPS = "EDITION_NOT_COVERING_OPS"
    CYCLE_ALREADY_ACTIVE = "CYCLE_ALREADY_ACTIVE"
    CYCLE_OVERLAP = "CYCLE_OVERLAP"
    CAP_EXHAUSTED = "CAP_EXHAUSTED"
    NO_PROFILE_REVIEW = "NO_PROFILE_REVIEW"
    REVIEWED_SUPPORTED_EMPLOYMENT = "REVIEWED_SUPPORTED_EMPLOYMENT"
    REVIEWED_SOCIAL_COOPERATIVE = "REVIEWED_SOCIAL_COOPERATIVE"
    REVIEWED_PROFILE_CHANGED = "REVIEWED_PROFILE_CHANGED"


RE_REFERRAL = "RE_REFERRAL"


@dataclass(frozen=True)
class Config:
    ending_soon_days: int = 7
    review_due_days: int = 7
    weekly_hours: float = 10.0
    shortfall_after_days: int = 2
    psu_weekly_hours: float = 10.0
    """PSU (prace społecznie użyteczne): more than this in a week (Monday-Sunday) is reported."""
    psu_monthly_hours: float = 40.0
    """PSU: more than this in a calendar month is reported."""


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


def hundredths(hours: float) -> int:
    """Hours as whole hundredths (0.2 h → 20): sums of reported hours compare exactly."""
    return round(hours * 100)


class Period(BaseModel):
    """An eligibility decision as the scheduler keeps it: the outcome and the days it holds."""

    effective_from: dt.date
    changes_on: dt.date | None = None
    """The outcome holds up to the day before; None: until a later decision says otherwise."""
    eligible: bool

    def covers(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.changes_on is None or day < self.changes_on)


class Review(BaseModel):
    """A ``ProfileReviewed`` recorded for an ended cycle."""

    event_id: str | None = None
    reviewed_on: dt.date
    outcome: str
    new_profile: str | None = None


class Cycle(BaseModel):
    """One participation cycle. Fields added after the first release have defaults, and
    hours stored as floats are read as hundredths, so stored schedules stay readable."""

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
    allotted: int | None = None
    """Days-equivalent of the cap this cycle may use: 60, or the R left when shortened."""
    event_id: str | None = None
    """The ReferredToProgram event that opened it (a repeat is recognised by it)."""
    ended_on: dt.date | None = None
    end_reason: str | None = None
    end_event_id: str | None = None
    pending_end: dt.date | None = None
    """An end the PUP dated after the day it arrived: the cycle ends on that date."""
    pending_reason: str | None = None
    days_used: int | None = None
    review_due_on: dt.date | None = None
    reviewed: bool = False
    reviews: list[Review] = Field(default_factory=list)
    hundredths: dict[str, int] = Field(default_factory=dict)
    """Integration hours per ``week|activity``, in hundredths of an hour."""
    hours: dict[str, float] = Field(default_factory=dict)
    """Before hundredths were kept (read only: migrated into ``hundredths``)."""
    psu: dict[str, int] = Field(default_factory=dict)
    """PSU hours per day worked (ISO date), in hundredths of an hour."""
    fired: list[str] = Field(default_factory=list)
    """Deadline keys (kind or kind:week) already emitted for this cycle."""
    closed: bool = False
    """Ended with every deadline emitted: nothing more can fall due for this cycle."""

    @model_validator(mode="after")
    def _migrate_hours(self) -> Cycle:
        if self.hours:
            for key, value in self.hours.items():
                self.hundredths.setdefault(key, hundredths(value))
            self.hours = {}
        return self

    @property
    def active(self) -> bool:
        return self.ended_on is None

    @property
    def span_end(self) -> dt.date:
        """The last day of participation as known now: ended, pending end, or planned."""
        return self.ended_on or self.pending_end or self.last_day

    @property
    def charge_limit(self) -> int:
        """At most what the cycle was allotted: a shortened cycle never uses more than R."""
        if self.allotted is not None:
            return self.allotted
        if self.last_day < self.full_last_day:  # stored before allotted was kept
            return (self.last_day - self.start_on).days + 1
        return calendar.FULL_CYCLE_DAYS

    def charge(self, ended_on: dt.date) -> int:
        """Days-equivalent charged for a cycle ended on ``ended_on`` (art. 114 KC)."""
        used = calendar.days_used(self.start_on, ended_on, self.full_last_day)
        return min(used, self.charge_limit)

    def latest_review(self) -> Review | None:
        if not self.reviews:
            return None
        return max(enumerate(self.reviews), key=lambda pair: (pair[1].reviewed_on, pair[0]))[1]


class RejectedReferral(BaseModel):
    event_id: str
    referral_id: str


class Schedule(BaseModel):
    """Everything the scheduler keeps for one person."""

    person_id: str
    eligibility: list[Period] = Field(default_factory=list)
    """Decisions in the order received; the latest one covering a day decides it."""
    cycles: list[Cycle] = Field(default_factory=list)
    rejected: list[RejectedReferral] = Field(default_factory=list)
    psu_fired: list[str] = Field(default_factory=list)
    """PSU limits already reported: ``WEEK:<monday>`` or ``MONTH:<first day>``."""
    seen_event_ids: list[str] = Field(default_factory=list)
    last_event_at: dt.datetime | None = None
    """The latest ``occurred_at`` of the inputs this schedule took (retention counts from
    it, :mod:`services.personal_data.retention`). None in a value stored before it was
    kept: the retention sweep dates such a value (:func:`services.scheduler.stored.dated`)."""

    @field_validator("eligibility", mode="before")
    @classmethod
    def _migrate_dated(cls, value: Any) -> Any:
        """Stored as ``[decided_on, eligible]`` pairs before decisions carried periods."""
        return [
            {"effective_from": item[0], "eligible": item[1]}
            if isinstance(item, list | tuple)
            else item
            for item in value
        ]

    def eligible_on(self, day: dt.date) -> bool:
        """What the latest decision covering ``day`` says (False with none)."""
        for period in reversed(self.eligibility):
            if period.covers(day):
                return period.eligible
        return False

    def used_days(self) -> int:
        return sum(c.days_used or 0 for c in self.cycles if not c.active)

    def cycle(self, referral_id: str) -> Cycle | None:
        return next((c for c in self.cycles if c.referral_id == referral_id), None)

    def recorded(self, event_id: str) -> bool:
        """Whether the schedule itself records ``event_id`` (a referral, end or review)."""
        return (
            any(r.event_id == event_id for r in self.rejected)
            or any(event_id in (c.event_id, c.end_event_id) for c in self.cycles)
            or any(r.event_id == event_id for c in self.cycles for r in c.reviews)
        )


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
def on_decision(
    schedule: Schedule,
    decided_on: dt.date,
    eligible: bool,
    effective_from: dt.date | None = None,
    changes_on: dt.date | None = None,
) -> None:
    """Remember an eligibility decision and the days it holds over.

    A decision without a period (written before decisions carried one) holds from
    ``decided_on``. Decisions a later one wholly covers are dropped.
    """
    period = Period(
        effective_from=effective_from or decided_on, changes_on=changes_on, eligible=eligible
    )
    kept = [
        p
        for p in schedule.eligibility
        if not (
            period.effective_from <= p.effective_from
            and (period.changes_on is None or (p.changes_on or dt.date.max) <= period.changes_on)
        )
    ]
    schedule.eligibility = [*kept, period]


def _reasons(
    schedule: Schedule,
    pup_code: str,
    ops_code: str,
    start_on: dt.date,
    edition: Edition | None,
    left: int,
) -> list[tuple[Rejection, str]]:
    """Every reason to reject, each with a sentence naming what is at fault."""
    reasons: list[tuple[Rejection, str]] = []
    last_day = calendar.planned_last_day(start_on, left) or start_on
    if not schedule.eligible_on(start_on):
        reasons.append((Rejection.NOT_ELIGIBLE, f"no eligibility decision holds on {start_on}"))
    if edition is None:
        reasons.append((Rejection.EDITION_UNKNOWN, "the edition is not published"))
    else:
        if edition.pup_code != pup_code:
            reasons.append(
                (
                    Rejection.EDITION_OTHER_PUP,
                    f"edition {edition.edition_id} is PUP {edition.pup_code}'s;"
                    f" the referral is PUP {pup_code}'s",
                )
            )
        if edition.council_opinion_on is None or edition.council_opinion_on > start_on:
            reasons.append(
                (
                    Rejection.EDITION_WITHOUT_COUNCIL_OPINION,
                    f"no opinion of the county labour-market council by {start_on}",
                )
            )
        if not (edition.valid_from <= start_on and last_day <= edition.valid_to):
            reasons.append(
                (
                    Rejection.EDITION_OUTSIDE_VALIDITY,
                    f"the cycle {start_on}..{last_day} does not lie within the edition's"
                    f" validity {edition.valid_from}..{edition.valid_to}",
                )
            )
        if ops_code not in edition.ops_codes:
            reasons.append(
                (
                    Rejection.EDITION_NOT_COVERING_OPS,
                    f"OPS {ops_code} is not in edition {edition.edition_id}",
                )
            )
    active = [c for c in schedule.cycles if c.active]
    if active:
        reasons.append(
            (
                Rejection.CYCLE_ALREADY_ACTIVE,
                f"cycle {active[0].number} (referral {active[0].referral_id}) runs"
                f" {active[0].start_on}..{active[0].span_end}",
            )
        )
    ended = [c for c in schedule.cycles if not c.active]
    conflicts = [c for c in ended if start_on <= c.span_end]
    if conflicts:
        reasons.append(
            (
                Rejection.CYCLE_OVERLAP,
                "; ".join(
                    f"cycle {c.number} (referral {c.referral_id}) ran {c.start_on}..{c.span_end}"
                    for c in conflicts
                )
                + f": a cycle from {start_on} would overlap or precede it",
            )
        )
    if left <= 0:
        reasons.append(
            (Rejection.CAP_EXHAUSTED, f"{calendar.CAP_DAYS} days-equivalent used (art. 114 KC)")
        )
    if ended:
        last = ended[-1]
        review = last.latest_review()
        if not last.reviewed:
            reasons.append(
                (
                    Rejection.NO_PROFILE_REVIEW,
                    f"no profile review after cycle {last.number} ended on {last.ended_on}",
                )
            )
        elif review is not None and review.outcome != RE_REFERRAL:
            profile = f" to profile {review.new_profile}" if review.new_profile else ""
            reasons.append(
                (
                    Rejection(f"REVIEWED_{review.outcome}"),
                    f"the profile review of {review.reviewed_on} after cycle {last.number}"
                    f" decided {review.outcome}{profile}: only RE_REFERRAL opens another referral",
                )
            )
    return reasons


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
    """Accept the referral and open its cycle, or reject it with every reason.

    Eligibility is judged on the start date. The outcome's id derives from the
    referral event and the outcome, so a rejection and an acceptance of one event
    never share an id; the schedule records both, so a repeat is recognised.
    """
    left = calendar.CAP_DAYS - schedule.used_days()
    reasons = _reasons(schedule, pup_code, ops_code, start_on, edition, left)
    common = {"referral_id": referral_id, "pup_code": pup_code, "ops_code": ops_code}
    if reasons:
        schedule.rejected.append(RejectedReferral(event_id=event_id, referral_id=referral_id))
        rejected_id = str(
            uuid.uuid5(NAMESPACE, f"{schedule.person_id}|{event_id}|referral|rejected")
        )
        return [
            Outgoing(
                Kind.REFERRAL_REJECTED,
                rejected_id,
                None,
                common
                | {
                    "edition_id": edition_id,
                    "start_on": start_on,
                    "reasons": [r.value for r, _ in reasons],
                    "details": [detail for _, detail in reasons],
                },
            )
        ]
    accepted_id = str(uuid.uuid5(NAMESPACE, f"{schedule.person_id}|{event_id}|referral"))
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
        allotted=min(calendar.FULL_CYCLE_DAYS, left),
        event_id=event_id,
    )
    schedule.cycles.append(cycle)
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
                "days_left": left - cycle.charge(last_day),
            },
        )
    ]
    return out + on_day(schedule, today, config)


def on_participation_ended(
    schedule: Schedule,
    cycle: Cycle,
    ended_on: dt.date,
    reason: str,
    config: Config,
    today: dt.date | None = None,
) -> list[Outgoing]:
    """The PUP ended the participation in an active cycle.

    An end dated by ``today`` ends the cycle now (early, or on its last day); one
    dated later ends it on that date, when the clock gets there. An end on or after
    the planned last day changes nothing: the cycle ends on its last day.
    """
    if not cycle.active:
        return []
    end = min(ended_on, cycle.last_day)
    if today is not None and end > today:
        if end < cycle.last_day:
            cycle.pending_end, cycle.pending_reason = end, reason
        return []
    return _end_cycle(schedule, cycle, end, reason if end < cycle.last_day else None, config)


def _ended_fields(
    schedule: Schedule, cycle: Cycle, ended_on: dt.date, reason: str | None
) -> dict[str, Any]:
    used = schedule.used_days()
    return {
        "ended_on": ended_on,
        "early": ended_on < cycle.last_day,
        "end_reason": reason,
        "days_used": cycle.days_used,
        "days_used_total": used,
        "days_left": calendar.CAP_DAYS - used,
        "corrected": False,
        "previous_ended_on": None,
        "previous_days_used": None,
    }


def _end_cycle(
    schedule: Schedule, cycle: Cycle, ended_on: dt.date, reason: str | None, config: Config
) -> list[Outgoing]:
    cycle.ended_on, cycle.end_reason = ended_on, reason
    cycle.pending_end = cycle.pending_reason = None
    cycle.days_used = cycle.charge(ended_on)
    used = schedule.used_days()
    cycle.review_due_on = calendar.action_due(ended_on, config.review_due_days)
    out = _emit_once(cycle, Kind.CYCLE_ENDED, _ended_fields(schedule, cycle, ended_on, reason))
    out += _emit_once(cycle, Kind.PROFILE_REVIEW_DUE, {"due_on": cycle.review_due_on})
    if used >= calendar.CAP_DAYS:
        out += _emit_once(cycle, Kind.CAP_EXHAUSTED, {"days_used_total": used})
    return out


def correct_end(
    schedule: Schedule,
    cycle: Cycle,
    ended_on: dt.date,
    reason: str,
    today: dt.date,
    config: Config,
) -> list[Outgoing]:
    """An end the PUP entered after the cycle closed on a later date (art. 114 KC).

    The cycle is charged its actual days; a ``CycleEnded`` marked ``corrected``
    (its id derived from the cycle and the corrected date) says so with the totals,
    and a review not yet recorded is due again from the corrected end.
    """
    assert cycle.ended_on is not None and ended_on < cycle.ended_on
    previous_end, previous_used = cycle.ended_on, cycle.days_used
    cycle.ended_on, cycle.end_reason = ended_on, reason
    cycle.days_used = cycle.charge(ended_on)
    cycle.closed = False
    fields = _ended_fields(schedule, cycle, ended_on, reason) | {
        "corrected": True,
        "previous_ended_on": previous_end,
        "previous_days_used": previous_used,
    }
    key = f"{cycle.cycle_id}|{Kind.CYCLE_ENDED.value}|corrected|{ended_on.isoformat()}"
    out = [Outgoing(Kind.CYCLE_ENDED, str(uuid.uuid5(NAMESPACE, key)), cycle, fields)]
    if not cycle.reviewed:
        due = calendar.action_due(ended_on, config.review_due_days)
        if due != cycle.review_due_on:
            cycle.review_due_on = due
            if Kind.PROFILE_REVIEW_DUE.value in cycle.fired:
                key = f"{cycle.cycle_id}|{Kind.PROFILE_REVIEW_DUE.value}|{due.isoformat()}"
                out.append(
                    Outgoing(
                        Kind.PROFILE_REVIEW_DUE,
                        str(uuid.uuid5(NAMESPACE, key)),
                        cycle,
                        {"due_on": due},
                    )
                )
    return out + on_day(schedule, today, config)


def on_profile_reviewed(
    schedule: Schedule,
    reviewed_on: dt.date,
    outcome: str,
    new_profile: str | None,
    event_id: str | None = None,
) -> list[Outgoing]:
    """The PUP's decision after the latest ended cycle; of several, the latest counts.

    :mod:`services.scheduler.handling` refuses a review dated before that cycle's
    end, or with no ended cycle, before it gets here.
    """
    ended = [c for c in schedule.cycles if not c.active]
    if not ended:
        return []
    cycle = ended[-1]
    event_id = event_id or f"{reviewed_on.isoformat()}|{outcome}|{new_profile}"
    cycle.reviews.append(
        Review(event_id=event_id, reviewed_on=reviewed_on, outcome=outcome, new_profile=new_profile)
    )
    cycle.reviewed = True
    key = f"{cycle.cycle_id}|{Kind.PROFILE_REVIEW_RECORDED.value}|{event_id}"
    return [
        Outgoing(
            Kind.PROFILE_REVIEW_RECORDED,
            str(uuid.uuid5(NAMESPACE, key)),
            cycle,
            {
                "reviewed_on": reviewed_on,
                "outcome": outcome,
                "new_profile": new_profile,
                "ops_agreement_required": outcome in ("SUPPORTED_EMPLOYMENT", "SOCIAL_COOPERATIVE"),
            },
        )
    ]


def on_other_assistance(
    schedule: Schedule, event_id: str, instrument: str, referred_on: dt.date
) -> list[Outgoing]:
    """Another form of assistance during a cycle breaks exclusivity (rule 5)."""
    for cycle in schedule.cycles:
        if cycle.start_on <= referred_on <= cycle.span_end:
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
    """Record one activity's hours in one week (kept as whole hundredths of an hour).

    A week's hours are the sum over its activities; a later report of the same
    activity for the same week corrects (replaces) the earlier one.
    """
    cycle.hundredths[f"{week_start.isoformat()}|{activity}"] = hundredths(hours)


def _week_hundredths(cycle: Cycle, week_start: dt.date) -> int:
    prefix = f"{week_start.isoformat()}|"
    return sum(h for key, h in cycle.hundredths.items() if key.startswith(prefix))


def week_hours(cycle: Cycle, week_start: dt.date) -> float:
    return _week_hundredths(cycle, week_start) / 100


def on_psu_hours(
    schedule: Schedule, cycle: Cycle, worked_on: dt.date, hours: float, config: Config
) -> list[Outgoing]:
    """Record PSU hours worked on a day (a later report for the day replaces it) and report
    a week (Monday-Sunday) or a calendar month over its limit, once each, for the person."""
    cycle.psu[worked_on.isoformat()] = hundredths(hours)
    monday = worked_on - dt.timedelta(days=worked_on.weekday())
    first = worked_on.replace(day=1)
    days = {d: h for c in schedule.cycles for d, h in c.psu.items()}
    week = sum(h for d, h in days.items() if monday <= dt.date.fromisoformat(d) < monday + 7 * DAY)
    month = sum(h for d, h in days.items() if d[:7] == first.isoformat()[:7])
    out = []
    for period, start, total, limit in (
        ("WEEK", monday, week, config.psu_weekly_hours),
        ("MONTH", first, month, config.psu_monthly_hours),
    ):
        key = f"{period}:{start.isoformat()}"
        if total > hundredths(limit) and key not in schedule.psu_fired:
            schedule.psu_fired.append(key)
            event = uuid.uuid5(
                NAMESPACE, f"{schedule.person_id}|{Kind.PSU_HOURS_EXCEEDED.value}|{key}"
            )
            out.append(
                Outgoing(
                    Kind.PSU_HOURS_EXCEEDED,
                    str(event),
                    cycle,
                    {
                        "period": period,
                        "period_start": start,
                        "hours_reported": total / 100,
                        "hours_limit": float(limit),
                    },
                )
            )
    return out


# -- time ---------------------------------------------------------------------------------
def end_is_due(schedule: Schedule, today: dt.date) -> bool:
    """A cycle's end has come by ``today`` and no tick has ended it yet."""
    return any(c.active and (c.pending_end or c.last_day + DAY) <= today for c in schedule.cycles)


def catch_up(schedule: Schedule, today: dt.date, config: Config) -> list[Outgoing]:
    """Every deadline due by ``today`` when a cycle's end is among them (else nothing):
    an input handled between a cycle's last day and the clock's tick meets the cycle ended."""
    return on_day(schedule, today, config) if end_is_due(schedule, today) else []


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
        # one date at a time: what fires (an end) changes what falls due after it
        for due, *_, emit in due_now:
            if due == due_now[0][0]:
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
        before_end = cycle.pending_end is None or soon < cycle.pending_end
        if soon >= cycle.start_on and before_end and _ENDING_SOON not in fired:
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
        if _ENDED not in fired and cycle.pending_end is not None:
            end_on, reason = cycle.pending_end, cycle.pending_reason
            found.append(
                (end_on, _ENDED, lambda: _end_cycle(schedule, cycle, end_on, reason, config))
            )
        elif _ENDED not in fired:
            found.append(
                (
                    cycle.last_day + DAY,
                    _ENDED,
                    lambda: _end_cycle(schedule, cycle, cycle.last_day, None, config),
                )
            )
    end = cycle.span_end
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
    reported = _week_hundredths(cycle, monday)
    key = f"{Kind.INTEGRATION_HOURS_SHORTFALL.value}:{monday.isoformat()}"
    if reported >= hundredths(config.weekly_hours):
        if key not in cycle.fired:
            cycle.fired.append(key)  # checked: no event, nothing to check again
        return []
    return _emit_once(
        cycle,
        Kind.INTEGRATION_HOURS_SHORTFALL,
        {
            "week_start": monday,
            "hours_reported": reported / 100,
            "hours_required": config.weekly_hours,
        },
        week=monday,
    )
