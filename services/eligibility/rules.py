"""Who may be referred to PAI: the person's state, how events change it, and the rule sets.

Pure domain: no Kafka, HTTP or Avro. Rule 1 of art. 62a (SPEC.md §1): a
registered unemployed person with assistance profile III (rule set ``seed``) or
with any profile (``no-profile``, after profiling was abolished in June 2019)
who receives social-assistance benefits; carrying out a social contract
(kontrakt socjalny) counts as receiving them and makes the person a priority.

Over time: a person may hold several benefit grants at once (eligible on every
day any of them covers); a ``BenefitsEnded`` ends the grants that had begun by
its date and leaves later ones running; a profile holds from its
``established_on``. :func:`period` says from when an outcome holds and the next
date it changes by date alone, which every decision carries.

Ordering: registration and each contract remember the ``occurred_at`` of the
event that set them; an older event does not roll them back. Grants, their ends
and profile establishments are kept whole, so their outcome does not depend on
the order they arrive in: a ``BenefitsEnded`` ends only grants published no
later than it (by ``occurred_at``), and on a day the profile established last
among those holding by then counts. An ``occurred_at`` later than the instant the
event is handled counts as that instant (:func:`apply`). A repeated
``event_id`` changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, model_validator

from services.runtime import date_range

SEEN_EVENT_IDS = 64
"""How many recent event ids a person's state keeps for de-duplication."""

SINCE_EVER = dt.date(1900, 1, 1)
"""The ``effective_from`` of an outcome that held on every earlier day (nothing dated yet)."""


class Reason(StrEnum):
    """Why a person is not eligible (the ``IneligibilityReason`` enum of the contract)."""

    NOT_REGISTERED = "NOT_REGISTERED"
    DEREGISTERED = "DEREGISTERED"
    PROFILE_NOT_ESTABLISHED = "PROFILE_NOT_ESTABLISHED"
    PROFILE_NOT_III = "PROFILE_NOT_III"
    NO_SOCIAL_ASSISTANCE = "NO_SOCIAL_ASSISTANCE"


@dataclass(frozen=True)
class RuleSet:
    name: str
    version: int
    requires_profile_iii: bool


RULESETS = {
    "seed": RuleSet("seed", 1, requires_profile_iii=True),
    "no-profile": RuleSet("no-profile", 1, requires_profile_iii=False),
}


@dataclass(frozen=True)
class Outcome:
    """What a rule set decides for a person on a date."""

    eligible: bool
    priority: bool
    reasons: tuple[Reason, ...]
    ruleset: str
    ruleset_version: int


class Contract(BaseModel):
    signed_on: dt.date
    valid_until: dt.date
    ended_on: dt.date | None = None
    stamp: dt.datetime


class Grant(BaseModel):
    """One benefit grant (decyzja o przyznaniu świadczenia): from, until (None: open)."""

    granted_on: dt.date
    valid_until: dt.date | None = None
    stamp: dt.datetime


class BenefitsEnd(BaseModel):
    """A ``BenefitsEnded``: ends every grant begun by ``ended_on`` and published by ``stamp``."""

    ended_on: dt.date
    stamp: dt.datetime


class Establishment(BaseModel):
    """One ``ProfileEstablished``: ``profile`` holds from ``established_on``."""

    profile: str
    established_on: dt.date
    stamp: dt.datetime


