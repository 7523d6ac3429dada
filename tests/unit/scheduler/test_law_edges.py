"""The scheduler at the edges of the law (issue 14): the cap, late and future ends,
overlapping cycles, eligibility on the start date, reviews, exact hours, editions and
outcome ids. Each test failed before the change it names."""

from __future__ import annotations

import datetime as dt

import pytest

from services.scheduler.domain import Config, Edition, Schedule
from services.scheduler.handling import InvalidInput
from tests.unit.scheduler.registry import EDITION, OPS, PUP, Registry, kinds, only

D = dt.date


def eligible(today: dt.date | None = None, **kwargs: object) -> Registry:
    r = Registry(**kwargs)  # type: ignore[arg-type]
    r.today = today or D(2026, 2, 4)
    r.decision(True, D(2025, 12, 1))
    return r


def one_cycle_ended_early() -> Registry:
    """R1 from Wednesday 4 February, ended early on Friday 20 February (17 days)."""
    r = eligible()
    r.refer("R1", D(2026, 2, 4))
    r.today = D(2026, 2, 20)
    r.end("R1", D(2026, 2, 20))
    return r


# -- 1. the cap ---------------------------------------------------------------------------
def test_a_shortened_cycle_is_charged_at_most_the_days_left_and_the_cap_holds_at_180() -> None:
    r = eligible(D(2025, 12, 20))
    r.refer("R1", D(2026, 1, 1))
    r.day(D(2026, 3, 1))  # 60
    r.review(D(2026, 3, 2))
    r.refer("R2", D(2026, 3, 10))
    r.day(D(2026, 5, 10))  # 10 March - 9 May: 60
    r.review(D(2026, 5, 11))
    r.today = D(2026, 6, 1)
    r.refer("R3", D(2026, 6, 1))
    r.end("R3", D(2026, 6, 1))  # 1
    r.review(D(2026, 6, 2))
    r.today = D(2027, 1, 10)
    accepted = only(r.refer("R4", D(2027, 1, 15)), "ReferralAccepted")
    # 59 calendar days from 15 January end on 14 March, the full art. 112 last day
    assert accepted.fields["last_day"] == D(2027, 3, 14)
    assert (accepted.fields["days_used"], accepted.fields["days_left"]) == (121, 0)
    ended = r.day(D(2027, 3, 15))
    assert only(ended, "CycleEnded").fields["days_used"] == 59
    assert only(ended, "CycleEnded").fields["days_used_total"] == 180
    assert only(ended, "CycleEnded").fields["days_left"] == 0
    assert "CapExhausted" in kinds(ended)
    assert r.schedule.used_days() == 180


# -- 2. a late early end --------------------------------------------------------------------
def test_an_end_entered_after_the_clock_closed_the_cycle_corrects_the_days_and_says_so() -> None:
    r = eligible()
    r.refer("R1", D(2026, 2, 4))
    on_time = only(r.day(D(2026, 4, 4)), "CycleEnded")
    assert (on_time.fields["ended_on"], on_time.fields["days_used"]) == (D(2026, 4, 3), 60)
    r.today = D(2026, 4, 6)
    out = r.end("R1", D(2026, 3, 20), reason="EMPLOYMENT")
    assert kinds(out) == ["CycleEnded", "ProfileReviewDue", "ProfileReviewOverdue"]
    corrected = out[0].fields
    assert corrected["corrected"] is True and out[0].event_id != on_time.event_id
    assert (corrected["ended_on"], corrected["early"], corrected["end_reason"]) == (
        D(2026, 3, 20),
        True,
        "EMPLOYMENT",
    )
    assert (corrected["days_used"], corrected["days_used_total"], corrected["days_left"]) == (
        45,
        45,
        135,
    )
    assert (corrected["previous_ended_on"], corrected["previous_days_used"]) == (
        D(2026, 4, 3),
        60,
    )
    assert out[1].fields["due_on"] == D(2026, 3, 27)  # 7 days after the corrected end
    assert r.schedule.used_days() == 45
    assert r.day(D(2026, 12, 31)) == []  # nothing repeats


