"""The scheduler worker: Faust wiring around :mod:`services.scheduler.domain`.

Consumes ``pai.pup.participation.v1``, ``pai.ops.integration-activities.v1``
and ``pai.eligibility.decisions.v1`` (co-partitioned by PESEL), reads the
program editions in every worker (:class:`~services.scheduler.editions.EditionsView`),
keeps each person's cycles and deadlines in the ``schedules`` table (RocksDB,
changelogged) and writes every outcome to ``pai.scheduler.events.v1``.

Deadlines fire on the clock (``PAI_CLOCK``): on every tick of the topic clock
and on a 1 s timer, for the persons the due index says are due
(:mod:`services.scheduler.timers`).

Delivery: the events of a batch or a tick, and its dead letters, are
acknowledged by the broker before the schedules are written to the table (RocksDB,
and the changelog through the raw producer: :mod:`services.runtime.table_store`) and
before Faust acks the input offsets. A crash repeats them with the same ids:
referral outcomes derive from the referral event, deadlines from
(cycle, kind[, week]), and a schedule records what it has emitted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections import Counter
from collections.abc import Awaitable
from typing import Any

import faust

from services.personal_data import retention
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
from services.runtime.faust_app import (
    create_app,
    follow_erasures,
    per_person_table,
    register_metrics_view,
    writes,
)
from services.runtime.identifiers import mask_pesel
from services.runtime.inbound import Inbound, Rejected, dead_letter, read_person_event
from services.runtime.logs import where
from services.runtime.operator_views import register_person_view
from services.runtime.settings import Settings, kafka_client_kwargs
from services.runtime.table_store import write_through
from services.runtime.topics import (
    DLQ,
    ELIGIBILITY_DECISIONS,
    INTEGRATION_ACTIVITIES,
    PARTICIPATION,
    SCHEDULER_EVENTS,
)
from services.scheduler import calendar, domain, handling, outbound, stored
from services.scheduler.domain import Config, Outgoing, Schedule
from services.scheduler.editions import EditionsView
from services.scheduler.metrics import EVENTS, PENDING_DEADLINES
from services.scheduler.timers import Fired, Timers

SERVICE = "scheduler"
log = logging.getLogger(__name__)


def count(events: list[Outgoing]) -> None:
    """Metrics of events the broker acknowledged."""
    for event in events:
        EVENTS.labels(event.kind.value).inc()


def config_from(settings: Settings) -> Config:
    return Config(
        ending_soon_days=settings.cycle_ending_soon_days,
        review_due_days=settings.profile_review_due_days,
        psu_weekly_hours=settings.psu_weekly_hours_limit,
        psu_monthly_hours=settings.psu_monthly_hours_limit,
    )


class SchedulerService:
    """One worker's app, table, agent, timers, editions view and operator view."""

    def __init__(self, settings: Settings, **app_overrides: Any) -> None:
        self.settings = settings
        self.config = config_from(settings)
        self.clock = clock_for(settings.clock)
        self.app = create_app(SERVICE, settings, **app_overrides)
        self.schedules = per_person_table(self.app, "schedules", settings)
        self.codecs = {
            PARTICIPATION.name: AvroCodec("participation"),
            INTEGRATION_ACTIVITIES.name: AvroCodec("integration-activities"),
            ELIGIBILITY_DECISIONS.name: AvroCodec("eligibility-decisions"),
        }
        self.editions = EditionsView(
            kafka_client_kwargs(settings),
            SERVICE,
            self._send_dead_letter_now,
            rewind_past_end=settings.embedded_broker,
        )
        self.timers = Timers(self.config)
        self._indexed: frozenset[int] | None = None
        self._lock = asyncio.Lock()
        inputs = self.app.topic(
            PARTICIPATION.name, INTEGRATION_ACTIVITIES.name, ELIGIBILITY_DECISIONS.name
        )
        self.app.agent(inputs, name="scheduler-schedule")(self._agent)
        self.app.task(self.editions.run)
        self.erasure_view = follow_erasures(self.app, settings)
        self.app.timer(1.0, name="scheduler-deadlines")(self._tick)
        if isinstance(self.clock, TopicClock):
            self.app.task(self._follow_clock)
            clock = self.clock
            self.app.pai_waiting_for.append(  # type: ignore[attr-defined]
                lambda: None if clock.caught_up.is_set() else "the ticks of pai.clock.v1"
            )
        editions = self.editions
        self.app.pai_waiting_for.append(  # type: ignore[attr-defined]
            lambda: None if editions.caught_up.is_set() else "pai.pup.program-editions.v1"
        )
        self._register_views()
        self.retention = RetentionSweep(
            self.schedules,
            self._lock,
            self._owned_partitions,
            settings.topic_partitions,
            lambda raw: retention.schedule_last_event(stored.unpack(raw)),
            settings.person_retention_years,
            lambda key: self.timers.settle(key, None),
            stored.dated,
        )
        self.app.timer(RETENTION_CHECK_S, name="scheduler-retention")(self._retention)
        register_metrics_view(
            self.app,
            SERVICE,
            (PARTICIPATION.name, INTEGRATION_ACTIVITIES.name, ELIGIBILITY_DECISIONS.name),
            refresh=lambda: PENDING_DEADLINES.set(len(self.timers)),
        )

    # -- time --------------------------------------------------------------------------------
    async def _follow_clock(self) -> None:
        assert isinstance(self.clock, TopicClock)
        await follow_clock(
            self.clock,
            kafka_client_kwargs(self.settings),
            SERVICE,
            self._send_dead_letter_now,
            on_tick=self._tick,
            rewind_past_end=self.settings.embedded_broker,
        )

    # -- state -------------------------------------------------------------------------------
    def load(self, key: bytes, person_id: str) -> Schedule:
        raw = self.schedules.get(key)
        return Schedule(person_id=person_id) if raw is None else stored.unpack(raw)

    async def store(self, schedules: dict[bytes, Schedule]) -> dict[bytes, dt.date | None]:
        """Write the schedules to the table and its changelog (after the effects are
        acknowledged: :func:`services.runtime.table_store.write_through`); their next due
        dates."""
        due = {key: domain.next_due(schedule, self.config) for key, schedule in schedules.items()}
        await write_through(
            self.schedules,
            {key: stored.pack(schedule, due[key]) for key, schedule in schedules.items()},
        )
        return due

    # -- the agent ---------------------------------------------------------------------------
    async def _agent(self, stream: faust.StreamT[bytes]) -> Any:
        await self.editions.caught_up.wait()  # a referral is judged against every edition
        await self.erasure_view.caught_up.wait()  # nothing of an erased person comes back
        await self.clock.ready()  # and by the time every tick sent before it tells
        async for events in stream.take_events(1000, within=0.01):  # type: ignore[attr-defined]
            handle = functools.partial(self.handle_batch, [Inbound.of(e.message) for e in events])
            # the lock is held while refused writes are tried again: no timer's writes come
            # in between, and the gate's 10 s measure only the batch, not a wait for the lock
            async with self._lock:
                with metrics.PROCESSING.labels(SERVICE).time():
                    await writes(self.app).until_written(handle)
            yield None

    async def handle_batch(self, records: list[Inbound]) -> None:
        schedules: dict[bytes, Schedule] = {}
        sends: list[Awaitable[Any]] = []
        emitted: list[Outgoing] = []
        for topic, n in Counter(record.topic for record in records).items():
            metrics.EVENTS_CONSUMED.labels(SERVICE, topic).inc(n)
        for record in records:
            try:
                decoded = read_person_event(
                    record, self.codecs[record.topic], self.settings.topic_partitions
                )
                assert record.key is not None
                fields = decoded.fields
                self.erasure_view.check(fields["person_id"], fields["occurred_at"])
                schedule = schedules.get(record.key) or self.load(record.key, fields["person_id"])
                now = self.clock.now() or fields["occurred_at"]
                today = warsaw_date(now)
                try:
                    events = handling.handle(
                        schedule,
                        decoded.type,
                        fields,
                        self.editions.get,
                        today,
                        self.config,
                        warsaw_date(dt.datetime.now(dt.UTC)),
                    )
                except handling.InvalidInput as exc:
                    raise Rejected(exc.reason, str(exc)) from exc
            except Rejected as rejected:
                sends.append(await self._send_dead_letter(dead_letter(SERVICE, record, rejected)))
                continue
            schedules[record.key] = schedule
            for event in events:
                sends.append(await self._send_event(record.key, schedule.person_id, event, now))
            emitted.extend(events)
        await asyncio.gather(*sends)  # every effect acknowledged before the state is written
        count(emitted)
        metrics.observe_latency(SERVICE, (r.timestamp_s for r in records))
        for key, next_due in (await self.store(schedules)).items():
            self.timers.settle(key, next_due)

    async def _send_event(
        self, key: bytes, person_id: str, event: Outgoing, now: dt.datetime
    ) -> Awaitable[Any]:
        value = outbound.encode(person_id, event, now, self.settings.ruleset)
        if log.isEnabledFor(logging.DEBUG):  # no record built per event otherwise
            log.debug(
                "%s %s for %s",
                event.kind.value,
                event.event_id,
                mask_pesel(person_id),
                extra=where(SCHEDULER_EVENTS.name, event_id=event.event_id),
            )
        return await self.app.producer.send(SCHEDULER_EVENTS.name, key, value, None, None, None)

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

    # -- retention ---------------------------------------------------------------------------
    async def _retention(self) -> None:
        now = self.clock.now()
        if now is not None and not self.app.rebalancing:
            await self.retention.sweep_at(now, dt.datetime.now(dt.UTC))

    # -- deadlines ---------------------------------------------------------------------------
    def _owned_partitions(self) -> frozenset[int]:
        return frozenset(
            tp.partition for tp in self.app.consumer.assignment() if tp.topic == PARTICIPATION.name
        )

    async def _tick(self) -> None:
        """Emit every deadline that has come for the persons of this worker's partitions."""
        now = self.clock.now()
        if now is None or self.app.rebalancing or not self.app.consumer.assignment():
            return
        async with self._lock:
            owned = self._owned_partitions()
            if owned != self._indexed:
                indexed = self.timers.rebuild(self.schedules.items())
                self._indexed = owned
                log.info(
                    "due index rebuilt: %d persons with a pending deadline on partitions %s",
                    indexed,
                    sorted(owned),
                )
            today = warsaw_date(now)
            fired = self.timers.fire(self.schedules.get, today)
            if not fired:
                return
            try:
                with metrics.PROCESSING.labels(SERVICE).time():
                    await writes(self.app).until_written(lambda: self._publish(fired, now))
            except BaseException:  # cancelled while the broker refused: fire them again later
                self.timers.retry(fired, today)
                raise
            for item in fired:
                self.timers.settle(item.key, item.next_due)

    async def _publish(self, fired: list[Fired], now: dt.datetime) -> None:
        sends = []
        for item in fired:
            for event in item.events:
                sends.append(await self._send_event(item.key, item.schedule.person_id, event, now))
        await asyncio.gather(*sends)
        await write_through(self.schedules, {item.key: item.value for item in fired})
        count([event for item in fired for event in item.events])

    # -- operator view -----------------------------------------------------------------------
    def view_of(self, schedule: Schedule) -> dict[str, Any]:
        """What an operator sees of one person: cycles, the cap, pending deadlines."""
        used = schedule.used_days()
        active = next((c for c in schedule.cycles if c.active), None)
        planned = active.charge(active.last_day) if active else 0
        return {
            "person_id": schedule.person_id,
            "eligibility": [
                {
                    "effective_from": p.effective_from.isoformat(),
                    "changes_on": p.changes_on.isoformat() if p.changes_on else None,
                    "eligible": p.eligible,
                }
                for p in schedule.eligibility
            ],
            "days_used": used,
            "days_left": calendar.CAP_DAYS - used,
            "days_left_after_active_cycle": calendar.CAP_DAYS - used - planned,
            "cycles": [
                {
                    "cycle_id": c.cycle_id,
                    "number": c.number,
                    "referral_id": c.referral_id,
                    "edition_id": c.edition_id,
                    "ops_code": c.ops_code,
                    "start_on": c.start_on.isoformat(),
                    "last_day": c.last_day.isoformat(),
                    "ended_on": c.ended_on.isoformat() if c.ended_on else None,
                    "end_reason": c.end_reason,
                    "pending_end": c.pending_end.isoformat() if c.pending_end else None,
                    "days_used": c.days_used,
                    "review_due_on": c.review_due_on.isoformat() if c.review_due_on else None,
                    "reviewed": c.reviewed,
                    "reviews": [r.model_dump(mode="json", exclude={"event_id"}) for r in c.reviews],
                    "weekly_hours": {
                        week: domain.week_hours(c, dt.date.fromisoformat(week))
                        for week in sorted({key.split("|")[0] for key in c.hundredths})
                    },
                    "psu_hours": {day: h / 100 for day, h in sorted(c.psu.items())},
                    "emitted": list(c.fired),
                }
                for c in schedule.cycles
            ],
            "pending_deadlines": [
                {"due_on": due.isoformat(), "kind": kind, "cycle_id": cycle_id}
                for due, kind, cycle_id in domain.pending(schedule, self.config)
            ],
        }

    def _register_views(self) -> None:
        register_person_view(
            self.app,
            self.settings,
            self.schedules,
            "/persons/{pesel}/cycles",
            lambda pesel, raw: self.view_of(stored.unpack(raw)),
            SERVICE,
            erase=self.erase,
        )

    async def erase(self, pesel: str) -> dict[str, Any]:
        """``pai forget``: the person out of the table and the deadline index."""
        await self.erasure_view.seen(pesel)  # the marker pai forget wrote first
        removed = await erase_person(
            self.app, self.schedules, self._lock, pesel, lambda k: self.timers.settle(k, None)
        )
        return {"service": SERVICE, **removed}
