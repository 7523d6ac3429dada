"""The eligibility rules: every reason, both rule sets, dates passing, order and repeats."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.eligibility.rules import (
    RULESETS,
    InvalidEvent,
    PersonState,
    Reason,
    apply,
    check_dates,
    evaluate,
    next_change,
    period,
)
from services.runtime import date_range

SEED, NO_PROFILE = RULESETS["seed"], RULESETS["no-profile"]
PESEL = "44051401359"
T0 = dt.datetime(2026, 1, 10, 8, tzinfo=dt.UTC)
JAN_5 = dt.date(2026, 1, 5)
D = dt.date


class Person:
    """Feeds events to a state, each later than the one before unless told otherwise."""

    def __init__(self) -> None:
        self.state = PersonState(person_id=PESEL)
        self.seq = 0

    def event(
        self, kind: str, at: dt.datetime | None = None, event_id: str | None = None, **fields: Any
    ) -> bool:
        self.seq += 1
        base = {
            "event_id": event_id or str(uuid.uuid4()),
            "person_id": PESEL,
            "occurred_at": at or T0 + dt.timedelta(minutes=self.seq),
        }
        return apply(self.state, kind, base | fields)

    def eligible_profile_iii(self, on: dt.date = JAN_5) -> Person:
        self.event("UnemployedRegistered", registered_on=on, pup_code="1465")
        self.event("ProfileEstablished", profile="III", established_on=on, pup_code="1465")
        self.event("BenefitsGranted", granted_on=on, valid_until=None, ops_code="1465011")
        return self

    def reasons(self, day: dt.date, ruleset=SEED) -> tuple[Reason, ...]:
        return evaluate(self.state, day, ruleset).reasons


def test_a_registered_person_with_profile_iii_on_benefits_is_eligible() -> None:
    person = Person().eligible_profile_iii()
    outcome = evaluate(person.state, D(2026, 2, 1), SEED)
    assert outcome.eligible and not outcome.priority and outcome.reasons == ()
    assert (outcome.ruleset, outcome.ruleset_version) == ("seed", 1)
    assert (person.state.pup_code, person.state.ops_code) == ("1465", "1465011")


def test_a_person_nobody_registered_gets_every_reason_at_once() -> None:
    assert Person().reasons(D(2026, 2, 1)) == (
        Reason.NOT_REGISTERED,
        Reason.PROFILE_NOT_ESTABLISHED,
        Reason.NO_SOCIAL_ASSISTANCE,
    )


def test_registration_counts_from_its_date() -> None:
    person = Person().eligible_profile_iii(on=D(2026, 2, 10))
    assert Reason.NOT_REGISTERED in person.reasons(D(2026, 2, 9))
    assert person.reasons(D(2026, 2, 10)) == ()


def test_deregistered_from_the_day_of_deregistration_and_back_on_re_registration() -> None:
    person = Person().eligible_profile_iii()
    person.event("UnemployedDeregistered", deregistered_on=D(2026, 3, 1), reason="employment")
    assert person.reasons(D(2026, 2, 28)) == ()
    assert person.reasons(D(2026, 3, 1)) == (Reason.DEREGISTERED,)
    person.event("UnemployedRegistered", registered_on=D(2026, 4, 1))
    assert person.reasons(D(2026, 4, 1)) == ()


@pytest.mark.parametrize("profile", ["I", "II"])
def test_seed_requires_profile_iii_and_no_profile_does_not(profile: str) -> None:
    person = Person().eligible_profile_iii()
    person.event("ProfileEstablished", profile=profile, established_on=D(2026, 2, 1))
    assert person.reasons(D(2026, 2, 2)) == (Reason.PROFILE_NOT_III,)
    assert evaluate(person.state, D(2026, 2, 2), NO_PROFILE).eligible


def test_no_profile_needs_no_profile_at_all_but_still_registration_and_assistance() -> None:
    person = Person()
    person.event("UnemployedRegistered", registered_on=D(2026, 1, 5))
    assert person.reasons(D(2026, 2, 1), NO_PROFILE) == (Reason.NO_SOCIAL_ASSISTANCE,)
    person.event("BenefitsGranted", granted_on=D(2026, 1, 5), valid_until=None)
    outcome = evaluate(person.state, D(2026, 2, 1), NO_PROFILE)
    assert outcome.eligible and outcome.ruleset == "no-profile"
    assert person.reasons(D(2026, 2, 1), SEED) == (Reason.PROFILE_NOT_ESTABLISHED,)


def test_a_social_contract_counts_as_assistance_and_gives_priority() -> None:
    person = Person()
    person.event("UnemployedRegistered", registered_on=D(2026, 1, 5))
    person.event("ProfileEstablished", profile="III", established_on=D(2026, 1, 5))
    person.event(
        "SocialContractSigned",
        contract_id="KS/1",
        signed_on=D(2026, 1, 20),
        valid_until=D(2026, 6, 30),
    )
    before, during = (
        evaluate(person.state, D(2026, 1, 19), SEED),
        evaluate(person.state, D(2026, 1, 20), SEED),
    )
    assert not before.eligible and not before.priority
    assert during.eligible and during.priority
    person.event("SocialContractEnded", contract_id="KS/1", ended_on=D(2026, 3, 31))
    assert evaluate(person.state, D(2026, 3, 31), SEED).priority
    after = evaluate(person.state, D(2026, 4, 1), SEED)
    assert (
        not after.eligible
        and not after.priority
        and after.reasons == (Reason.NO_SOCIAL_ASSISTANCE,)
    )


def test_benefits_stop_counting_the_day_after_valid_until_or_ended_on() -> None:
    person = Person()
    person.event("UnemployedRegistered", registered_on=D(2026, 1, 5))
    person.event("ProfileEstablished", profile="III", established_on=D(2026, 1, 5))
    person.event("BenefitsGranted", granted_on=D(2026, 1, 5), valid_until=D(2026, 3, 10))
    assert person.reasons(D(2026, 3, 10)) == ()
    assert person.reasons(D(2026, 3, 11)) == (Reason.NO_SOCIAL_ASSISTANCE,)
    person.event("BenefitsGranted", granted_on=D(2026, 3, 11), valid_until=None)
    person.event("BenefitsEnded", ended_on=D(2026, 5, 31))
    assert person.reasons(D(2026, 5, 31)) == ()
    assert person.reasons(D(2026, 6, 1)) == (Reason.NO_SOCIAL_ASSISTANCE,)


def test_next_change_is_the_first_date_the_outcome_may_change_without_an_event() -> None:
    person = Person()
    person.event("UnemployedRegistered", registered_on=D(2026, 1, 5))
    person.event("BenefitsGranted", granted_on=D(2026, 1, 5), valid_until=D(2026, 3, 10))
    person.event(
        "SocialContractSigned",
        contract_id="KS/1",
        signed_on=D(2026, 2, 1),
        valid_until=D(2026, 2, 28),
    )
    assert next_change(person.state, D(2026, 1, 10)) == D(2026, 2, 1)
    assert next_change(person.state, D(2026, 2, 1)) == D(2026, 3, 1)
    assert next_change(person.state, D(2026, 3, 1)) == D(2026, 3, 11)
    assert next_change(person.state, D(2026, 3, 11)) is None


def test_an_older_event_does_not_roll_the_state_back() -> None:
    person = Person().eligible_profile_iii()
    late = T0 + dt.timedelta(days=1)
    assert person.event("ProfileEstablished", at=late, profile="II", established_on=D(2026, 1, 6))
    # an event from before that, arriving now, does not roll the profile back from 6
    # January (it still says what held on 5 January: a profile holds from its date)
    person.event("ProfileEstablished", at=T0, profile="III", established_on=D(2026, 1, 5))
    assert person.state.profile == "II"
    assert person.reasons(D(2026, 1, 6)) == (Reason.PROFILE_NOT_III,)
    assert person.reasons(D(2026, 2, 1)) == (Reason.PROFILE_NOT_III,)
    assert not person.event(  # one from before that, for 6 January or later: ignored
        "ProfileEstablished", at=T0, profile="III", established_on=D(2026, 1, 7)
    )
    assert not person.event(
        "UnemployedDeregistered", at=T0, deregistered_on=D(2026, 1, 7), reason="x"
    )
    assert person.state.deregistered_on is None
    assert not person.event("BenefitsEnded", at=T0 - dt.timedelta(days=1), ended_on=D(2026, 1, 6))
    assert person.state.benefits_ended_on is None


def test_a_contract_end_seen_before_its_signature_keeps_it_ended() -> None:
    person = Person()
    person.event(
        "SocialContractEnded",
        at=T0 + dt.timedelta(hours=2),
        contract_id="KS/9",
        ended_on=D(2026, 2, 1),
    )
    assert not person.event(
        "SocialContractSigned",
        at=T0,
        contract_id="KS/9",
        signed_on=D(2026, 1, 1),
        valid_until=D(2026, 12, 31),
    )
    assert not evaluate(person.state, D(2026, 3, 1), NO_PROFILE).priority


def test_a_repeated_event_id_changes_nothing() -> None:
    person = Person()
    assert person.event("UnemployedRegistered", event_id="e-1", registered_on=D(2026, 1, 5))
    before = person.state.model_copy(deep=True)
    assert not person.event("UnemployedRegistered", event_id="e-1", registered_on=D(2026, 9, 9))
    assert person.state == before


def test_only_recent_event_ids_are_kept() -> None:
    person = Person()
    for n in range(200):
        person.event("BenefitsEnded", event_id=f"e-{n}", ended_on=D(2026, 1, 1))
    assert len(person.state.seen_event_ids) == 64
    assert person.state.seen_event_ids[-1] == "e-199"


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("BenefitsGranted", {"granted_on": D(2026, 3, 1), "valid_until": D(2026, 2, 28)}),
        ("SocialContractSigned", {"signed_on": D(2026, 3, 1), "valid_until": D(2026, 1, 1)}),
    ],
)
def test_an_end_before_its_start_is_impossible(kind: str, fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidEvent) as caught:
        check_dates(kind, fields)
    assert caught.value.reason == "impossible-dates"


def test_possible_dates_pass() -> None:
    check_dates("BenefitsGranted", {"granted_on": D(2026, 3, 1), "valid_until": None})
    check_dates("BenefitsGranted", {"granted_on": D(2026, 3, 1), "valid_until": D(2026, 3, 1)})


@pytest.mark.parametrize("day", [D(9999, 12, 31), D(1, 1, 1), D(3000, 1, 1), D(1899, 12, 31)])
def test_a_date_past_the_range_is_refused_naming_the_field(day: dt.date) -> None:
    with pytest.raises(InvalidEvent) as caught:
        check_dates("BenefitsGranted", {"granted_on": D(1900, 1, 1), "valid_until": day})
    assert (caught.value.reason, caught.value.field) == ("date-out-of-range", "valid_until")


@given(
    on=st.dates(date_range.FIRST_DAY, date_range.LAST_DAY),
    until=st.none() | st.dates(date_range.FIRST_DAY, date_range.LAST_DAY),
    day=st.dates(date_range.FIRST_DAY, date_range.LAST_DAY),
)
def test_every_date_in_the_range_is_decided_without_overflow(
    on: dt.date, until: dt.date | None, day: dt.date
) -> None:
    """The range check is enough: the rules' date arithmetic stays within Python's dates."""
    fields: dict[str, Any] = {"granted_on": on, "valid_until": until}
    try:
        check_dates("BenefitsGranted", fields)
    except InvalidEvent:
        return  # an end before its start: refused before the rules see it
    person = Person().eligible_profile_iii(on)
    person.event("BenefitsGranted", ops_code="1465011", **fields)
    evaluate(person.state, day, SEED)
    next_change(person.state, day)
    period(person.state, day, SEED)


def test_a_future_occurred_at_counts_as_the_instant_it_is_handled() -> None:
    """The reviewer's case: a careless producer stamps a registration 2999 (within the
    range); the real deregistration, sent later with a real occurred_at, still ends it,
    and the person's data does not live until 3009."""
    from services.personal_data.retention import eligibility_last_event, expired

    state = PersonState(person_id=PESEL)
    today = D(2026, 12, 2)
    handled = dt.datetime.combine(today, dt.time(9), dt.UTC)

    def event(kind: str, at: dt.datetime, **fields: Any) -> bool:
        body = {"event_id": str(uuid.uuid4()), "occurred_at": at, "person_id": PESEL, **fields}
        check_dates(kind, body)  # what eligibility applies before dead-lettering
        return apply(state, kind, body, handled)

    far = dt.datetime(2999, 1, 1, tzinfo=dt.UTC)
    assert event("UnemployedRegistered", far, pup_code="1465", registered_on=JAN_5)
    assert state.registration_stamp == handled
    real = handled = dt.datetime.combine(today, dt.time(12), dt.UTC)  # handled as it happens
    assert event(
        "UnemployedDeregistered", real, pup_code="1465", deregistered_on=today, reason="OTHER"
    )
    assert state.deregistered_on == today
    last = eligibility_last_event(state)
    assert last is not None and last <= today
    assert expired(last, D(2037, 1, 1), 10)
    late = PersonState(person_id=PESEL)  # no clock has ticked: the stamp as it is
    apply(
        late, "UnemployedRegistered", {"event_id": "e", "occurred_at": far, "registered_on": JAN_5}
    )
    assert late.registration_stamp == far