def test_a_correction_after_the_review_keeps_the_review_and_emits_no_new_due_date() -> None:
    r = eligible()
    r.refer("R1", D(2026, 2, 4))
    r.day(D(2026, 4, 4))
    r.review(D(2026, 4, 7))
    out = r.end("R1", D(2026, 3, 20))
    assert kinds(out) == ["CycleEnded"]
    assert only(r.refer("R2", D(2026, 4, 13)), "ReferralAccepted").fields["days_used"] == 45


@pytest.mark.parametrize("on", [D(2026, 4, 3), D(2026, 4, 5)])
def test_an_end_on_or_after_the_recorded_end_cannot_apply_and_is_refused(on: dt.date) -> None:
    r = eligible()
    r.refer("R1", D(2026, 2, 4))
    r.day(D(2026, 4, 4))
    before = r.schedule.model_dump()
    with pytest.raises(InvalidInput) as refused:
        r.end("R1", on)
    assert refused.value.reason == "cycle-already-ended"
    assert "2026-04-03" in str(refused.value)
    assert r.schedule.model_dump() == before


# -- 3. overlaps and future ends -------------------------------------------------------------
@pytest.mark.parametrize("start", [D(2026, 2, 10), D(2026, 2, 20), D(2026, 1, 20)])
def test_a_referral_overlapping_or_before_an_earlier_cycle_is_rejected_naming_it(
    start: dt.date,
) -> None:
    r = one_cycle_ended_early()
    r.review(D(2026, 2, 21))
    rejected = only(r.refer("R2", start), "ReferralRejected")
    assert rejected.fields["reasons"] == ["CYCLE_OVERLAP"]
    [detail] = rejected.fields["details"]
    assert "R1" in detail and "2026-02-04" in detail and "2026-02-20" in detail
    assert only(r.refer("R3", D(2026, 2, 23)), "ReferralAccepted").fields["days_used"] == 17


def test_an_end_dated_after_today_ends_the_cycle_on_that_date_not_before() -> None:
    r = eligible()
    r.refer("R1", D(2026, 2, 4))
    r.today = D(2026, 2, 10)
    assert "CycleEnded" not in kinds(r.end("R1", D(2026, 3, 1)))
    assert r.schedule.cycles[0].active
    assert only(r.refer("R2", D(2026, 3, 9)), "ReferralRejected").fields["reasons"] == [
        "CYCLE_ALREADY_ACTIVE"
    ]
    assert "CycleEnded" not in kinds(r.day(D(2026, 2, 28)))
    ended = only(r.day(D(2026, 3, 1)), "CycleEnded")
    assert (ended.fields["ended_on"], ended.fields["early"], ended.fields["days_used"]) == (
        D(2026, 3, 1),
        True,
        26,
    )


# -- 4. eligibility on the start date ---------------------------------------------------------
def test_a_referral_is_judged_by_what_holds_on_its_start_date_not_the_decision_date() -> None:
    r = Registry()
    r.today = D(2026, 1, 20)
    r.decision(True, effective_from=D(2026, 1, 12))
    assert kinds(r.refer("R1", D(2026, 1, 15)))[0] == "ReferralAccepted"


def test_a_decision_whose_outcome_changes_before_the_start_does_not_carry_over() -> None:
    r = Registry()
    r.today = D(2026, 1, 20)
    r.decision(True, effective_from=D(2026, 1, 5), changes_on=D(2026, 1, 26))
    rejected = only(r.refer("R1", D(2026, 2, 2)), "ReferralRejected")
    assert rejected.fields["reasons"] == ["NOT_ELIGIBLE"]


def test_a_later_decision_overrides_the_days_it_covers_only() -> None:
    r = Registry()
    r.today = D(2026, 1, 20)
    r.decision(True, effective_from=D(2026, 1, 5))
    r.decision(False, effective_from=D(2026, 3, 1))  # e.g. deregistered from 1 March
    assert r.schedule.eligible_on(D(2026, 2, 28)) and not r.schedule.eligible_on(D(2026, 3, 1))
    r.decision(False, effective_from=D(2026, 1, 1))  # a backdated deregistration
    assert not r.schedule.eligible_on(D(2026, 2, 28))


