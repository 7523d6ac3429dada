"""The eligibility worker: Faust wiring around :mod:`services.eligibility.rules`.

Consumes ``pai.pup.profiles.v1`` and ``pai.ops.social-assistance.v1``
(co-partitioned by PESEL), keeps each person's state in the ``persons`` table
(RocksDB, changelogged) and emits ``EligibilityDecision`` on
``pai.eligibility.decisions.v1`` whenever the outcome, or the period over which
it holds (``effective_from``, ``changes_on``), changes, also when a benefit or
contract passes its ``valid_until`` with no new event.

Delivery: events are handled in batches; a batch's decisions and dead letters
are acknowledged by the broker before its states are written to the table (RocksDB,
and the changelog through the raw producer: :func:`services.runtime.table_store.write_through`)
and before Faust acks its offsets, which it commits only once the producer is flushed.
A crash replays the batch; a decision's id derives from (person, cause, rule set), so a
replayed decision carries the id it had.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import faust
import orjson

from services.eligibility import rules
from services.eligibility.metrics import DECISIONS, outcome_label
from services.personal_data import legal_basis, retention
from services.personal_data.retention_sweep import (
    RETENTION_CHECK_S,
    RetentionSweep,
    erase_person,
)
from services.runtime import metrics
from services.runtime.clock import TopicClock, clock_for, warsaw_date
from services.runtime.clock_reader import follow_clock
from services.runtime.codec import AvroCodec
from services.runtime.deadletter import DeadLetter, log_dead_letter
from services.runtime.due_index import DueIndex
from services.runtime.faust_app import (
    create_app,
    follow_erasures,
    per_person_table,
    register_metrics_view,
    writes,
)
from services.runtime.inbound import Inbound, Rejected, dead_letter, read_person_event
from services.runtime.logs import where
from services.runtime.operator_views import register_person_view
from services.runtime.partitioning import expected_partition
from services.runtime.settings import Settings, kafka_client_kwargs
from services.runtime.table_store import write_through
from services.runtime.topics import DLQ, ELIGIBILITY_DECISIONS, PROFILES, SOCIAL_ASSISTANCE

SERVICE = "eligibility"
DECISION_NAMESPACE = uuid.UUID("6f1c7a52-3b8e-4d0e-9a43-1d2b8c5e7f10")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Decision:
    """An encoded ``EligibilityDecision`` and its outcome (for metrics)."""

    value: bytes
    eligible: bool


def decision_id(person_id: str, cause: str, ruleset: rules.RuleSet) -> str:
    """Deterministic: the same cause under the same rule set gives the same id after a replay."""
    return str(
        uuid.uuid5(DECISION_NAMESPACE, f"{person_id}|{cause}|{ruleset.name}@{ruleset.version}")
    )


class EligibilityService:
    """One worker's app, table, agent, expiry timer and operator view."""

    def __init__(self, settings: Settings, **app_overrides: Any) -> None:
        self.settings = settings
        self.ruleset = rules.RULESETS[settings.ruleset]
        self.clock = clock_for(settings.clock)
        self.app = create_app(SERVICE, settings, **app_overrides)
        self.persons = per_person_table(self.app, "persons", settings)
        self.codecs = {
            PROFILES.name: AvroCodec("profiles"),
            SOCIAL_ASSISTANCE.name: AvroCodec("social-assistance"),
        }
        self.decisions = AvroCodec("eligibility-decisions")
        self.due: DueIndex[bytes] = DueIndex()
        self._indexed: frozenset[int] | None = None
        self._lock = asyncio.Lock()
        inputs = self.app.topic(PROFILES.name, SOCIAL_ASSISTANCE.name)
        self.app.agent(inputs, name="eligibility-decide")(self._agent)
        self.app.timer(1.0, name="eligibility-expire")(self._expire)
        self.erasure_view = follow_erasures(self.app, settings)
        if isinstance(self.clock, TopicClock):
            self.app.task(self._follow_clock)
            clock = self.clock
            self.app.pai_waiting_for.append(  # type: ignore[attr-defined]
                lambda: None if clock.caught_up.is_set() else "the ticks of pai.clock.v1"
            )
        self._register_views()
        self.retention = RetentionSweep(
            self.persons,
            self._lock,
            self._owned_partitions,
            settings.topic_partitions,
            lambda raw: retention.eligibility_last_event(
                rules.PersonState.model_validate_json(raw)
            ),
            settings.person_retention_years,
            lambda key: self.due.schedule(key, None),
        )
        self.app.timer(RETENTION_CHECK_S, name="eligibility-retention")(self._retention)
        register_metrics_view(self.app, SERVICE, (PROFILES.name, SOCIAL_ASSISTANCE.name))

    # -- time --------------------------------------------------------------------------------
    def today(self, fallback: dt.datetime) -> dt.date:
        """The clock's Warsaw date, or the event's when a topic clock has no tick yet."""
        return warsaw_date(self.clock.now() or fallback)

    async def _follow_clock(self) -> None:
        assert isinstance(self.clock, TopicClock)
        await follow_clock(
            self.clock,
            kafka_client_kwargs(self.settings),
            SERVICE,
            self._send_dead_letter_now,
            on_tick=self._expire,
            rewind_past_end=self.settings.embedded_broker,
        )

    # -- state -------------------------------------------------------------------------------
    def load(self, key: bytes, person_id: str) -> rules.PersonState:
        raw = self.persons.get(key)
        if raw is None:
            return rules.PersonState(person_id=person_id)
        return rules.PersonState.model_validate_json(raw)

    async def store(self, states: dict[bytes, rules.PersonState]) -> None:
        """Write the states to the table and its changelog (after the effects are acknowledged:
        :func:`services.runtime.table_store.write_through`)."""
        await write_through(
            self.persons, {key: state.model_dump_json().encode() for key, state in states.items()}
        )

    # -- deciding ----------------------------------------------------------------------------
    def decide(
        self,
        state: rules.PersonState,
        day: dt.date,
        now: dt.datetime,
        cause: str,
        cause_event_id: str | None,
        cause_id: str,
    ) -> Decision | None:
        """The decision when the outcome or the period it holds over changed (noted in
        ``state``), else None."""
        judged = rules.judge(state, day, self.ruleset)
        if judged is None:
            return None
        outcome = judged.outcome
        event_id = decision_id(state.person_id, cause_id, self.ruleset)
        state.last_decision_id = event_id
        value = self.decisions.encode(
            "EligibilityDecision",
            {
                "event_id": event_id,
                "occurred_at": now,
                "person_id": state.person_id,
                "pup_code": state.pup_code,
                "ops_code": state.ops_code,
                "eligible": outcome.eligible,
                "priority": outcome.priority,
                "reasons": [r.value for r in outcome.reasons],
                "ruleset": outcome.ruleset,
                "ruleset_version": outcome.ruleset_version,
                "decided_on": day,
                "effective_from": judged.effective_from,
                "changes_on": judged.changes_on,
                "cause_event_id": cause_event_id,
                "cause": cause,
                "legal_basis": legal_basis.for_decision(
                    outcome.ruleset,
                    outcome.eligible,
                    outcome.priority,
                    [r.value for r in outcome.reasons],
                ),
                "legal_basis_version": legal_basis.current().version,
            },
        )
        return Decision(value, outcome.eligible)

    def count(self, decisions: list[Decision]) -> None:
        """Metrics of decisions the broker acknowledged."""
        for decision in decisions:
            DECISIONS.labels(
                outcome_label(decision.eligible), self.ruleset.name, str(self.ruleset.version)
            ).inc()

    # -- the agent ---------------------------------------------------------------------------
    async def _agent(self, stream: faust.StreamT[bytes]) -> Any:
        await self.clock.ready()  # every tick sent before the input is read first
        await self.erasure_view.caught_up.wait()  # nothing of an erased person comes back
        async for events in stream.take_events(1000, within=0.01):  # type: ignore[attr-defined]
            handle = functools.partial(self.handle_batch, [Inbound.of(e.message) for e in events])
            # the lock is held while refused writes are tried again: no timer's writes come
            # in between, and the gate's 10 s measure only the batch, not a wait for the lock
            async with self._lock:
                with metrics.PROCESSING.labels(SERVICE).time():
                    await writes(self.app).until_written(handle)
            yield None

    async def handle_batch(self, records: list[Inbound]) -> None:
        states: dict[bytes, rules.PersonState] = {}
        sends: list[Awaitable[Any]] = []
        decided: list[Decision] = []
        for topic, n in Counter(record.topic for record in records).items():
            metrics.EVENTS_CONSUMED.labels(SERVICE, topic).inc(n)
        for record in records:
            try:
                decoded = read_person_event(
                    record, self.codecs[record.topic], self.settings.topic_partitions
                )
                fields = decoded.fields
                self.erasure_view.check(fields["person_id"], fields["occurred_at"])
                if fields.get("profile") == "UNKNOWN":
                    raise Rejected(
                        "unknown-symbol",
                        "profile UNKNOWN: a symbol this service's schema does not know",
                    )
                try:
                    rules.check_dates(decoded.type, fields)
                except rules.InvalidEvent as exc:
                    raise Rejected(exc.reason, str(exc)) from exc
            except Rejected as rejected:
                sends.append(await self._send_dead_letter(dead_letter(SERVICE, record, rejected)))
                continue
            assert record.key is not None
            state = states.get(record.key) or self.load(record.key, fields["person_id"])
            if not rules.apply(state, decoded.type, fields, self.clock.now()):
                states[record.key] = state
                continue
            now = self.clock.now() or fields["occurred_at"]
            day = warsaw_date(now)
            decision = self.decide(
                state, day, now, decoded.type, str(fields["event_id"]), str(fields["event_id"])
            )
            states[record.key] = state
            if decision is not None:
                if log.isEnabledFor(logging.DEBUG):  # no record built per decision otherwise
                    log.debug(
                        "decision %s after %s",
                        state.last_decision_id,
                        decoded.type,
                        extra=where(
                            record.topic, record.partition, record.offset, fields["event_id"]
                        ),
                    )
                sends.append(await self._send_decision(record.key, decision.value))
                decided.append(decision)
        await asyncio.gather(*sends)  # every effect acknowledged before the state is written
        self.count(decided)
        metrics.observe_latency(SERVICE, (r.timestamp_s for r in records))
        await self.store(states)
        today = self.today(dt.datetime.now(dt.UTC))
        for key, state in states.items():
            self._schedule(key, state, today)

    async def _send_decision(self, key: bytes, value: bytes) -> Awaitable[Any]:
        return await self.app.producer.send(
            ELIGIBILITY_DECISIONS.name, key, value, None, None, None
        )

    async def _send_dead_letter(self, letter: DeadLetter) -> Awaitable[Any]:
        log_dead_letter(log, letter)
        return await self.app.producer.send(
            DLQ.name, letter.key, letter.value, None, None, letter.headers()
        )

    async def _send_dead_letter_now(self, letter: DeadLetter) -> None:
        """A dead letter of the clock or editions reader, acknowledged (waits while refused)."""

        async def once() -> None:
            await (await self._send_dead_letter(letter))

        await writes(self.app).until_written(once)

    # -- expiry ------------------------------------------------------------------------------
    def _owned_partitions(self) -> frozenset[int]:
        return frozenset(
            tp.partition for tp in self.app.consumer.assignment() if tp.topic == PROFILES.name
        )

    def _schedule(self, key: bytes, state: rules.PersonState, today: dt.date) -> None:
        """Index the person at the first change after the day its outcome was last evaluated.

        Counting from "today" instead would lose a change whose date passed between that
        evaluation and now (a clock tick read after the events it follows, a rebuild after
        a restart): the person would never be decided again on that date.
        """
        self.due.schedule(key, rules.next_change(state, state.evaluated_on or today))

    def _rebuild_index(self, owned: frozenset[int], day: dt.date) -> None:
        self.due.clear()
        n = self.settings.topic_partitions
        for key, raw in self.persons.items():
            if expected_partition(key, n) in owned:
                self._schedule(key, rules.PersonState.model_validate_json(raw), day)
        self._indexed = owned
        log.info(
            "due index rebuilt: %d persons with a date ahead on partitions %s",
            len(self.due),
            sorted(owned),
        )

    async def _expire(self) -> None:
        """Re-decide the persons whose benefits or contracts changed by the date alone."""
        now = self.clock.now()
        if now is None or self.app.rebalancing or not self.app.consumer.assignment():
            return
        async with self._lock:
            day = warsaw_date(now)
            owned = self._owned_partitions()
            if owned != self._indexed:
                self._rebuild_index(owned, day)
            n = self.settings.topic_partitions
            changed: dict[bytes, rules.PersonState] = {}
            decided: list[tuple[bytes, Decision]] = []
            for key in list(self.due.pop_due(day)):
                if (
                    expected_partition(key, n) not in owned
                    or (raw := self.persons.get(key)) is None
                ):
                    continue
                state = rules.PersonState.model_validate_json(raw)
                decision = self.decide(state, day, now, "VALIDITY_EXPIRED", None, f"date:{day}")
                changed[key] = state
                if decision is not None:
                    decided.append((key, decision))

            async def send_all() -> None:
                sends = [await self._send_decision(key, d.value) for key, d in decided]
                await asyncio.gather(*sends)
                await self.store(changed)

            await writes(self.app).until_written(send_all)  # popped from the index: not lost
            self.count([decision for _key, decision in decided])
            for key, state in changed.items():
                self._schedule(key, state, day)

    # -- retention ---------------------------------------------------------------------------
    async def _retention(self) -> None:
        now = self.clock.now()
        if now is not None and not self.app.rebalancing:
            await self.retention.sweep_at(now, dt.datetime.now(dt.UTC))

    # -- operator view -----------------------------------------------------------------------
    def _register_views(self) -> None:
        def render(pesel: str, raw: bytes) -> dict[str, Any]:
            state = orjson.loads(raw)
            last = state.get("last_outcome")
            if last is not None:  # the provisions it applies, as its decision cited them
                last = last | {
                    "legal_basis": legal_basis.for_decision(
                        last["ruleset"], last["eligible"], last["priority"], last["reasons"]
                    ),
                    "legal_basis_version": legal_basis.current().version,
                }
            return {"person_id": pesel, "state": state, "last_decision": last}

        register_person_view(
            self.app,
            self.settings,
            self.persons,
            "/persons/{pesel}",
            render,
            SERVICE,
            erase=self.erase,
        )

    async def erase(self, pesel: str) -> dict[str, Any]:
        """``pai forget``: the person out of the table and the due index."""
        await self.erasure_view.seen(pesel)  # the marker pai forget wrote first
        removed = await erase_person(
            self.app, self.persons, self._lock, pesel, lambda k: self.due.schedule(k, None)
        )
        return {"service": SERVICE, **removed}