class PersonState(BaseModel):
    """Everything eligibility knows of one person (the table value).

    States stored before grants and profile dates were kept (the single
    ``benefits_*`` fields, a ``profile`` without a date) are migrated on read:
    the grant and its end become one entry each, the profile holds from always.
    """

    person_id: str
    pup_code: str | None = None
    ops_code: str | None = None
    registered_on: dt.date | None = None
    deregistered_on: dt.date | None = None
    registration_stamp: dt.datetime | None = None
    profile: str | None = None
    """The profile of the latest establishment (what an operator reads first)."""
    profile_stamp: dt.datetime | None = None
    profiles: list[Establishment] = Field(default_factory=list)
    """Every establishment accepted, oldest ``occurred_at`` first."""
    grants: list[Grant] = Field(default_factory=list)
    benefit_ends: list[BenefitsEnd] = Field(default_factory=list)
    benefits_granted_on: dt.date | None = None
    """Before grants were kept (read only: migrated into ``grants``)."""
    benefits_valid_until: dt.date | None = None
    benefits_ended_on: dt.date | None = None
    benefits_stamp: dt.datetime | None = None
    contracts: dict[str, Contract] = Field(default_factory=dict)
    seen_event_ids: list[str] = Field(default_factory=list)
    last_outcome: dict[str, Any] | None = None
    last_decision_id: str | None = None
    last_decided_on: dt.date | None = None
    # the day the outcome was last evaluated: the next change by date is counted from it
    evaluated_on: dt.date | None = None
    last_period: tuple[dt.date, dt.date | None] | None = None
    """(effective_from, changes_on) of the last decision emitted."""

    @model_validator(mode="after")
    def _migrate(self) -> PersonState:
        stamp = self.benefits_stamp or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        if self.benefits_granted_on is not None:
            self.grants.append(
                Grant(
                    granted_on=self.benefits_granted_on,
                    valid_until=self.benefits_valid_until,
                    stamp=stamp,
                )
            )
        if self.benefits_ended_on is not None:
            self.benefit_ends.append(BenefitsEnd(ended_on=self.benefits_ended_on, stamp=stamp))
        self.benefits_granted_on = self.benefits_valid_until = self.benefits_ended_on = None
        self.benefits_stamp = None
        if self.profile is not None and not self.profiles:
            self.profiles = [
                Establishment(
                    profile=self.profile,
                    established_on=dt.date.min,
                    stamp=self.profile_stamp or stamp,
                )
            ]
        return self


