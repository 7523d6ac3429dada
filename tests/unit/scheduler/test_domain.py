"""The scheduler's decisions for one person: referrals, cycles, the cap and every deadline."""

from __future__ import annotations

import datetime as dt

import pytest

from services.scheduler import domain
from services.scheduler.domain import Config, Edition, Kind, Rejection, Schedule

D = dt.date
CONFIG = Config()
DEC_1 = D(2025, 12, 1)
EDITION = Edition(
    "ED-1", "1465", frozenset({"1465011"}), D(2025, 12, 1), D(2026, 1, 1), D(2026, 12, 31)
)


class Person:
    def __init__(self, eligible_from: dt.date | None = DEC_1) -> None:
        self.schedule = Schedule(person_id="44051401359")
        self.edition: Edition | None = EDITION
        if eligible_from:
            domain.on_decision(self.schedule, eligible_from, True)
        self.n = 0

    def refer(
        self,
        start: dt.date,
        today: dt.date | None = None,
        edition: Edition | None = EDITION,
        ops: str = "1465011",
    ) -> list[domain.Outgoing]:
        self.n += 1
        return domain.on_referral(
            self.schedule,
            f"ev-{self.n}",
            f"REF-{self.n}",
            "ED-1",
            "1465",
            ops,
            start,
            edition,
            today or start,
            CONFIG,
        )

    def day(self, today: dt.date) -> list[domain.Outgoing]:
        return domain.on_day(self.schedule, today, CONFIG)

    def end(self, referral: str, on: dt.date, reason: str = "RESIGNATION") -> list[domain.Outgoing]:
        cycle = self.schedule.cycle(referral)
        assert cycle is not None
        return domain.on_participation_ended(self.schedule, cycle, on, reason, CONFIG)

    def review(self, on: dt.date, outcome: str = "RE_REFERRAL") -> list[domain.Outgoing]:
        return domain.on_profile_reviewed(self.schedule, on, outcome, None)


def kinds(events: list[domain.Outgoing]) -> list[str]:
    return [e.kind.value for e in events]


def test_an_accepted_referral_opens_a_cycle_and_its_deadlines_come_once_each() -> None:
    person = Person()
    accepted = person.refer(D(2026, 1, 15), today=D(2026, 1, 10))
    assert kinds(accepted) == ["ReferralAccepted"]
    fields = accepted[0].fields
    assert (fields["last_day"], fields["days_used"], fields["days_left"]) == (
        D(2026, 3, 14),
        0,
        120,
    )
    assert kinds(person.day(D(2026, 1, 14))) == []
    assert kinds(person.day(D(2026, 1, 15))) == ["CycleStarted"]
    assert kinds(person.day(D(2026, 1, 15))) == []  # a repeated tick emits nothing
    # every week had no hours reported: a shortfall 2 days after each full week
    assert kinds(person.day(D(2026, 1, 27))) == ["IntegrationHoursShortfall"]
    assert kinds(person.day(D(2026, 3, 7))) == ["IntegrationHoursShortfall"] * 5 + [
        "CycleEndingSoon"
    ]
    # the last full week (2-8 March) is checked on 10 March; the cycle ends after 14 March
    ended = person.day(D(2026, 3, 15))
    assert kinds(ended) == ["IntegrationHoursShortfall", "CycleEnded", "ProfileReviewDue"]
    assert ended[0].fields["week_start"] == D(2026, 3, 2)
    assert ended[1].fields["early"] is False and ended[1].fields["days_used"] == 60
    assert ended[2].fields["due_on"] == D(2026, 3, 23)  # 21 March is a Saturday
    assert kinds(person.day(D(2026, 3, 23))) == []
    assert kinds(person.day(D(2026, 3, 24))) == ["ProfileReviewOverdue"]
    assert kinds(person.day(D(2026, 12, 31))) == []


def test_deadline_ids_derive_from_cycle_kind_and_week() -> None:
    first, second = Person(), Person()
    for person in (first, second):
        person.refer(D(2026, 1, 15))
    a, b = first.day(D(2026, 4, 1)), second.day(D(2026, 4, 1))
    assert [e.event_id for e in a] == [e.event_id for e in b]
    assert len({e.event_id for e in a}) == len(a)


