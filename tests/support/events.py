"""Builders of inbound events as (key, Avro bytes), as a PUP or OPS producer would write them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from services.runtime.codec import AvroCodec

PROFILES = AvroCodec("profiles")
ASSISTANCE = AvroCodec("social-assistance")
CLOCK = AvroCodec("clock")
BASE = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def _common(pesel: str, seq: int, event_id: uuid.UUID | None) -> dict[str, Any]:
    return {
        "event_id": event_id or uuid.uuid4(),
        "occurred_at": BASE + dt.timedelta(seconds=seq),
        "person_id": pesel,
    }


def registered(
    pesel: str, on: dt.date, seq: int = 0, event_id: uuid.UUID | None = None
) -> tuple[bytes, bytes]:
    fields = _common(pesel, seq, event_id) | {"pup_code": "1465", "registered_on": on}
    return pesel.encode(), PROFILES.encode("UnemployedRegistered", fields)


def profile(
    pesel: str, level: str, on: dt.date, seq: int = 1, event_id: uuid.UUID | None = None
) -> tuple[bytes, bytes]:
    fields = _common(pesel, seq, event_id) | {
        "pup_code": "1465",
        "profile": level,
        "established_on": on,
    }
    return pesel.encode(), PROFILES.encode("ProfileEstablished", fields)


def deregistered(pesel: str, on: dt.date, seq: int = 2) -> tuple[bytes, bytes]:
    fields = _common(pesel, seq, None) | {
        "pup_code": "1465",
        "deregistered_on": on,
        "reason": "work",
    }
    return pesel.encode(), PROFILES.encode("UnemployedDeregistered", fields)


def benefits(
    pesel: str,
    granted_on: dt.date,
    valid_until: dt.date | None,
    seq: int = 2,
    event_id: uuid.UUID | None = None,
    ops_code: str = "1465011",
) -> tuple[bytes, bytes]:
    fields = _common(pesel, seq, event_id) | {
        "ops_code": ops_code,
        "granted_on": granted_on,
        "valid_until": valid_until,
    }
    return pesel.encode(), ASSISTANCE.encode("BenefitsGranted", fields)


def contract(
    pesel: str, signed_on: dt.date, valid_until: dt.date, seq: int = 3, ops_code: str = "1465011"
) -> tuple[bytes, bytes]:
    fields = _common(pesel, seq, None) | {
        "ops_code": ops_code,
        "contract_id": f"KS/{pesel[-4:]}",
        "signed_on": signed_on,
        "valid_until": valid_until,
    }
    return pesel.encode(), ASSISTANCE.encode("SocialContractSigned", fields)


def tick(now: dt.datetime) -> bytes:
    return CLOCK.encode("ClockTick", {"now": now})


def pesel_from(n: int) -> str:
    """The n-th valid PESEL of a deterministic series (born 1980-1999)."""
    weights = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
    year, month, day, serial = 80 + n % 20, 1 + n % 12, 1 + n % 28, n % 10000
    body = f"{year:02d}{month:02d}{day:02d}{serial:04d}"
    check = (10 - sum(w * int(d) for w, d in zip(weights, body, strict=True)) % 10) % 10
    return body + str(check)


EDITIONS = AvroCodec("program-editions")


def edition(
    edition_id: str,
    opinion: dt.date | None,
    valid_from: dt.date,
    valid_to: dt.date,
    ops_codes: tuple[str, ...] = ("1465011",),
    seq: int = 0,
) -> tuple[bytes, bytes]:
    fields = {
        "event_id": uuid.uuid4(),
        "occurred_at": BASE + dt.timedelta(seconds=seq),
        "edition_id": edition_id,
        "pup_code": "1465",
        "ops_codes": list(ops_codes),
        "council_opinion_on": opinion,
        "valid_from": valid_from,
        "valid_to": valid_to,
    }
    return edition_id.encode(), EDITIONS.encode("ProgramEdition", fields)


PARTICIPATION = AvroCodec("participation")
ACTIVITIES = AvroCodec("integration-activities")
DECISIONS = AvroCodec("eligibility-decisions")


def decision(pesel: str, eligible: bool, decided_on: dt.date, seq: int = 0) -> tuple[bytes, bytes]:
    """An eligibility decision as the eligibility service writes it."""
    fields = _common(pesel, seq, None) | {
        "pup_code": "1465",
        "ops_code": "1465011",
        "eligible": eligible,
        "priority": False,
        "reasons": [] if eligible else ["NO_SOCIAL_ASSISTANCE"],
        "ruleset": "seed",
        "ruleset_version": 1,
        "decided_on": decided_on,
        "cause_event_id": None,
        "cause": "BenefitsGranted",
    }
    return pesel.encode(), DECISIONS.encode("EligibilityDecision", fields)


def referred(
    pesel: str,
    referral_id: str,
    start_on: dt.date,
    edition_id: str = "ED-1",
    ops_code: str = "1465011",
    seq: int = 0,
) -> tuple[bytes, bytes]:
    fields = _common(pesel, seq, None) | {
        "pup_code": "1465",
        "referral_id": referral_id,
        "edition_id": edition_id,
        "ops_code": ops_code,
        "start_on": start_on,
    }
    return pesel.encode(), PARTICIPATION.encode("ReferredToProgram", fields)


def psu_hours(
    pesel: str, referral_id: str, worked_on: dt.date, hours: float, seq: int = 0
) -> tuple[bytes, bytes]:
    fields = _common(pesel, seq, None) | {
        "pup_code": "1465",
        "referral_id": referral_id,
        "worked_on": worked_on,
        "hours": hours,
    }
    return pesel.encode(), PARTICIPATION.encode("PsuHoursReported", fields)


def participation_ended(
    pesel: str, referral_id: str, ended_on: dt.date, reason: str = "COMPLETED", seq: int = 0
) -> tuple[bytes, bytes]:
    fields = _common(pesel, seq, None) | {
        "pup_code": "1465",
        "referral_id": referral_id,
        "ended_on": ended_on,
        "reason": reason,
    }
    return pesel.encode(), PARTICIPATION.encode("ParticipationEnded", fields)


def profile_reviewed(
    pesel: str, reviewed_on: dt.date, outcome: str = "RE_REFERRAL", seq: int = 0
) -> tuple[bytes, bytes]:
    fields = _common(pesel, seq, None) | {
        "pup_code": "1465",
        "reviewed_on": reviewed_on,
        "outcome": outcome,
        "new_profile": None,
    }
    return pesel.encode(), PARTICIPATION.encode("ProfileReviewed", fields)


def other_assistance(
    pesel: str, instrument: str, referred_on: dt.date, seq: int = 0
) -> tuple[bytes, bytes]:
    fields = _common(pesel, seq, None) | {
        "pup_code": "1465",
        "instrument": instrument,
        "referred_on": referred_on,
    }
    return pesel.encode(), PARTICIPATION.encode("OtherAssistanceReferral", fields)


def hours(
    pesel: str,
    referral_id: str,
    week_start: dt.date,
    value: float,
    activity: str = "GROUP_COUNSELLING",
    ops_code: str = "1465011",
) -> tuple[bytes, bytes]:
    fields = _common(pesel, 0, None) | {
        "ops_code": ops_code,
        "referral_id": referral_id,
        "week_start": week_start,
        "hours": value,
        "activity": activity,
    }
    return pesel.encode(), ACTIVITIES.encode("IntegrationHoursReported", fields)


SCHEDULER_EVENTS = AvroCodec("scheduler-events")


def outbound(kind: str, pesel: str, ops: str, **fields: Any) -> tuple[bytes, bytes]:
    """A scheduler event (or, for ``EligibilityDecision``, a decision) for ``ops``."""
    common = {
        "event_id": uuid.uuid4(),
        "occurred_at": dt.datetime(2026, 3, 2, 5, tzinfo=dt.UTC),
        "person_id": pesel,
        "pup_code": "1465",
        "ops_code": ops,
    }
    if kind == "EligibilityDecision":
        return pesel.encode(), DECISIONS.encode(
            kind,
            common
            | {
                "eligible": True,
                "priority": True,
                "reasons": [],
                "ruleset": "seed",
                "ruleset_version": 1,
                "decided_on": dt.date(2026, 3, 2),
                "cause_event_id": None,
                "cause": "SocialContractSigned",
            },
        )
    day, cycle = dt.date(2026, 3, 2), {"cycle_id": "c-1", "referral_id": "R1"}
    specific: dict[str, dict[str, Any]] = {
        "ReferralAccepted": cycle
        | {
            "edition_id": "ED-1",
            "cycle_number": 1,
            "start_on": day,
            "last_day": dt.date(2026, 5, 1),
            "days_used": 0,
            "days_left": 120,
        },
        "ReferralRejected": {
            "referral_id": "R2",
            "edition_id": "ED-1",
            "start_on": day,
            "reasons": ["NOT_ELIGIBLE", "CAP_EXHAUSTED"],
        },
        "CycleStarted": cycle | {"start_on": day, "last_day": dt.date(2026, 5, 1)},
        "CycleEndingSoon": cycle | {"last_day": dt.date(2026, 5, 1), "days_before": 7},
        "CycleEnded": cycle
        | {
            "ended_on": dt.date(2026, 4, 10),
            "early": True,
            "end_reason": "EMPLOYMENT",
            "days_used": 40,
            "days_used_total": 40,
            "days_left": 140,
        },
        "ProfileReviewDue": cycle | {"due_on": dt.date(2026, 4, 17)},
        "ProfileReviewOverdue": cycle | {"due_on": dt.date(2026, 4, 17)},
        "ProfileReviewRecorded": cycle
        | {
            "reviewed_on": dt.date(2026, 4, 20),
            "outcome": "SOCIAL_COOPERATIVE",
            "new_profile": None,
            "ops_agreement_required": True,
        },
        "CapExhausted": cycle | {"days_used_total": 180},
        "ExclusivityConflict": cycle | {"instrument": "training", "referred_on": day},
        "IntegrationHoursShortfall": cycle
        | {"week_start": day, "hours_reported": 6.5, "hours_required": 10.0},
    }
    return pesel.encode(), SCHEDULER_EVENTS.encode(kind, common | specific[kind] | fields)