class InvalidEvent(ValueError):
    """An event the contract does not allow; ``reason`` is a stable code, ``field`` the
    field at fault."""

    def __init__(self, reason: str, message: str, field: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.field = field


PERIODS = {
    "BenefitsGranted": ("granted_on", "valid_until"),
    "SocialContractSigned": ("signed_on", "valid_until"),
}
"""The record types with a period: its start and its (optional) end field."""


def check_dates(event_type: str, fields: dict[str, Any]) -> None:
    """Refuse impossible dates: one outside :mod:`services.runtime.date_range`
    (``date-out-of-range``), an end before its start (``impossible-dates``)."""
    outside = date_range.out_of_range(fields)
    if outside is not None:
        raise InvalidEvent(
            "date-out-of-range", date_range.describe(event_type, *outside), outside[0]
        )
    if event_type in PERIODS:
        start, end = PERIODS[event_type]
        if fields.get(end) is not None and fields[end] < fields[start]:
            raise InvalidEvent(
                "impossible-dates",
                f"{event_type}.{end} {fields[end]} is before {start} {fields[start]}",
                end,
            )


def _newer(stamp: dt.datetime | None, occurred_at: dt.datetime) -> bool:
    return stamp is None or occurred_at >= stamp


def apply(
    state: PersonState, event_type: str, fields: dict[str, Any], now: dt.datetime | None = None
) -> bool:
    """Change ``state`` by one event handled at ``now`` (the service clock's instant; None
    when no clock has ticked yet); False when it changed nothing (repeat or stale).

    The event counts as of its ``occurred_at``, but no later than ``now``: a producer's
    future ``occurred_at`` (the range allows 2999) would otherwise make the person's later
    real events look stale and keep the person's data for ever. Events capped alike have
    one stamp and count in the order they are read."""
    event_id = str(fields["event_id"])
    if event_id in state.seen_event_ids:
        return False
    state.seen_event_ids = [*state.seen_event_ids[-(SEEN_EVENT_IDS - 1) :], event_id]
    at: dt.datetime = fields["occurred_at"]
    if now is not None:
        at = min(at, now)
    if fields.get("pup_code"):
        state.pup_code = fields["pup_code"]
    if fields.get("ops_code"):
        state.ops_code = fields["ops_code"]
    changed = _APPLY[event_type](state, fields, at)
    return changed


def _registered(state: PersonState, f: dict[str, Any], at: dt.datetime) -> bool:
    if not _newer(state.registration_stamp, at):
        return False
    state.registered_on, state.deregistered_on, state.registration_stamp = (
        f["registered_on"],
        None,
        at,
    )
    return True


def _deregistered(state: PersonState, f: dict[str, Any], at: dt.datetime) -> bool:
    if not _newer(state.registration_stamp, at):
        return False
    state.deregistered_on, state.registration_stamp = f["deregistered_on"], at
    return True


def _profile(state: PersonState, f: dict[str, Any], at: dt.datetime) -> bool:
    entry = Establishment(profile=f["profile"], established_on=f["established_on"], stamp=at)
    if any(e.stamp > at and e.established_on <= entry.established_on for e in state.profiles):
        return False  # a later establishment holds on every day this one would
    state.profiles = sorted([*state.profiles, entry], key=lambda e: e.stamp)
    state.profile, state.profile_stamp = state.profiles[-1].profile, state.profiles[-1].stamp
    return True


def _benefits_granted(state: PersonState, f: dict[str, Any], at: dt.datetime) -> bool:
    grant = Grant(granted_on=f["granted_on"], valid_until=f["valid_until"], stamp=at)
    same = [g for g in state.grants if g.granted_on == grant.granted_on]
    if any(g.stamp > at for g in same):
        return False  # a newer publication of the grant from that day is kept
    state.grants = [g for g in state.grants if g.granted_on != grant.granted_on] + [grant]
    state.grants.sort(key=lambda g: (g.granted_on, g.stamp))
    return True


def _ends(end: BenefitsEnd, grant: Grant) -> bool:
    return grant.stamp <= end.stamp and grant.granted_on <= end.ended_on


def _benefits_ended(state: PersonState, f: dict[str, Any], at: dt.datetime) -> bool:
    end = BenefitsEnd(ended_on=f["ended_on"], stamp=at)
    state.benefit_ends.append(end)  # kept: an older grant arriving later is ended by it
    # False: it ends none of the grants known (older than each, or dated before each began)
    return not state.grants or any(_ends(end, g) for g in state.grants)


def _contract_signed(state: PersonState, f: dict[str, Any], at: dt.datetime) -> bool:
    current = state.contracts.get(f["contract_id"])
    if current is not None and not _newer(current.stamp, at):
        return False
    state.contracts[f["contract_id"]] = Contract(
        signed_on=f["signed_on"], valid_until=f["valid_until"], stamp=at
    )
    return True


def _contract_ended(state: PersonState, f: dict[str, Any], at: dt.datetime) -> bool:
    current = state.contracts.get(f["contract_id"])
    if current is None:
        # ended before we saw it signed: keep the end, so a late signature stays ended
        state.contracts[f["contract_id"]] = Contract(
            signed_on=f["ended_on"], valid_until=f["ended_on"], ended_on=f["ended_on"], stamp=at
        )
        return True
    if not _newer(current.stamp, at):
        return False
    current.ended_on, current.stamp = f["ended_on"], at
    return True


_APPLY = {
    "UnemployedRegistered": _registered,
    "UnemployedDeregistered": _deregistered,
    "ProfileEstablished": _profile,
    "BenefitsGranted": _benefits_granted,
    "BenefitsEnded": _benefits_ended,
    "SocialContractSigned": _contract_signed,
    "SocialContractEnded": _contract_ended,
}
EVENT_TYPES = frozenset(_APPLY)


def _within(day: dt.date, start: dt.date | None, *ends: dt.date | None) -> bool:
    return start is not None and start <= day and all(e is None or day <= e for e in ends)


def _grant_covers(state: PersonState, grant: Grant, day: dt.date) -> bool:
    if not _within(day, grant.granted_on, grant.valid_until):
        return False
    return not any(_ends(end, grant) and end.ended_on < day for end in state.benefit_ends)


def grant_last_day(state: PersonState, grant: Grant) -> dt.date | None:
    """The last day ``grant`` covers: its ``valid_until`` or the earliest end that ends it,
    whichever comes first; None while neither bounds it (an open-ended grant)."""
    ends = [end.ended_on for end in state.benefit_ends if _ends(end, grant)]
    bounds = [*ends, *([grant.valid_until] if grant.valid_until is not None else [])]
    return min(bounds, default=None)


def receives_benefits(state: PersonState, day: dt.date) -> bool:
    """Some grant covers ``day`` (a later or shorter grant never cuts another)."""
    return any(_grant_covers(state, grant, day) for grant in state.grants)


def profile_on(state: PersonState, day: dt.date) -> str | None:
    """The profile established latest (by ``occurred_at``) among those holding by ``day``."""
    held = [e for e in state.profiles if e.established_on <= day]
    return max(held, key=lambda e: e.stamp).profile if held else None


def carries_out_contract(state: PersonState, day: dt.date) -> bool:
    return any(
        _within(day, c.signed_on, c.valid_until, c.ended_on) for c in state.contracts.values()
    )


def evaluate(state: PersonState, day: dt.date, ruleset: RuleSet) -> Outcome:
    """The outcome on ``day``, with every reason the person is not eligible."""
    reasons = []
    if state.registered_on is None or state.registered_on > day:
        reasons.append(Reason.NOT_REGISTERED)
    elif state.deregistered_on is not None and state.deregistered_on <= day:
        reasons.append(Reason.DEREGISTERED)
    if ruleset.requires_profile_iii:
        profile = profile_on(state, day)
        if profile is None:
            reasons.append(Reason.PROFILE_NOT_ESTABLISHED)
        elif profile != "III":
            reasons.append(Reason.PROFILE_NOT_III)
    contract = carries_out_contract(state, day)
    if not (contract or receives_benefits(state, day)):
        reasons.append(Reason.NO_SOCIAL_ASSISTANCE)
    return Outcome(
        eligible=not reasons,
        priority=contract,
        reasons=tuple(reasons),
        ruleset=ruleset.name,
        ruleset_version=ruleset.version,
    )


def outcome_key(outcome: Outcome) -> dict[str, Any]:
    """What makes two outcomes the same decision (stored as ``last_outcome``)."""
    return {
        "eligible": outcome.eligible,
        "priority": outcome.priority,
        "reasons": [r.value for r in outcome.reasons],
        "ruleset": outcome.ruleset,
        "ruleset_version": outcome.ruleset_version,
    }


def next_change(state: PersonState, day: dt.date) -> dt.date | None:
    """The first date after ``day`` on which the outcome may change with no new event."""
    candidates: list[dt.date] = []

    def starts(value: dt.date | None) -> None:
        if value is not None and value > day:
            candidates.append(value)

    def ends(value: dt.date | None) -> None:  # valid through ``value``: changes the day after
        if value is not None and value >= day:
            candidates.append(value + dt.timedelta(days=1))

    starts(state.registered_on)
    starts(state.deregistered_on)
    for grant in state.grants:
        starts(grant.granted_on)
        ends(grant.valid_until)
    for end in state.benefit_ends:
        ends(end.ended_on)
    for establishment in state.profiles:
        starts(establishment.established_on)
    for contract in state.contracts.values():
        starts(contract.signed_on)
        ends(contract.valid_until)
        ends(contract.ended_on)
    return min(candidates) if candidates else None


def _change_points(state: PersonState) -> list[dt.date]:
    """Every date on which an outcome may differ from the day before's, ascending."""
    points: set[dt.date] = set()
    day = dt.date.min
    while (found := next_change(state, day)) is not None:
        points.add(found)
        day = found
    return sorted(points)


@dataclass(frozen=True)
class Period:
    """The days an outcome holds: from ``effective_from`` to the day before ``changes_on``."""

    effective_from: dt.date
    changes_on: dt.date | None
    """The next date the outcome changes by date alone; None: not by date alone."""


def period(state: PersonState, day: dt.date, ruleset: RuleSet) -> Period:
    """Over which days the outcome of ``day`` holds, as far as dates alone change it."""
    key = outcome_key(evaluate(state, day, ruleset))
    points = _change_points(state)
    start = SINCE_EVER
    for point in reversed([p for p in points if p <= day]):
        if outcome_key(evaluate(state, point - dt.timedelta(days=1), ruleset)) != key:
            start = point
            break
    changes_on = None
    for point in (p for p in points if p > day):
        if outcome_key(evaluate(state, point, ruleset)) != key:
            changes_on = point
            break
    return Period(start, changes_on)


@dataclass(frozen=True)
class Judgement:
    """A decision to emit: the outcome on the day judged, and over which days it holds."""

    outcome: Outcome
    effective_from: dt.date
    changes_on: dt.date | None


def judge(state: PersonState, day: dt.date, ruleset: RuleSet) -> Judgement | None:
    """The decision when the outcome or its period changed (and note it), else None."""
    outcome = evaluate(state, day, ruleset)
    held = period(state, day, ruleset)
    state.evaluated_on = day
    key = outcome_key(outcome)
    span = (held.effective_from, held.changes_on)
    if key == state.last_outcome and span == state.last_period:
        return None
    state.last_outcome, state.last_period, state.last_decided_on = key, span, day
    return Judgement(outcome, held.effective_from, held.changes_on)