def test_reported_hours_prevent_the_shortfall_of_their_week() -> None:
    person = Person()
    person.refer(D(2026, 1, 19))
    cycle = person.schedule.cycles[0]
    domain.on_hours(cycle, D(2026, 1, 19), "GROUP_COUNSELLING", 12)
    domain.on_hours(cycle, D(2026, 1, 26), "GROUP_COUNSELLING", 9.5)
    events = person.day(D(2026, 2, 3))
    assert [
        (e.kind.value, e.fields.get("week_start"))
        for e in events
        if e.kind is Kind.INTEGRATION_HOURS_SHORTFALL
    ] == [("IntegrationHoursShortfall", D(2026, 1, 26))]
    assert events[-1].fields["hours_reported"] == 9.5


def test_a_weeks_hours_add_up_over_activities_and_a_corrected_report_replaces() -> None:
    person = Person()
    person.refer(D(2026, 1, 19))
    cycle = person.schedule.cycles[0]
    domain.on_hours(cycle, D(2026, 1, 19), "GROUP_COUNSELLING", 6)
    domain.on_hours(cycle, D(2026, 1, 19), "SUPPORT_GROUP", 3)
    domain.on_hours(cycle, D(2026, 1, 19), "SUPPORT_GROUP", 4)  # corrected: 6 + 4 = 10
    domain.on_hours(cycle, D(2026, 1, 26), "GROUP_COUNSELLING", 5)
    domain.on_hours(cycle, D(2026, 1, 26), "TRAINER_WORKSHOP", 4.5)
    shortfalls = [
        e for e in person.day(D(2026, 2, 3)) if e.kind is Kind.INTEGRATION_HOURS_SHORTFALL
    ]
    assert [(e.fields["week_start"], e.fields["hours_reported"]) for e in shortfalls] == [
        (D(2026, 1, 26), 9.5)
    ]


def test_pending_lists_what_is_still_to_come_with_its_cycle() -> None:
    person = Person()
    person.refer(D(2026, 1, 15), today=D(2026, 1, 10))
    cycle_id = person.schedule.cycles[0].cycle_id
    pending = domain.pending(person.schedule, CONFIG)
    assert pending[0] == (D(2026, 1, 15), "CycleStarted", cycle_id)
    assert (D(2026, 3, 7), "CycleEndingSoon", cycle_id) in pending
    assert (D(2026, 3, 15), "CycleEnded", cycle_id) in pending
    person.day(D(2026, 1, 15))
    assert domain.pending(person.schedule, CONFIG)[0][1] != "CycleStarted"


def test_three_cycles_one_ended_early_then_the_cap_shortens_and_then_exhausts() -> None:
    person = Person()
    person.refer(D(2026, 1, 1))
    person.day(D(2026, 3, 1))  # full: 60
    person.review(D(2026, 3, 5))
    person.refer(D(2026, 3, 10))
    ended = person.end("REF-2", D(2026, 4, 18))  # 40 days
    assert ended[0].fields["early"] is True and ended[0].fields["days_used"] == 40
    assert ended[0].fields["days_used_total"] == 100
    person.review(D(2026, 4, 20))
    third = person.refer(D(2026, 5, 4))
    assert third[0].fields["last_day"] == D(2026, 7, 3)  # 80 left: a full cycle
    end3 = person.day(D(2026, 7, 4))
    assert ended_fields(end3)["days_used_total"] == 160
    person.review(D(2026, 7, 6))
    fourth = person.refer(D(2026, 7, 13))
    assert fourth[0].kind is Kind.REFERRAL_ACCEPTED
    assert fourth[0].fields["last_day"] == D(2026, 8, 1)  # 20 left: 20 calendar days
    end4 = person.day(D(2026, 8, 2))
    assert ended_fields(end4)["days_used_total"] == 180
    assert Kind.CAP_EXHAUSTED in {e.kind for e in end4}
    person.review(D(2026, 8, 3))
    fifth = person.refer(D(2026, 9, 1))
    assert fifth[0].kind is Kind.REFERRAL_REJECTED
    assert fifth[0].fields["reasons"] == ["CAP_EXHAUSTED"]


