"""Who may be referred to PAI: the person's state, how events change it, and the rule sets.

Pure domain: no Kafka, HTTP or Avro. Rule 1 of art. 62a (SPEC.md §1): a
registered unemployed person with assistance profile III (rule set ``seed``) or
with any profile (``no-profile``, after profiling was abolished in June 2019)
who receives social-assistance benefits; carrying out a social contract
(kontrakt socjalny) counts as receiving them and makes the person a priority.

Ordering: each aspect of the state (registration, profile, benefits, each
contract) remembers the ``occurred_at`` of the event that last set it; an older
event for that aspect does not roll it back. A repeated ``event_id`` changes
nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

SEEN_EVENT_IDS = 64
"""How many recent event ids a person's state keeps for de-duplication."""


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


class PersonState(BaseModel):
    """Everything eligibility knows of one person (the table value)."""

    person_id: str
    pup_code: str | None = None
    ops_code: str | None = None
    registered_on: dt.date | None = None
    deregistered_on: dt.date | None = None
    registration_stamp: dt.datetime | None = None
    profile: str | None = None
    profile_stamp: dt.datetime | None = None
    benefits_granted_on: dt.date | None = None
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


class InvalidEvent(ValueError):
    """An event the contract does not allow; ``reason`` is a stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_dates(event_type: str, fields: dict[str, Any]) -> None:
    """Refuse impossible dates (an end before its start)."""
    pairs = {
        "BenefitsGranted": ("granted_on", "valid_until"),
        "SocialContractSigned": ("signed_on", "valid_until"),
    }
    if event_type in pairs:
        start, end = pairs[event_type]
        if fields.get(end) is not None and fields[end] < fields[start]:
            raise InvalidEvent(
                "impossible-dates",
                f"{event_type}.{end} {fields[end]} is before {start} {fields[start]}",
            )


def _newer(stamp: dt.datetime | None, occurred_at: dt.datetime) -> bool:
    return stamp is None or occurred_at >= stamp


def apply(state: PersonState, event_type: str, fields: dict[str, Any]) -> bool:
    """Change ``state`` by one event; False when it changed nothing (repeat or stale)."""
    event_id = str(fields["event_id"])
    if event_id in state.seen_event_ids:
        return False
    state.seen_event_ids = [*state.seen_event_ids[-(SEEN_EVENT_IDS - 1) :], event_id]
    at: dt.datetime = fields["occurred_at"]
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
    if not _newer(state.profile_stamp, at):
        return False
    state.profile, state.profile_stamp = f["profile"], at
    return True


def _benefits_granted(state: PersonState, f: dict[str, Any], at: dt.datetime) -> bool:
    if not _newer(state.benefits_stamp, at):
        return False
    state.benefits_granted_on, state.benefits_valid_until = f["granted_on"], f["valid_until"]
    state.benefits_ended_on, state.benefits_stamp = None, at
    return True


def _benefits_ended(state: PersonState, f: dict[str, Any], at: dt.datetime) -> bool:
    if not _newer(state.benefits_stamp, at):
        return False
    state.benefits_ended_on, state.benefits_stamp = f["ended_on"], at
    return True


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


def receives_benefits(state: PersonState, day: dt.date) -> bool:
    return _within(
        day, state.benefits_granted_on, state.benefits_valid_until, state.benefits_ended_on
    )


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
        if state.profile is None:
            reasons.append(Reason.PROFILE_NOT_ESTABLISHED)
        elif state.profile != "III":
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
    starts(state.benefits_granted_on)
    ends(state.benefits_valid_until)
    ends(state.benefits_ended_on)
    for contract in state.contracts.values():
        starts(contract.signed_on)
        ends(contract.valid_until)
        ends(contract.ended_on)
    return min(candidates) if candidates else None
