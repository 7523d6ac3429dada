"""Retention of the scheduler's schedules (issue 20, review M2): whatever inputs a person
has, once ``PAI_PERSON_RETENTION_YEARS`` have passed since the last of them, the sweep
removes the person; before that, never. A stateful machine sends every kind of input
(decisions, accepted and rejected referrals, ends, reviews, other-assistance referrals,
integration and PSU hours, repeats, backdated ones) and the sweep is run, as the worker
runs it, over the stored value. "The last of them": the latest ``occurred_at`` of the
inputs taken, or a later day the schedule names (a cycle's last day, a review, the start
of a decision), whichever is later. Also: a value stored before schedules kept their last
input (the migration), and the day a sweep counts to when the topic clock is ahead of the
wall clock or behind it (review L5).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from services.eligibility import rules
from services.eligibility.rules import PersonState
from services.personal_data.retention import eligibility_last_event, schedule_last_event
from services.personal_data.retention_sweep import RetentionSweep
from services.scheduler import stored
from services.scheduler.domain import Schedule
from services.scheduler.handling import InvalidInput
from tests.unit.scheduler.registry import OPS, PESEL, Registry

D = dt.date
DAY = dt.timedelta(days=1)
KEY = PESEL.encode()
PARTITIONS = 4
LATE = st.one_of(st.just(0), st.integers(1, 40), st.integers(3000, 4500), st.integers(-400, -1))
"""How many days before the day it is handled an input says it occurred (a late clerk;
below 0: a careless producer's date in the future, which counts as the day handled)."""


class Table(dict[bytes, bytes]):
    name = "schedules"


def anniversary(day: dt.date, years: int) -> dt.date:
    """``day`` ``years`` on (29 February → 28 February), written again for the test."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def sweep_of(table: Table, years: int) -> RetentionSweep:
    """The scheduler's sweep of ``table`` (every partition owned)."""
    return RetentionSweep(
        table,
        asyncio.Lock(),
        lambda: frozenset(range(PARTITIONS)),
        PARTITIONS,
        lambda raw: schedule_last_event(stored.unpack(raw)),
        years,
        lambda key: None,
        stored.dated,
    )


def swept(value: bytes, today: dt.date, years: int) -> Table:
    """The table holding ``value`` after the scheduler's sweep of ``today``."""
    table = Table({KEY: value})
    asyncio.run(sweep_of(table, years).sweep(today))
    return table


def last_named_day(schedule: Schedule) -> dt.date | None:
    """The latest day the schedule names: an end never passes a cycle's last day."""
    days = [p.effective_from for p in schedule.eligibility]
    days += [c.last_day for c in schedule.cycles]
    days += [r.reviewed_on for c in schedule.cycles for r in c.reviews]
    days += [c.review_due_on for c in schedule.cycles if c.review_due_on is not None]
    return max(days, default=None)


def last_eligible_day(schedule: Schedule) -> dt.date | None:
    """The last day the schedule holds the person eligible, found day by day backwards
    from the latest day a decision names; None if no day is eligible."""
    named = [p.effective_from for p in schedule.eligibility]
    named += [p.changes_on for p in schedule.eligibility if p.changes_on is not None]
    if not named:
        return None
    day, first = max(named), min(named)
    while day >= first - DAY:
        if schedule.eligible_on(day):
            return day
        day -= DAY
    return None


class RetentionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.registry = Registry()
        self.last_input: dt.date | None = None
        self.sent: list[str] = []

    def _send(self, kind: str, late: int, event_id: str | None = None, **fields: object) -> None:
        registry = self.registry
        occurred_at = dt.datetime.combine(registry.today, dt.time(10), dt.UTC) - DAY * late
        event_id = event_id or f"ev-{len(self.sent)}"
        repeat = event_id in self.sent
        try:
            registry.send(kind, event_id=event_id, occurred_at=occurred_at, **fields)
        except InvalidInput:
            return  # dead-lettered: not in the person's state
        self.sent.append(event_id)
        if not repeat:
            day = min(occurred_at.date(), registry.today)
            self.last_input = max(day, self.last_input or day)

    @rule(days=st.one_of(st.integers(0, 10), st.integers(50, 400)))
    def tick(self, days: int) -> None:
        self.registry.day(self.registry.today + DAY * days)  # deadlines: no input

    @rule(
        eligible=st.booleans(),
        start=st.integers(-60, 30),
        length=st.one_of(st.none(), st.integers(1, 120)),
        late=LATE,
    )
    def decision(self, eligible: bool, start: int, length: int | None, late: int) -> None:
        begins = self.registry.today + DAY * start
        self._send(
            "EligibilityDecision",
            late,
            decided_on=self.registry.today,
            eligible=eligible,
            effective_from=begins,
            changes_on=begins + DAY * length if length else None,
        )

    @rule(start=st.integers(-15, 30), edition=st.sampled_from(["ED-1", "NO-SUCH"]), late=LATE)
    def refer(self, start: int, edition: str, late: int) -> None:
        self._send(
            "ReferredToProgram",
            late,
            referral_id=f"R-{len(self.sent)}",
            edition_id=edition,
            ops_code=OPS,
            start_on=self.registry.today + DAY * start,
        )

    @precondition(lambda self: self.registry.schedule.cycles)
    @rule(data=st.data(), offset=st.integers(0, 75), late=LATE)
    def end(self, data: st.DataObject, offset: int, late: int) -> None:
        cycle = data.draw(st.sampled_from(self.registry.schedule.cycles))
        self._send(
            "ParticipationEnded",
            late,
            referral_id=cycle.referral_id,
            ended_on=cycle.start_on + DAY * offset,
            reason="EMPLOYMENT",
        )

    @rule(
        offset=st.integers(-10, 10),
        outcome=st.sampled_from(["RE_REFERRAL", "PROFILE_CHANGED"]),
        late=LATE,
    )
    def review(self, offset: int, outcome: str, late: int) -> None:
        profile = "III" if outcome == "PROFILE_CHANGED" else None
        on = self.registry.today + DAY * offset
        self._send("ProfileReviewed", late, reviewed_on=on, outcome=outcome, new_profile=profile)

    @rule(offset=st.integers(-30, 5), late=LATE)
    def other_assistance(self, offset: int, late: int) -> None:
        on = self.registry.today + DAY * offset
        self._send("OtherAssistanceReferral", late, instrument="training", referred_on=on)

    @precondition(lambda self: self.registry.schedule.cycles)
    @rule(data=st.data(), week=st.integers(0, 9), cents=st.integers(0, 1500), late=LATE)
    def hours(self, data: st.DataObject, week: int, cents: int, late: int) -> None:
        cycle = data.draw(st.sampled_from(self.registry.schedule.cycles))
        monday = cycle.start_on - DAY * cycle.start_on.weekday() + DAY * 7 * week
        self._send(
            "IntegrationHoursReported",
            late,
            ops_code=OPS,
            referral_id=cycle.referral_id,
            week_start=monday,
            hours=cents / 100,
            activity="GROUP_COUNSELLING",
        )

    @precondition(lambda self: self.registry.schedule.cycles)
    @rule(data=st.data(), day=st.integers(0, 65), cents=st.integers(0, 800), late=LATE)
    def psu(self, data: st.DataObject, day: int, cents: int, late: int) -> None:
        cycle = data.draw(st.sampled_from(self.registry.schedule.cycles))
        self._send(
            "PsuHoursReported",
            late,
            referral_id=cycle.referral_id,
            worked_on=cycle.start_on + DAY * day,
            hours=cents / 100,
        )

    @precondition(lambda self: self.sent)
    @rule(data=st.data(), days_later=st.integers(0, 5000))
    def repeat(self, data: st.DataObject, days_later: int) -> None:
        """An input taken before comes again, saying it occurred later: it changes nothing."""
        event_id = data.draw(st.sampled_from(self.sent))
        self.registry.today += DAY * days_later
        self._send(
            "OtherAssistanceReferral", 0, event_id, instrument="x", referred_on=D(2026, 1, 1)
        )

    def teardown(self) -> None:
        schedule = self.registry.schedule
        if self.last_input is None:  # every input refused: the worker stores nothing
            assert not schedule.seen_event_ids
            return
        value = stored.pack(schedule, None)
        if schedule.eligible_on(self.registry.today + DAY * 365 * 300):  # open-ended
            for years in (1, 10):
                assert swept(value, D(2900, 1, 1), years) == {KEY: value}, "eligible, removed"
            return
        days = [last_named_day(schedule), last_eligible_day(schedule), self.last_input]
        last = max(d for d in days if d is not None)
        for years in (1, 10):
            due = anniversary(last, years)
            assert swept(value, due, years) == {KEY: value}, ("removed early", last, years)
            assert swept(value, due + DAY, years) == {}, ("kept past retention", last, years)


RetentionMachine.TestCase.settings = settings(
    max_examples=max(60, settings().max_examples // 5), stateful_step_count=30
)
TestRetention = RetentionMachine.TestCase


def test_a_person_with_only_rejected_referrals_is_removed_after_retention() -> None:
    registry = Registry()  # no eligibility decision: every referral is rejected
    registry.today = D(2026, 5, 4)
    for n in range(3):
        registry.send(
            "ReferredToProgram",
            occurred_at=dt.datetime(2026, 5, 2 + n, 9, tzinfo=dt.UTC),
            referral_id=f"R-{n}",
            edition_id="ED-1",
            ops_code=OPS,
            start_on=D(2026, 5, 11),
        )
    assert len(registry.schedule.rejected) == 3 and not registry.schedule.cycles
    # a careless producer's far-future occurred_at counts from the day it is handled
    registry.send(
        "OtherAssistanceReferral",
        occurred_at=dt.datetime(2999, 1, 1, tzinfo=dt.UTC),
        instrument="x",
        referred_on=D(2026, 5, 4),
    )
    value = stored.pack(registry.schedule, None)
    assert swept(value, D(2036, 5, 4), 10) == {KEY: value}
    assert swept(value, D(2036, 5, 5), 10) == {}


def test_a_value_stored_before_the_last_input_was_kept_counts_from_the_first_sweep() -> None:
    """Nothing an old value holds dates its inputs (rejected referrals keep no date): the
    sweep dates it on the day it first meets it and removes it a retention later."""
    registry = Registry()
    registry.refer("R-1", D(2016, 5, 11))  # rejected, in 2016
    old = orjson.loads(stored.pack(registry.schedule, None)[11:])
    del old["last_event_at"]
    value = stored.NOTHING_DUE + b"\n" + orjson.dumps(old)
    first = swept(value, D(2030, 1, 1), 10)
    assert stored.unpack(first[KEY]).last_event_at == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert first[KEY][:11] == value[:11], "the due prefix is kept"
    assert swept(first[KEY], D(2040, 1, 1), 10) == first
    assert swept(first[KEY], D(2040, 1, 2), 10) == {}
    # an input backdated to 2017 on such a value counts from the day it is handled
    schedule = stored.unpack(value)
    registry.schedule, registry.today = schedule, D(2031, 3, 3)
    registry.send(
        "OtherAssistanceReferral",
        occurred_at=dt.datetime(2017, 1, 1, tzinfo=dt.UTC),
        instrument="x",
        referred_on=D(2017, 1, 1),
    )
    assert schedule.last_event_at == dt.datetime(2031, 3, 3, tzinfo=dt.UTC)


def at_noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), dt.UTC)


