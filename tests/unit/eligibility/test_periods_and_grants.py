"""Eligibility over time: several grants at once, profiles from their date, and the period
a decision's outcome holds over (issue 14, items 4 and 8)."""

from __future__ import annotations

import datetime as dt

from services.eligibility import rules
from services.eligibility.rules import RULESETS, PersonState, Reason, evaluate
from tests.unit.eligibility.test_rules import T0, Person

SEED = RULESETS["seed"]
D = dt.date


def registered_iii(on: dt.date | None = None) -> Person:
    on = on or D(2026, 1, 5)
    person = Person()
    person.event("UnemployedRegistered", registered_on=on, pup_code="1465")
    person.event("ProfileEstablished", profile="III", established_on=on, pup_code="1465")
    return person


def eligible_days(person: Person, first: dt.date, last: dt.date) -> list[dt.date]:
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    return [d for d in days if evaluate(person.state, d, SEED).eligible]


def test_a_renewal_published_before_the_running_grant_ends_keeps_every_day_covered() -> None:
    person = registered_iii()
    person.event("BenefitsGranted", granted_on=D(2026, 1, 5), valid_until=D(2026, 3, 31))
    person.event("BenefitsGranted", granted_on=D(2026, 4, 1), valid_until=D(2026, 6, 30))
    assert evaluate(person.state, D(2026, 3, 15), SEED).eligible  # the first still runs
    assert evaluate(person.state, D(2026, 3, 31), SEED).eligible
    assert evaluate(person.state, D(2026, 4, 1), SEED).eligible
    assert evaluate(person.state, D(2026, 7, 1), SEED).reasons == (Reason.NO_SOCIAL_ASSISTANCE,)


def test_a_shorter_second_grant_does_not_cut_a_longer_running_one() -> None:
    person = registered_iii()
    person.event("BenefitsGranted", granted_on=D(2026, 1, 5), valid_until=D(2026, 12, 31))
    person.event("BenefitsGranted", granted_on=D(2026, 2, 1), valid_until=D(2026, 2, 28))
    assert evaluate(person.state, D(2026, 6, 1), SEED).eligible


def test_an_end_dated_before_a_grant_began_does_not_end_that_grant() -> None:
    person = registered_iii()
    person.event("BenefitsGranted", granted_on=D(2026, 1, 5), valid_until=D(2026, 3, 31))
    person.event("BenefitsGranted", granted_on=D(2026, 4, 1), valid_until=None)
    person.event("BenefitsEnded", ended_on=D(2026, 3, 20))  # ends the first grant only
    assert evaluate(person.state, D(2026, 3, 20), SEED).eligible
    assert not evaluate(person.state, D(2026, 3, 21), SEED).eligible
    assert evaluate(person.state, D(2026, 4, 1), SEED).eligible
    assert evaluate(person.state, D(2027, 4, 1), SEED).eligible


def test_a_profile_holds_from_its_established_on() -> None:
    person = Person()
    person.event("UnemployedRegistered", registered_on=D(2026, 1, 5))
    person.event("BenefitsGranted", granted_on=D(2026, 1, 5), valid_until=None)
    person.event("ProfileEstablished", profile="II", established_on=D(2026, 1, 5))
    person.event("ProfileEstablished", profile="III", established_on=D(2026, 3, 1))
    assert evaluate(person.state, D(2026, 2, 27), SEED).reasons == (Reason.PROFILE_NOT_III,)
    assert evaluate(person.state, D(2026, 3, 1), SEED).eligible
    late = Person()
    late.event("UnemployedRegistered", registered_on=D(2026, 1, 5))
    late.event("BenefitsGranted", granted_on=D(2026, 1, 5), valid_until=None)
    late.event("ProfileEstablished", profile="III", established_on=D(2026, 2, 10))
    assert evaluate(late.state, D(2026, 2, 9), SEED).reasons == (Reason.PROFILE_NOT_ESTABLISHED,)
    assert rules.next_change(late.state, D(2026, 2, 1)) == D(2026, 2, 10)


def test_a_state_stored_before_grants_were_kept_reads_the_same() -> None:
    stored = {
        "person_id": "44051401359",
        "registered_on": "2026-01-05",
        "registration_stamp": T0.isoformat(),
        "profile": "III",
        "profile_stamp": T0.isoformat(),
        "benefits_granted_on": "2026-01-05",
        "benefits_valid_until": "2026-03-10",
        "benefits_ended_on": "2026-02-28",
        "benefits_stamp": T0.isoformat(),
    }
    state = PersonState.model_validate(stored)
    assert evaluate(state, D(2026, 1, 5), SEED).eligible  # the old profile held from always
    assert evaluate(state, D(2026, 2, 28), SEED).eligible
    assert not evaluate(state, D(2026, 3, 1), SEED).eligible
    again = PersonState.model_validate_json(state.model_dump_json())
    assert again == state


def test_the_period_starts_when_the_outcome_began_and_ends_when_dates_alone_change_it() -> None:
    person = registered_iii(D(2026, 1, 12))
    person.event("BenefitsGranted", granted_on=D(2026, 1, 12), valid_until=D(2026, 1, 25))
    period = rules.period(person.state, D(2026, 1, 20), SEED)
    assert (period.effective_from, period.changes_on) == (D(2026, 1, 12), D(2026, 1, 26))
    after = rules.period(person.state, D(2026, 2, 2), SEED)
    assert (after.effective_from, after.changes_on) == (D(2026, 1, 26), None)
    never = rules.period(PersonState(person_id="44051401359"), D(2026, 2, 2), SEED)
    assert (never.effective_from, never.changes_on) == (rules.SINCE_EVER, None)


def test_a_renewal_that_changes_only_the_period_is_a_new_decision() -> None:
    person = registered_iii()
    person.event("BenefitsGranted", granted_on=D(2026, 1, 5), valid_until=D(2026, 3, 31))
    first = rules.judge(person.state, D(2026, 3, 10), SEED)
    assert first is not None and first.outcome.eligible and first.changes_on == D(2026, 4, 1)
    assert rules.judge(person.state, D(2026, 3, 10), SEED) is None  # nothing changed
    person.event("BenefitsGranted", granted_on=D(2026, 4, 1), valid_until=None)
    renewed = rules.judge(person.state, D(2026, 3, 10), SEED)
    assert renewed is not None and renewed.outcome.eligible and renewed.changes_on is None