def test_a_decision_without_a_period_holds_from_its_decision_date_as_before() -> None:
    r = Registry()
    r.today = D(2026, 1, 20)
    r.send("EligibilityDecision", decided_on=D(2026, 1, 20), eligible=True)  # a v1 record
    assert not r.schedule.eligible_on(D(2026, 1, 19)) and r.schedule.eligible_on(D(2026, 1, 20))
    stored = Schedule.model_validate(
        {"person_id": "44051401359", "eligibility": [["2026-01-05", True]]}
    )
    assert stored.eligible_on(D(2026, 1, 5)) and not stored.eligible_on(D(2026, 1, 4))


# -- 5. profile reviews ------------------------------------------------------------------------
def test_a_review_dated_before_the_cycle_ended_is_refused() -> None:
    r = one_cycle_ended_early()
    with pytest.raises(InvalidInput) as refused:
        r.review(D(2026, 2, 19))
    assert refused.value.reason == "review-before-cycle-end"


def test_a_review_with_no_ended_cycle_or_during_a_cycle_is_refused() -> None:
    r = eligible()
    with pytest.raises(InvalidInput) as none:
        r.review(D(2026, 2, 4))
    assert none.value.reason == "no-ended-cycle"
    r.refer("R1", D(2026, 2, 4))
    with pytest.raises(InvalidInput) as during:
        r.review(D(2026, 2, 10))
    assert during.value.reason == "review-during-cycle"


@pytest.mark.parametrize(
    ("outcome", "new_profile", "reason"),
    [
        ("SUPPORTED_EMPLOYMENT", None, "REVIEWED_SUPPORTED_EMPLOYMENT"),
        ("SOCIAL_COOPERATIVE", None, "REVIEWED_SOCIAL_COOPERATIVE"),
        ("PROFILE_CHANGED", "II", "REVIEWED_PROFILE_CHANGED"),
        ("PROFILE_CHANGED", "III", "REVIEWED_PROFILE_CHANGED"),
    ],
)
def test_a_re_referral_after_a_review_that_did_not_re_refer_is_rejected_naming_it(
    outcome: str, new_profile: str | None, reason: str
) -> None:
    r = one_cycle_ended_early()
    r.review(D(2026, 2, 23), outcome, new_profile)
    rejected = only(r.refer("R2", D(2026, 3, 2)), "ReferralRejected")
    assert rejected.fields["reasons"] == [reason]
    assert outcome in rejected.fields["details"][0]


def test_the_latest_review_decides() -> None:
    r = one_cycle_ended_early()
    r.review(D(2026, 2, 23), "RE_REFERRAL")
    r.review(D(2026, 2, 24), "SOCIAL_COOPERATIVE")
    assert kinds(r.refer("R2", D(2026, 3, 2))) == ["ReferralRejected"]
    recorded = r.review(D(2026, 2, 25), "RE_REFERRAL")
    assert kinds(recorded) == ["ProfileReviewRecorded"]
    assert kinds(r.refer("R3", D(2026, 3, 2)))[0] == "ReferralAccepted"


def test_a_review_handled_after_the_last_day_before_the_end_tick_ends_the_cycle_first() -> None:
    r = eligible()
    r.refer("R1", D(2026, 2, 4))  # last day 3 April; no tick since
    r.today = D(2026, 4, 7)
    out = r.review(D(2026, 4, 7))
    assert kinds(out)[-3:] == ["CycleEnded", "ProfileReviewDue", "ProfileReviewRecorded"]
    assert kinds(r.refer("R2", D(2026, 4, 13)))[0] == "ReferralAccepted"


def test_a_referral_handled_after_the_last_day_before_the_end_tick_ends_the_cycle_first() -> None:
    r = eligible()
    r.refer("R1", D(2026, 2, 4))
    r.today = D(2026, 4, 7)
    out = r.refer("R2", D(2026, 4, 13))
    assert "CycleEnded" in kinds(out)
    assert only(out, "ReferralRejected").fields["reasons"] == ["NO_PROFILE_REVIEW"]