def test_a_far_future_tick_removes_only_who_is_past_retention_by_the_wall_clock_too(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Review L5: the topic clock keeps the greatest tick; one in 2400 must not make every
    person look expired. The sweep counts to the wall clock's day when the clock is ahead."""
    values = {}
    for n, last in enumerate((D(2015, 6, 1), D(2024, 6, 1))):
        registry = Registry()
        registry.send(
            "OtherAssistanceReferral", occurred_at=at_noon(last), instrument="x", referred_on=last
        )
        values[f"{n:011d}".encode()] = stored.pack(registry.schedule, None)
    table = Table(values)
    sweep = sweep_of(table, 10)
    wall = at_noon(D(2026, 12, 2))
    with caplog.at_level(logging.WARNING):
        for _ in range(3):  # checked every few seconds: held back, and said once
            asyncio.run(sweep.sweep_at(at_noon(D(2400, 1, 1)), wall))
    assert list(table) == [b"00000000001"], "only the person past retention by both clocks"
    held_back = [r for r in caplog.records if "ahead of the wall clock" in r.getMessage()]
    assert len(held_back) == 1 and "2400-01-01" in held_back[0].getMessage()


def test_a_future_occurred_at_counts_as_the_day_a_sweep_counts_to_not_the_clocks() -> None:
    """Review finding 6: with the topic clock typed 2126 for 2026 and the wall clock in
    2036, an ``occurred_at`` in 2999 counts as the wall clock's day, 2036-06-01, as the
    sweep counts (not as the clock's 2126, which would keep the person until 2136)."""
    registry = Registry()
    registry.today, registry.wall = D(2126, 1, 5), D(2036, 6, 1)
    registry.send(
        "OtherAssistanceReferral",
        occurred_at=dt.datetime(2999, 1, 1, tzinfo=dt.UTC),
        instrument="training",
        referred_on=D(2026, 1, 5),
    )
    assert registry.schedule.last_event_at is not None
    assert registry.schedule.last_event_at.date() == D(2036, 6, 1)
    table = Table({KEY: stored.pack(registry.schedule, None)})
    sweep, clock = sweep_of(table, 10), at_noon(D(2126, 1, 5))
    asyncio.run(sweep.sweep_at(clock, at_noon(D(2046, 6, 1))))
    assert KEY in table
    asyncio.run(sweep.sweep_at(clock, at_noon(D(2046, 6, 2))))
    assert KEY not in table


def test_a_clock_behind_the_wall_clock_counts_by_its_own_day() -> None:
    """A replay of past years keeps what it replays until its own clock says otherwise."""
    registry = Registry()
    last = D(2021, 1, 1)
    registry.send(
        "OtherAssistanceReferral", occurred_at=at_noon(last), instrument="x", referred_on=last
    )
    table = Table({KEY: stored.pack(registry.schedule, None)})
    sweep, wall = sweep_of(table, 10), at_noon(D(2050, 1, 1))
    asyncio.run(sweep.sweep_at(at_noon(D(2031, 1, 1)), wall))
    assert KEY in table
    asyncio.run(sweep.sweep_at(at_noon(D(2031, 1, 2)), wall))
    assert KEY not in table


# -- a situation in force (review finding 3) ------------------------------------------------

SWEEP_DAY = D(2026, 12, 2)


def test_an_open_ended_eligible_decision_keeps_the_person() -> None:
    """The reviewer's repro: an open-ended eligible decision of 2014 still holds in 2026; the
    sweep must not remove the person (a referral of 2026-12-07 would then be refused)."""
    registry = Registry()
    registry.today = D(2014, 3, 10)

    def decided(eligible: bool, effective_from: dt.date) -> None:
        registry.send(
            "EligibilityDecision",
            occurred_at=at_noon(registry.today),
            decided_on=registry.today,
            eligible=eligible,
            effective_from=effective_from,
            changes_on=None,
        )

    decided(True, D(2014, 3, 3))
    value = stored.pack(registry.schedule, None)
    assert swept(value, SWEEP_DAY, 10) == {KEY: value}
    assert swept(value, D(2400, 1, 1), 10) == {KEY: value}, "open-ended: never expires"
    # an ineligible decision from 2015-06-01 ends it: retention counts from that decision's
    # start (the day after the last eligible day, 2015-05-31)
    decided(False, D(2015, 6, 1))
    value = stored.pack(registry.schedule, None)
    assert swept(value, D(2025, 6, 1), 10) == {KEY: value}
    assert swept(value, D(2025, 6, 2), 10) == {}


def eligibility_sweep(state: PersonState, today: dt.date, years: int) -> bool:
    """Whether eligibility's sweep of ``today`` keeps ``state``."""
    table = Table({KEY: state.model_dump_json().encode()})
    sweep = RetentionSweep(
        table,
        asyncio.Lock(),
        lambda: frozenset(range(PARTITIONS)),
        PARTITIONS,
        lambda raw: eligibility_last_event(PersonState.model_validate_json(raw)),
        years,
        lambda key: None,
    )
    asyncio.run(sweep.sweep(today))
    return KEY in table


Event = tuple[str, dt.datetime, dict[str, object]]


def person(*events: Event) -> PersonState:
    """The state eligibility keeps after ``events`` (each checked as the worker checks it)."""
    return kept(*events)[0]


def kept(*events: Event) -> tuple[PersonState, list[dt.date]]:
    """The state after ``events`` and the UTC days of those it kept (not refused, not stale;
    a benefits end is kept even when it ends no grant known yet)."""
    state, days = PersonState(person_id=PESEL), []
    for n, (kind, at, fields) in enumerate(events):
        fields = {"event_id": f"e{n}", "occurred_at": at, "person_id": PESEL} | fields
        try:
            rules.check_dates(kind, fields)
        except rules.InvalidEvent:
            continue  # dead-lettered
        if rules.apply(state, kind, fields) or kind == "BenefitsEnded":
            days.append(at.date())
    return state, days


def test_a_social_contract_in_force_keeps_the_person() -> None:
    """The reviewer's repro: registered in 2014, profile III, a social contract valid until
    2030: eligible and a priority on 2026-12-02, so the sweep of that day keeps them."""
    t = dt.datetime(2014, 3, 3, 9, tzinfo=dt.UTC)
    state = person(
        ("UnemployedRegistered", t, {"registered_on": D(2014, 3, 3)}),
        ("ProfileEstablished", t, {"profile": "III", "established_on": D(2014, 3, 3)}),
        (
            "SocialContractSigned",
            t,
            {"contract_id": "K1", "signed_on": D(2014, 3, 3), "valid_until": D(2030, 12, 31)},
        ),
    )
    assert rules.evaluate(state, SWEEP_DAY, rules.RULESETS["seed"]).priority
    assert eligibility_sweep(state, SWEEP_DAY, 10)
    # deregistered on 2015-01-31: the contract's last day (2030-12-31) is what counts
    end = dt.datetime(2015, 1, 31, 9, tzinfo=dt.UTC)
    state = person(
        ("UnemployedDeregistered", end, {"deregistered_on": D(2015, 1, 31)}),
        (
            "SocialContractSigned",
            t,
            {"contract_id": "K1", "signed_on": D(2014, 3, 3), "valid_until": D(2030, 12, 31)},
        ),
    )
    assert eligibility_sweep(state, D(2040, 12, 31), 10)
    assert not eligibility_sweep(state, D(2041, 1, 1), 10)


BASE = D(2014, 1, 1)
offsets = st.integers(0, 6000)


@st.composite
def situations(draw: st.DrawFn) -> list[Event]:
    """Any events of one person: registrations, deregistrations, grants (open-ended or
    not), benefit ends, contracts and their ends, profiles; stamped in any order, their
    dates anywhere (also ends before starts, refused as the worker refuses them)."""
    kinds: dict[str, Callable[[], dict[str, object]]] = {
        "UnemployedRegistered": lambda: {"registered_on": BASE + DAY * draw(offsets)},
        "UnemployedDeregistered": lambda: {"deregistered_on": BASE + DAY * draw(offsets)},
        "BenefitsGranted": lambda: {
            "granted_on": BASE + DAY * draw(offsets),
            "valid_until": draw(st.none() | offsets.map(lambda n: BASE + DAY * n)),
        },
        "BenefitsEnded": lambda: {"ended_on": BASE + DAY * draw(offsets)},
        "SocialContractSigned": lambda: {
            "contract_id": draw(st.sampled_from(["K1", "K2"])),
            "signed_on": BASE + DAY * draw(offsets),
            "valid_until": BASE + DAY * draw(offsets),
        },
        "SocialContractEnded": lambda: {
            "contract_id": draw(st.sampled_from(["K1", "K2"])),
            "ended_on": BASE + DAY * draw(offsets),
        },
        "ProfileEstablished": lambda: {"profile": "III", "established_on": BASE},
    }
    events: list[Event] = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(sorted(kinds)))
        at = dt.datetime.combine(BASE + DAY * draw(offsets), dt.time(9), dt.UTC)
        events.append((kind, at, kinds[kind]()))
    return events