def ended_fields(events: list[domain.Outgoing]) -> dict[str, object]:
    return next(e.fields for e in events if e.kind is Kind.CYCLE_ENDED)


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (lambda p: domain.on_decision(p.schedule, D(2026, 1, 1), False), Rejection.NOT_ELIGIBLE),
        (lambda p: setattr(p, "edition", None), Rejection.EDITION_UNKNOWN),
    ],
)
def test_rejections_by_eligibility_and_unknown_edition(setup, reason: Rejection) -> None:
    person = Person()
    setup(person)
    events = person.refer(D(2026, 1, 15), edition=person.edition)
    assert events[0].kind is Kind.REFERRAL_REJECTED
    assert events[0].fields["reasons"] == [reason.value]


def test_every_edition_reason_is_listed_together() -> None:
    bad = Edition("ED-1", "1465", frozenset({"1261011"}), None, D(2026, 6, 1), D(2026, 6, 30))
    events = Person(eligible_from=None).refer(D(2026, 1, 15), edition=bad)
    assert events[0].fields["reasons"] == [
        "NOT_ELIGIBLE",
        "EDITION_WITHOUT_COUNCIL_OPINION",
        "EDITION_OUTSIDE_VALIDITY",
        "EDITION_NOT_COVERING_OPS",
    ]


def test_an_opinion_after_the_start_does_not_count() -> None:
    late = Edition(
        "ED-1", "1465", frozenset({"1465011"}), D(2026, 2, 1), D(2026, 1, 1), D(2026, 12, 31)
    )
    events = Person().refer(D(2026, 1, 15), edition=late)
    assert events[0].fields["reasons"] == ["EDITION_WITHOUT_COUNCIL_OPINION"]


def test_an_active_cycle_and_a_missing_review_reject() -> None:
    person = Person()
    person.refer(D(2026, 1, 15))
    assert person.refer(D(2026, 2, 1))[0].fields["reasons"] == ["CYCLE_ALREADY_ACTIVE"]
    person.end("REF-1", D(2026, 2, 10))
    assert person.refer(D(2026, 2, 20))[0].fields["reasons"] == ["NO_PROFILE_REVIEW"]
    person.review(D(2026, 2, 21))
    assert person.refer(D(2026, 2, 23))[0].kind is Kind.REFERRAL_ACCEPTED


def test_a_review_is_recorded_and_tells_when_the_ops_must_agree() -> None:
    person = Person()
    person.refer(D(2026, 1, 15))
    person.end("REF-1", D(2026, 2, 10))
    [recorded] = person.review(D(2026, 2, 12), outcome="SOCIAL_COOPERATIVE")
    assert recorded.kind is Kind.PROFILE_REVIEW_RECORDED
    assert recorded.fields["ops_agreement_required"] is True
    assert "ProfileReviewOverdue" not in kinds(person.day(D(2026, 3, 1)))  # reviewed in time


def test_another_referral_during_a_cycle_is_an_exclusivity_conflict() -> None:
    person = Person()
    person.refer(D(2026, 1, 15))
    [conflict] = domain.on_other_assistance(person.schedule, "ev-x", "training", D(2026, 2, 1))
    assert conflict.kind is Kind.EXCLUSIVITY_CONFLICT and conflict.cycle is not None
    assert domain.on_other_assistance(person.schedule, "ev-y", "training", D(2026, 3, 20)) == []


def test_next_due_is_the_earliest_pending_deadline() -> None:
    person = Person()
    person.refer(D(2026, 1, 15), today=D(2026, 1, 1))
    assert domain.next_due(person.schedule, CONFIG) == D(2026, 1, 15)
    person.day(D(2026, 1, 15))
    assert domain.next_due(person.schedule, CONFIG) == D(2026, 1, 27)
    person.day(D(2026, 12, 31))
    assert domain.next_due(person.schedule, CONFIG) is None


def test_a_cycle_with_every_deadline_emitted_is_closed_and_stays_quiet() -> None:
    person = Person()
    person.refer(D(2026, 1, 5))
    person.day(D(2026, 3, 10))  # ended 4 March, review due 11 March: not yet overdue
    assert not person.schedule.cycles[0].closed
    overdue = person.day(D(2026, 3, 12))
    assert [e.kind for e in overdue] == [Kind.PROFILE_REVIEW_OVERDUE]
    assert person.schedule.cycles[0].closed
    assert person.day(D(2026, 12, 31)) == []
    assert domain.next_due(person.schedule, CONFIG) is None
    recorded = person.review(D(2026, 3, 13))  # a late review is still recorded
    assert [e.kind for e in recorded] == [Kind.PROFILE_REVIEW_RECORDED]