def test_a_review_dated_after_the_last_day_ends_the_cycle_though_the_clock_lags() -> None:
    r = eligible()
    r.refer("R1", D(2026, 2, 4))
    r.today = D(2026, 3, 30)  # the clock has not reached 4 April yet
    out = r.review(D(2026, 4, 7))
    assert kinds(out)[-3:] == ["CycleEnded", "ProfileReviewDue", "ProfileReviewRecorded"]
    assert only(out, "CycleEnded").fields["ended_on"] == D(2026, 4, 3)


# -- 6. exact hours ----------------------------------------------------------------------------
def test_hours_with_two_decimals_add_up_exactly() -> None:
    r = eligible()
    r.refer("R1", D(2026, 2, 4))
    r.hours("R1", D(2026, 2, 9), 0.2, "GROUP_COUNSELLING")
    r.hours("R1", D(2026, 2, 9), 8.2, "TRAINER_WORKSHOP")
    r.hours("R1", D(2026, 2, 9), 1.6, "SUPPORT_GROUP")
    r.hours("R1", D(2026, 2, 16), 0.1, "GROUP_COUNSELLING")
    r.hours("R1", D(2026, 2, 16), 0.2, "SUPPORT_GROUP")
    shortfalls = [e for e in r.day(D(2026, 2, 25)) if e.kind.value == "IntegrationHoursShortfall"]
    assert [(e.fields["week_start"], e.fields["hours_reported"]) for e in shortfalls] == [
        (D(2026, 2, 16), 0.3)
    ]


def test_hours_with_more_than_two_decimals_are_refused() -> None:
    r = eligible()
    r.refer("R1", D(2026, 2, 4))
    with pytest.raises(InvalidInput) as refused:
        r.hours("R1", D(2026, 2, 9), 1.234, "GROUP_COUNSELLING")
    assert refused.value.reason == "hours-precision"


def test_hours_stored_as_floats_before_read_as_hundredths() -> None:
    r = eligible()
    r.refer("R1", D(2026, 2, 4))
    raw = r.schedule.model_dump(mode="json")
    raw["cycles"][0].pop("hundredths", None)
    raw["cycles"][0]["hours"] = {"2026-02-09|GROUP_COUNSELLING": 8.2, "2026-02-09|OTHER": 1.8}
    stored = Schedule.model_validate(raw)
    assert stored.cycles[0].hundredths == {
        "2026-02-09|GROUP_COUNSELLING": 820,
        "2026-02-09|OTHER": 180,
    }


# -- 7. editions -------------------------------------------------------------------------------
def test_a_referral_into_another_pups_edition_is_rejected() -> None:
    other = Edition(
        "ED-2", "1261", frozenset({OPS}), D(2025, 12, 1), D(2026, 1, 1), D(2026, 12, 31)
    )
    r = eligible(editions=[EDITION, other])
    rejected = only(r.refer("R1", D(2026, 2, 4), edition="ED-2"), "ReferralRejected")
    assert rejected.fields["reasons"] == ["EDITION_OTHER_PUP"]
    assert "1261" in rejected.fields["details"][0] and PUP in rejected.fields["details"][0]


def test_a_cycle_that_would_run_past_its_editions_validity_is_rejected() -> None:
    short = Edition("ED-3", PUP, frozenset({OPS}), D(2025, 12, 1), D(2026, 1, 1), D(2026, 3, 31))
    r = eligible(editions=[EDITION, short])
    rejected = only(r.refer("R1", D(2026, 2, 4), edition="ED-3"), "ReferralRejected")
    assert rejected.fields["reasons"] == ["EDITION_OUTSIDE_VALIDITY"]
    assert "2026-04-03" in rejected.fields["details"][0]
    assert "2026-03-31" in rejected.fields["details"][0]
    assert kinds(r.refer("R2", D(2026, 1, 31), edition="ED-3"))[0] == "ReferralAccepted"