def covered(state: PersonState, day: dt.date) -> bool:
    """Whether a grant or a contract holds the person on ``day`` (the rules' own reading)."""
    return rules.receives_benefits(state, day) or rules.carries_out_contract(state, day)


@given(events=situations(), years=st.sampled_from([1, 10]))
def test_a_person_is_kept_while_anything_is_in_force_and_removed_a_retention_after(
    events: list[Event], years: int
) -> None:
    """Whatever the events: a person with a registration, grant or contract in force on
    the sweep's day (or one with no end) is kept; once all have ended, they are removed a
    retention after the later of the last end and the last event kept, not a day before."""
    state, taken = kept(*events)
    if not taken:
        return  # every event refused or stale: nothing dated
    far = D(2900, 1, 1)
    if (state.registered_on is not None and state.deregistered_on is None) or covered(state, far):
        for day in (SWEEP_DAY, far):  # open-ended: kept whatever the day
            assert eligibility_sweep(state, day, years)
        return
    days = {d for _, _, fields in events for d in fields.values() if isinstance(d, dt.date)}
    ends = [d for d in days if covered(state, d)]  # a grant or contract ends on a day named
    if state.deregistered_on is not None:
        ends.append(state.deregistered_on)
    last = max([*ends, *taken])
    due = anniversary(last, years)
    assert eligibility_sweep(state, due, years), ("removed while in force or early", last)
    assert not eligibility_sweep(state, due + DAY, years), ("kept past retention", last)
