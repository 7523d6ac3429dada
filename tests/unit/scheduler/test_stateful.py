"""A stateful property test of one person's schedule (issue 14, item 11).

Hypothesis drives referrals (into good, short and other PUPs' editions), early,
late and future ends, reviews of every outcome, other-assistance referrals,
integration and PSU hours, eligibility decisions, clock ticks, and crashes that
replay every input since the last stored state. After every step it checks,
against a model written here independently of the scheduler's code:

- days charged under the cap equal an independent day count, and never pass 180;
- no two cycles of the person overlap;
- each deadline comes at most once per cycle, and a replay repeats the ids (and
  bodies) it emitted the first time, never new ones;
- an accepted cycle lies within its edition, of the referral's PUP;
- eligibility on every day equals a reference evaluation of the decisions sent.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import itertools
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from services.scheduler import stored
from services.scheduler.domain import Edition, Outgoing
from services.scheduler.handling import InvalidInput
from tests.unit.scheduler.registry import EDITION, OPS, PUP, Registry

D = dt.date
DAY = dt.timedelta(days=1)
SHORT = Edition("ED-S", PUP, frozenset({OPS}), D(2025, 12, 1), D(2026, 1, 1), D(2026, 6, 30))
OTHER = Edition("ED-O", "1261", frozenset({OPS}), D(2025, 12, 1), D(2026, 1, 1), D(2027, 12, 31))
EDITIONS = {e.edition_id: e for e in (EDITION, SHORT, OTHER)}
WINDOW = [D(2025, 12, 1) + DAY * n for n in range(0, 800, 3)]
ONCE = {"CycleStarted", "CycleEndingSoon", "ProfileReviewOverdue", "CapExhausted"}
OUTCOMES = ["RE_REFERRAL", "SUPPORTED_EMPLOYMENT", "SOCIAL_COOPERATIVE", "PROFILE_CHANGED"]


def two_months_later_minus_one(start: dt.date) -> dt.date:
    """Art. 112 KC, written again: the day before the same date two months on, or the
    last day of that month when it has no such date."""
    month = start.month + 2
    year = start.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    last = _calendar.monthrange(year, month)[1]
    if start.day > last:
        return D(year, month, last)
    return D(year, month, start.day) - DAY


def body(event: Outgoing) -> tuple[str, str, tuple[tuple[str, Any], ...]]:
    return event.event_id, event.kind.value, tuple(sorted(event.fields.items()))


class ScheduleMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.registry = Registry(editions=list(EDITIONS.values()))
        self.registry.today = D(2026, 4, 1)
        self.decisions: list[tuple[dt.date, dt.date | None, bool]] = []
        self.registry.decision(True, D(2025, 12, 1))  # eligible until a decision says not
        self.decisions.append((D(2025, 12, 1), None, True))
        self.allotted: dict[str, int] = {}
        self.fired: dict[tuple[str, str], str] = {}
        self.ids: set[str] = set()
        self.saved = stored.pack(self.registry.schedule, None)
        self.journal: list[tuple[dt.date, Any, list[Any] | None]] = []
        self.n = 0

    # -- inputs ----------------------------------------------------------------------------
    def _do(self, action: Any) -> None:
        """Run one input on today's date; remember it and what it emitted for a replay."""
        today = self.registry.today
        before = self.registry.schedule.model_dump()
        try:
            out = action()
        except InvalidInput:
            out = None
            assert self.registry.schedule.model_dump() == before, "a refusal changed the schedule"
        self.journal.append((today, action, [body(e) for e in out] if out is not None else None))
        for event in out or []:
            self._record(event)

    def _record(self, event: Outgoing) -> None:
        assert event.event_id not in self.ids, f"{event.kind.value} emitted a second time"
        self.ids.add(event.event_id)
        kind = event.kind.value
        if event.cycle is not None:
            week = event.fields.get("week_start")
            key = f"{kind}:{week}" if week else kind
            if kind in ONCE or week or (kind == "CycleEnded" and not event.fields["corrected"]):
                assert (event.cycle.cycle_id, key) not in self.fired, f"{key} twice"
                self.fired[(event.cycle.cycle_id, key)] = event.event_id
        if kind == "ReferralAccepted" and event.cycle is not None:
            self.allotted[event.cycle.referral_id] = min(60, 180 - event.fields["days_used"])

    def _event_id(self) -> str:
        self.n += 1
        return f"ev-{self.n}"

    @rule(days=st.one_of(st.integers(0, 10), st.integers(50, 70)))
    def tick(self, days: int) -> None:
        self.registry.today += DAY * days
        self._do(lambda today=self.registry.today: self.registry.day(today))

    @rule(
        eligible=st.booleans(),
        start=st.integers(-60, 30),
        length=st.one_of(st.none(), st.integers(1, 120)),
    )
    def decision(self, eligible: bool, start: int, length: int | None) -> None:
        effective_from = self.registry.today + DAY * start
        changes_on = effective_from + DAY * length if length else None
        self.decisions.append((effective_from, changes_on, eligible))
        eid = self._event_id()
        self._do(
            lambda: self.registry.send(
                "EligibilityDecision",
                event_id=eid,
                decided_on=self.registry.today,
                eligible=eligible,
                effective_from=effective_from,
                changes_on=changes_on,
            )
        )

    @rule(start=st.integers(-15, 30), edition=st.sampled_from(sorted(EDITIONS)))
    def refer(self, start: int, edition: str) -> None:
        eid = self._event_id()
        start_on = self.registry.today + DAY * start
        self._do(lambda: self.registry.refer(f"R-{eid}", start_on, edition, event_id=eid))

    @precondition(lambda self: self.registry.schedule.cycles)
    @rule(data=st.data(), offset=st.integers(0, 75))
    def end(self, data: st.DataObject, offset: int) -> None:
        cycle = data.draw(st.sampled_from(self.registry.schedule.cycles))
        eid = self._event_id()
        on = cycle.start_on + DAY * offset
        self._do(
            lambda: self.registry.send(
                "ParticipationEnded",
                event_id=eid,
                referral_id=cycle.referral_id,
                ended_on=on,
                reason="EMPLOYMENT",
            )
        )

    @rule(gap=st.integers(-20, 9))
    def review_and_refer_again(self, gap: int) -> None:
        """The usual path: the clock passes the cycle's end, the PUP reviews and re-refers."""
        active = [c for c in self.registry.schedule.cycles if c.ended_on is None]
        if active:
            self.tick(max(0, (active[0].span_end - self.registry.today).days + 1))
        ended = [c for c in self.registry.schedule.cycles if c.ended_on is not None]
        if ended:
            on = max(self.registry.today, ended[-1].ended_on)  # type: ignore[type-var]
            eid = self._event_id()
            self._do(
                lambda: self.registry.send(
                    "ProfileReviewed",
                    event_id=eid,
                    reviewed_on=on,
                    outcome="RE_REFERRAL",
                    new_profile=None,
                )
            )
        self.refer(gap, "ED-1")

    @rule(outcome=st.sampled_from(OUTCOMES), offset=st.integers(-10, 10), iii=st.booleans())
    def review(self, outcome: str, offset: int, iii: bool) -> None:
        eid = self._event_id()
        profile = ("III" if iii else "II") if outcome == "PROFILE_CHANGED" else None
        on = self.registry.today + DAY * offset
        self._do(
            lambda: self.registry.send(
                "ProfileReviewed",
                event_id=eid,
                reviewed_on=on,
                outcome=outcome,
                new_profile=profile,
            )
        )

    @rule(offset=st.integers(-30, 5))
    def other_assistance(self, offset: int) -> None:
        eid = self._event_id()
        on = self.registry.today + DAY * offset
        self._do(
            lambda: self.registry.send(
                "OtherAssistanceReferral", event_id=eid, instrument="training", referred_on=on
            )
        )

    @precondition(lambda self: self.registry.schedule.cycles)
    @rule(
        data=st.data(),
        week=st.integers(0, 9),
        cents=st.integers(0, 1500),
        activity=st.sampled_from(["GROUP_COUNSELLING", "SUPPORT_GROUP"]),
    )
    def hours(self, data: st.DataObject, week: int, cents: int, activity: str) -> None:
        cycle = data.draw(st.sampled_from(self.registry.schedule.cycles))
        monday = cycle.start_on - DAY * cycle.start_on.weekday() + DAY * 7 * week
        eid = self._event_id()
        self._do(
            lambda: self.registry.send(
                "IntegrationHoursReported",
                event_id=eid,
                ops_code=OPS,
                referral_id=cycle.referral_id,
                week_start=monday,
                hours=cents / 100,
                activity=activity,
            )
        )

    @precondition(lambda self: self.registry.schedule.cycles)
    @rule(data=st.data(), day=st.integers(0, 65), cents=st.integers(0, 800))
    def psu(self, data: st.DataObject, day: int, cents: int) -> None:
        cycle = data.draw(st.sampled_from(self.registry.schedule.cycles))
        eid = self._event_id()
        on = cycle.start_on + DAY * day
        self._do(
            lambda: self.registry.send(
                "PsuHoursReported",
                event_id=eid,
                referral_id=cycle.referral_id,
                worked_on=on,
                hours=cents / 100,
            )
        )

    @rule()
    def store(self) -> None:
        """The worker stores the schedule (after its events were acknowledged)."""
        self.saved = stored.pack(self.registry.schedule, None)
        self.journal = []

    @rule()
    def crash_and_replay(self) -> None:
        """The worker dies before storing: the inputs since the last store come again."""
        self.registry.schedule = stored.unpack(self.saved)
        today = self.registry.today
        for when, action, emitted in self.journal:
            self.registry.today = when
            try:
                again = [body(e) for e in action()]
            except InvalidInput:
                again = None
            assert again == emitted, "a replay must emit exactly what the first run did"
        self.registry.today = today

    # -- invariants --------------------------------------------------------------------------
    @invariant()
    def cap_is_counted_exactly(self) -> None:
        expected = 0
        for cycle in self.registry.schedule.cycles:
            if cycle.ended_on is None:
                continue
            days = len(range(cycle.start_on.toordinal(), cycle.ended_on.toordinal() + 1))
            full = cycle.ended_on >= two_months_later_minus_one(cycle.start_on)
            charge = min(60 if full else days, 60, self.allotted[cycle.referral_id])
            assert cycle.days_used == charge, (cycle.referral_id, cycle.days_used, charge)
            expected += charge
        assert self.registry.schedule.used_days() == expected <= 180

    @invariant()
    def cycles_never_overlap(self) -> None:
        spans = sorted((c.start_on, c.span_end) for c in self.registry.schedule.cycles)
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start > end, spans

    @invariant()
    def cycles_lie_within_their_edition(self) -> None:
        for cycle in self.registry.schedule.cycles:
            edition = EDITIONS[cycle.edition_id]
            assert edition.pup_code == cycle.pup_code
            assert edition.valid_from <= cycle.start_on <= cycle.last_day <= edition.valid_to

    @invariant()
    def eligibility_matches_the_decisions_sent(self) -> None:
        for day in WINDOW:
            expected = False
            for effective_from, changes_on, eligible in self.decisions:
                if effective_from <= day and (changes_on is None or day < changes_on):
                    expected = eligible
            assert self.registry.schedule.eligible_on(day) is expected, day


# a tenth of the profile's examples (ci: 60 runs of up to 50 steps; long: 500)
ScheduleMachine.TestCase.settings = settings(
    max_examples=max(60, settings().max_examples // 10), stateful_step_count=50
)
TestSchedule = ScheduleMachine.TestCase