_INSTANTS = st.datetimes(
    min_value=dt.datetime(1900, 1, 2),
    max_value=dt.datetime(2999, 12, 30),
    timezones=st.just(dt.UTC),
)


@given(stamps=st.lists(st.tuples(_INSTANTS, _INSTANTS), min_size=1, max_size=6))
def test_no_stamp_eligibility_keeps_is_later_than_the_instant_it_was_handled(
    stamps: list[tuple[dt.datetime, dt.datetime]],
) -> None:
    """Whatever occurred_at a producer writes, no instant eligibility keeps for the person
    (what its ordering and retention count from) is later than the last instant an event
    of theirs was handled. (Retention itself may count further, to the end of what is in
    force: an open registration keeps the person whatever the stamps say.)"""
    from services.personal_data.retention import eligibility_stamps

    state = PersonState(person_id=PESEL)
    kinds: list[tuple[str, dict[str, Any]]] = [
        ("UnemployedRegistered", {"registered_on": JAN_5, "pup_code": "1465"}),
        ("ProfileEstablished", {"profile": "III", "established_on": JAN_5, "pup_code": "1465"}),
        ("BenefitsGranted", {"granted_on": JAN_5, "valid_until": None, "ops_code": "1465011"}),
        ("BenefitsEnded", {"ended_on": JAN_5, "ops_code": "1465011"}),
    ]
    for n, (occurred_at, now) in enumerate(stamps):
        kind, fields = kinds[n % len(kinds)]
        body = {"event_id": str(n), "occurred_at": occurred_at, "person_id": PESEL, **fields}
        apply(state, kind, body, now)
    kept = eligibility_stamps(state)
    assert kept and max(kept) <= max(now for _, now in stamps)