# -- 9. ids per outcome ------------------------------------------------------------------------
def test_a_rejection_and_an_acceptance_of_the_same_referral_event_have_different_ids() -> None:
    rejected = Registry().refer("R1", D(2026, 2, 4), event_id="ev-1")
    accepted = eligible().refer("R1", D(2026, 2, 4), event_id="ev-1")
    assert kinds(rejected) == ["ReferralRejected"] and kinds(accepted)[0] == "ReferralAccepted"
    assert rejected[0].event_id != accepted[0].event_id


def test_a_repeated_referral_is_recognised_from_the_schedule_after_any_number_of_events() -> None:
    r = Registry()
    r.today = D(2026, 2, 1)
    first = r.refer("R1", D(2026, 2, 4), event_id="ev-1")
    assert kinds(first) == ["ReferralRejected"]
    for _ in range(100):
        r.decision(True, D(2025, 12, 1))
    assert r.refer("R1", D(2026, 2, 4), event_id="ev-1") == []  # the same event: a repeat
    again = r.refer("R1", D(2026, 2, 4), event_id="ev-2")  # the PUP sends it anew
    assert kinds(again)[0] == "ReferralAccepted" and again[0].event_id != first[0].event_id
    for _ in range(100):
        r.decision(True, D(2025, 12, 1))
    assert r.refer("R1", D(2026, 2, 4), event_id="ev-2") == []
    with pytest.raises(InvalidInput, match="already opened"):
        r.refer("R1", D(2026, 2, 4), event_id="ev-3")


# -- 10. PSU hours -----------------------------------------------------------------------------
def test_psu_hours_over_10_in_a_week_are_reported_once() -> None:
    r = eligible()
    r.refer("R1", D(2026, 2, 4))
    assert r.psu("R1", D(2026, 2, 9), 4) == []
    assert r.psu("R1", D(2026, 2, 10), 4) == []
    assert r.psu("R1", D(2026, 2, 11), 2) == []  # exactly 10: within the limit
    [exceeded] = r.psu("R1", D(2026, 2, 15), 0.5)
    assert exceeded.kind.value == "PsuHoursExceeded" and exceeded.cycle is not None
    assert (exceeded.fields["period"], exceeded.fields["period_start"]) == ("WEEK", D(2026, 2, 9))
    assert (exceeded.fields["hours_reported"], exceeded.fields["hours_limit"]) == (10.5, 10.0)
    assert r.psu("R1", D(2026, 2, 12), 1) == []  # reported once per week


def test_psu_hours_over_40_in_a_calendar_month_are_reported() -> None:
    r = eligible(config=Config(psu_weekly_hours=24))
    r.refer("R1", D(2026, 2, 4))
    for day in (D(2026, 2, 5), D(2026, 2, 10), D(2026, 2, 17), D(2026, 2, 24)):
        assert r.psu("R1", day, 9) == []
    [exceeded] = r.psu("R1", D(2026, 2, 26), 5)
    assert (exceeded.fields["period"], exceeded.fields["period_start"]) == ("MONTH", D(2026, 2, 1))
    assert exceeded.fields["hours_reported"] == 41.0
    assert r.psu("R1", D(2026, 3, 2), 9) == []  # March counts on its own


def test_a_corrected_psu_report_replaces_the_day_and_bad_reports_are_refused() -> None:
    r = eligible()
    r.refer("R1", D(2026, 2, 4))
    assert r.psu("R1", D(2026, 2, 9), 6) == []
    assert r.psu("R1", D(2026, 2, 9), 3) == []
    assert r.psu("R1", D(2026, 2, 10), 7) == []  # 3 + 7 = 10
    for referral, day, hours, reason in [
        ("R9", D(2026, 2, 9), 1.0, "unknown-referral"),
        ("R1", D(2026, 6, 1), 1.0, "day-outside-cycle"),
        ("R1", D(2026, 2, 3), 1.0, "day-outside-cycle"),
        ("R1", D(2026, 2, 11), 25.0, "hours-out-of-range"),
        ("R1", D(2026, 2, 11), -1.0, "hours-out-of-range"),
        ("R1", D(2026, 2, 11), 1.005, "hours-precision"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            r.psu(referral, day, hours)
        assert refused.value.reason == reason
