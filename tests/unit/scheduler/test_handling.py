"""Inbound events applied to a schedule: what is refused (and why), and repeats."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from services.scheduler import handling
from services.scheduler.domain import Config, Edition, Kind, Schedule
from services.scheduler.handling import InvalidInput

D = dt.date
CONFIG = Config()
Y9999 = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
FEB_2 = D(2026, 2, 2)
EDITION = Edition(
    "ED-1", "1465", frozenset({"1465011"}), D(2026, 1, 1), D(2026, 1, 1), D(2026, 12, 31)
)


def event(kind: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    return kind, {"event_id": uuid.uuid4(), "person_id": "44051401359", "pup_code": "1465"} | fields


def apply(schedule: Schedule, kind: str, fields: dict[str, Any], today: dt.date = FEB_2):
    return handling.handle(schedule, kind, fields, {"ED-1": EDITION}.get, today, CONFIG)


@pytest.fixture
def schedule() -> Schedule:
    """Eligible since January, with one accepted referral: REF-1 from Wednesday 4 February."""
    s = Schedule(person_id="44051401359")
    apply(s, *event("EligibilityDecision", decided_on=D(2026, 1, 5), eligible=True))
    out = apply(
        s,
        *event(
            "ReferredToProgram",
            referral_id="REF-1",
            edition_id="ED-1",
            ops_code="1465011",
            start_on=D(2026, 2, 4),
        ),
        today=D(2026, 2, 4),
    )
    assert [e.kind for e in out] == [Kind.REFERRAL_ACCEPTED, Kind.CYCLE_STARTED]
    return s


def hours(week: dt.date, value: float, referral: str = "REF-1", ops: str = "1465011"):
    return event(
        "IntegrationHoursReported",
        ops_code=ops,
        referral_id=referral,
        week_start=week,
        hours=value,
        activity="GROUP_COUNSELLING",
    )


@pytest.mark.parametrize(
    ("kind_fields", "reason"),
    [
        (hours(D(2026, 2, 9), 12, referral="REF-404"), "unknown-referral"),
        (hours(D(2026, 2, 10), 12), "week-start-not-monday"),
        (hours(D(2026, 2, 9), -1), "hours-out-of-range"),
        (hours(D(2026, 2, 9), 169), "hours-out-of-range"),
        (hours(D(2026, 2, 9), float("nan")), "hours-out-of-range"),
        (hours(D(2026, 2, 9), 12, ops="1465022"), "wrong-ops"),
        (
            ("IntegrationHoursReported", hours(D(2026, 2, 9), 12)[1] | {"occurred_at": Y9999}),
            "date-out-of-range",
        ),
        (hours(D(2026, 6, 1), 12), "week-outside-cycle"),
        (
            event(
                "ParticipationEnded", referral_id="REF-1", ended_on=D(2026, 2, 1), reason="OTHER"
            ),
            "end-before-start",
        ),
        (
            event(
                "ProfileReviewed", reviewed_on=D(2026, 4, 9), outcome="UNKNOWN", new_profile=None
            ),
            "unknown-symbol",
        ),
        (
            event(
                "ParticipationEnded", referral_id="REF-9", ended_on=D(2026, 3, 1), reason="OTHER"
            ),
            "unknown-referral",
        ),
        (
            event(
                "ReferredToProgram",
                referral_id="REF-1",
                edition_id="ED-1",
                ops_code="1465011",
                start_on=D(2026, 2, 2),
            ),
            "duplicate-referral",
        ),
    ],
)
def test_input_the_scheduler_cannot_accept_is_refused_with_its_reason(
    schedule: Schedule, kind_fields: tuple[str, dict[str, Any]], reason: str
) -> None:
    before = schedule.model_dump()
    with pytest.raises(InvalidInput) as refused:
        apply(schedule, *kind_fields)
    assert refused.value.reason == reason
    assert schedule.model_dump() == before  # nothing of a refused event is kept


def test_a_refused_event_leaves_no_trace_of_what_was_applied_before_the_refusal(
    schedule: Schedule,
) -> None:
    """An input first ends a cycle whose last day has passed (``catch_up``), then may be
    refused: the ended cycle, its deadlines and the event id are not kept either."""
    before = schedule.model_dump()
    after_the_cycle = D(2026, 4, 20)  # REF-1 ran 2026-02-04..2026-04-03
    unknown = hours(D(2026, 2, 9), 10, referral="REF-9")
    with pytest.raises(InvalidInput) as refused:
        apply(schedule, unknown[0], unknown[1], today=after_the_cycle)
    assert refused.value.reason == "unknown-referral"
    assert schedule.model_dump() == before
    assert schedule.cycles[0].ended_on is None
    # and the schedule still works: the same end is reached by the next accepted input
    kind, fields = hours(D(2026, 2, 9), 10)
    apply(schedule, kind, fields, today=after_the_cycle)
    assert schedule.cycles[0].ended_on == D(2026, 4, 3)


def test_hours_of_a_week_that_starts_before_the_cycle_but_overlaps_it_count(
    schedule: Schedule,
) -> None:
    assert apply(schedule, *hours(D(2026, 2, 2), 4)) == []
    assert schedule.cycles[0].hundredths == {"2026-02-02|GROUP_COUNSELLING": 400}
    with pytest.raises(InvalidInput, match="does not overlap"):
        apply(schedule, *hours(D(2026, 1, 26), 4))


def test_a_repeated_event_id_changes_nothing_and_emits_nothing(schedule: Schedule) -> None:
    kind, fields = event(
        "OtherAssistanceReferral", instrument="training", referred_on=D(2026, 2, 20)
    )
    first = apply(schedule, kind, fields)
    assert [e.kind for e in first] == [Kind.EXCLUSIVITY_CONFLICT]
    assert apply(schedule, kind, fields) == []


def test_a_late_copy_of_an_hours_report_after_its_correction_changes_nothing(
    schedule: Schedule,
) -> None:
    """What a gateway retry after a 503 can leave on the topic: the first report written
    twice (the same record), its second copy arriving after a correction. By its content
    alone it would put the old hours back (a later report of a week replaces it): its
    event_id makes it a repeat."""
    first = hours(D(2026, 2, 9), 10)
    apply(schedule, *first)
    apply(schedule, *hours(D(2026, 2, 9), 12))  # the correction: a new event_id
    assert apply(schedule, *first) == []
    assert schedule.cycles[0].hundredths == {"2026-02-09|GROUP_COUNSELLING": 1200}


def test_an_early_end_emits_the_end_and_the_review_due(schedule: Schedule) -> None:
    out = apply(
        schedule,
        *event(
            "ParticipationEnded", referral_id="REF-1", ended_on=D(2026, 2, 20), reason="EMPLOYMENT"
        ),
        today=D(2026, 2, 20),
    )
    # the one full week (9-15 February) had no hours: its shortfall was due on the 17th
    assert [e.kind for e in out] == [
        Kind.CYCLE_ENDED,
        Kind.PROFILE_REVIEW_DUE,
        Kind.INTEGRATION_HOURS_SHORTFALL,
    ]
    assert out[0].fields["days_used"] == 17 and out[0].fields["early"] is True
    assert out[1].fields["due_on"] == D(2026, 2, 27)
