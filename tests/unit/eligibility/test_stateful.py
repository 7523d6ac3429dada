"""A stateful property test of the eligibility rules over event orderings (issue 14, item 11).

The OPS and PUP publish benefit grants, benefit ends and profile establishments
(each stamped with its publication time); Hypothesis delivers them in any
order, with repeats. After every step, on every day of a window:

- the outcome equals a reference evaluation written here from the events
  delivered, independently of the order they came in;
- the period a decision would carry is right: the outcome is the same on every
  day from ``effective_from`` to the day, and from the day to the one before
  ``changes_on``, and differs on ``changes_on``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from services.eligibility import rules
from services.eligibility.rules import RULESETS, PersonState

D = dt.date
DAY = dt.timedelta(days=1)
SEED = RULESETS["seed"]
T0 = dt.datetime(2026, 1, 1, 8, tzinfo=dt.UTC)
FIRST = D(2026, 1, 1)
WINDOW = [FIRST + DAY * n for n in range(0, 200, 3)]


class Orderings(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = PersonState(person_id="44051401359")
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.delivered: list[int] = []
        self._deliver_now("UnemployedRegistered", {"registered_on": FIRST, "pup_code": "1465"})

    def _publish(self, kind: str, fields: dict[str, Any]) -> int:
        n = len(self.published)
        base = {"event_id": f"ev-{n}", "person_id": "44051401359", "occurred_at": T0 + DAY * n}
        self.published.append((kind, base | fields))
        return n

    def _deliver_now(self, kind: str, fields: dict[str, Any]) -> None:
        n = self._publish(kind, fields)
        rules.apply(self.state, *self.published[n])
        self.delivered.append(n)

    @rule(start=st.integers(0, 150), length=st.one_of(st.none(), st.integers(0, 90)))
    def grant(self, start: int, length: int | None) -> None:
        granted_on = FIRST + DAY * start
        until = granted_on + DAY * length if length is not None else None
        self._publish("BenefitsGranted", {"granted_on": granted_on, "valid_until": until})

    @rule(day=st.integers(0, 180))
    def benefits_end(self, day: int) -> None:
        self._publish("BenefitsEnded", {"ended_on": FIRST + DAY * day})

    @rule(profile=st.sampled_from(["II", "III"]), day=st.integers(0, 150))
    def establish(self, profile: str, day: int) -> None:
        self._publish(
            "ProfileEstablished", {"profile": profile, "established_on": FIRST + DAY * day}
        )

    @precondition(lambda self: len(self.delivered) < len(self.published))
    @rule(data=st.data())
    def deliver(self, data: st.DataObject) -> None:
        waiting = [n for n in range(len(self.published)) if n not in self.delivered]
        n = data.draw(st.sampled_from(waiting))
        rules.apply(self.state, *self.published[n])
        self.delivered.append(n)

    @precondition(lambda self: self.delivered)
    @rule(data=st.data())
    def repeat(self, data: st.DataObject) -> None:
        n = data.draw(st.sampled_from(self.delivered))
        assert not rules.apply(self.state, *self.published[n])

    # -- the reference ---------------------------------------------------------------------
    def _events(self, kind: str) -> list[dict[str, Any]]:
        return [f for k, f in (self.published[n] for n in self.delivered) if k == kind]

    def expected(self, day: dt.date) -> bool:
        grants: dict[dt.date, dict[str, Any]] = {}
        for g in self._events("BenefitsGranted"):  # the latest publication per granted_on
            if (
                g["granted_on"] not in grants
                or g["occurred_at"] > grants[g["granted_on"]]["occurred_at"]
            ):
                grants[g["granted_on"]] = g
        ends = self._events("BenefitsEnded")
        benefits = False
        for g in grants.values():
            through = g["valid_until"] or dt.date.max
            cut = [
                e["ended_on"]
                for e in ends
                if e["occurred_at"] >= g["occurred_at"] and e["ended_on"] >= g["granted_on"]
            ]
            if cut:
                through = min(through, *cut)
            benefits = benefits or g["granted_on"] <= day <= through
        holding = [p for p in self._events("ProfileEstablished") if p["established_on"] <= day]
        profile = max(holding, key=lambda p: p["occurred_at"])["profile"] if holding else None
        return benefits and profile == "III"

    # -- invariants ------------------------------------------------------------------------
    @invariant()
    def outcome_matches_the_reference_whatever_the_order(self) -> None:
        for day in WINDOW:
            assert rules.evaluate(self.state, day, SEED).eligible is self.expected(day), day

    @invariant()
    def the_period_is_where_the_outcome_holds(self) -> None:
        def key(day: dt.date) -> dict[str, Any]:
            return rules.outcome_key(rules.evaluate(self.state, day, SEED))

        for day in WINDOW[::16]:
            period = rules.period(self.state, day, SEED)
            start = max(period.effective_from, FIRST - DAY * 5)
            span = (day - start).days
            assert all(key(start + DAY * n) == key(day) for n in range(span + 1))
            if period.effective_from > FIRST - DAY * 5:
                assert key(period.effective_from - DAY) != key(day)
            if period.changes_on is not None:
                assert key(period.changes_on) != key(day)
                span = (period.changes_on - day).days
                assert all(key(day + DAY * n) == key(day) for n in range(span))


# a tenth of the profile's examples (ci: 50 runs of up to 30 steps; long: 500)
Orderings.TestCase.settings = settings(
    max_examples=max(50, settings().max_examples // 10), stateful_step_count=30
)
TestOrderings = Orderings.TestCase
