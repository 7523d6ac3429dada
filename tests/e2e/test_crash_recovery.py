"""``kill -9`` of each service in turn in the middle of a run of 20,000 events, then a
restart: nothing is lost, and a repeat carries the id it had."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import os
import signal
import subprocess
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from services.local.embedded_broker import EmbeddedBroker
from services.runtime.codec import AvroCodec
from services.runtime.group_progress import caught_up
from services.runtime.processes import terminate
from services.runtime.topics import ELIGIBILITY_DECISIONS
from tests.integration.service_helpers import read_topic, wait_for
from tests.support import events as ev
from tests.support.receiver import Receiver, loopback_partner, write_partners
from tests.support.workers import WORKER_ENV, start_worker, wait_ready

pytestmark = pytest.mark.e2e
EVENTS = 20_000
DAY = dt.date(2026, 1, 5)


async def produce_many(bootstrap: str, records: list[tuple[str, bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(t, value=v, key=k) for t, k, v in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def becoming_eligible(persons: list[str]) -> list[tuple[str, bytes, bytes]]:
    """Registered, profile III and benefits granted on DAY: three decisions per person."""
    records = []
    for pesel in persons:
        records.append(("pai.pup.profiles.v1", *ev.registered(pesel, DAY)))
        records.append(("pai.pup.profiles.v1", *ev.profile(pesel, "III", DAY)))
        records.append(("pai.ops.social-assistance.v1", *ev.benefits(pesel, DAY, None)))
    return records


def by_person(bootstrap: str, topic: str, schema: str, persons: set[str]) -> dict[str, list[Any]]:
    codec = AvroCodec(schema)
    found: dict[str, list[Any]] = defaultdict(list)
    for record in asyncio.run(read_topic(bootstrap, topic, seconds=1.0)):
        decoded = codec.decode(record.value)
        if decoded.fields["person_id"] in persons:
            found[decoded.fields["person_id"]].append(decoded)
    return found


def kill_midway_and_restart(
    service: str,
    bootstrap: str,
    tmp_path: Path,
    started: Callable[[], bool],
    env: dict[str, str],
    feed: Callable[[], None] = lambda: None,
) -> subprocess.Popen[bytes]:
    """Start ``service``, ``feed()`` it; once ``started()`` says work is under way, SIGKILL
    it and start it again on the same data directory. Returns the second process."""
    log = tmp_path / f"{service}.log"
    first, port = start_worker(f"services.{service}", bootstrap, tmp_path / "data", log, **env)
    try:
        wait_ready(first, port, 60, log)
        feed()
        wait_for(started, 60, f"{service} under way", interval=0.2)
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    second, port = start_worker(f"services.{service}", bootstrap, tmp_path / "data", log, **env)
    try:
        wait_ready(second, port, 90, log)
    except BaseException:
        terminate(second)
        raise
    return second


def test_eligibility_killed_midway_loses_no_decision_and_repeats_keep_their_ids(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    bs = broker.bootstrap
    persons = [ev.pesel_from(1_000_000 + n) for n in range(EVENTS // 3 + 1)]
    asyncio.run(produce_many(bs, becoming_eligible(persons)))
    wanted = set(persons)

    def some_decided() -> bool:
        return (
            len(by_person(bs, "pai.eligibility.decisions.v1", "eligibility-decisions", wanted))
            > 500
        )

    worker = kill_midway_and_restart("eligibility", bs, tmp_path, some_decided, WORKER_ENV)
    try:

        def all_eligible() -> dict[str, list[Any]] | None:
            found = by_person(bs, "pai.eligibility.decisions.v1", "eligibility-decisions", wanted)
            done = len(found) == len(wanted) and all(
                d[-1].fields["eligible"] for d in found.values()
            )
            return found if done else None

        found = wait_for(all_eligible, 180, "every person's final decision", interval=2)
    finally:
        terminate(worker)
    for pesel, decisions in found.items():
        by_id = defaultdict(list)
        for decision in decisions:
            by_id[str(decision.fields["event_id"])].append(decision.fields)
        # three causes, three decisions; a repeat is the same decision under the same id
        assert len(by_id) == 3, (pesel, [d.fields["cause"] for d in decisions])
        for same in by_id.values():
            assert all(
                (f["eligible"], f["reasons"], f["cause_event_id"])
                == (same[0]["eligible"], same[0]["reasons"], same[0]["cause_event_id"])
                for f in same
            )


def test_scheduler_killed_midway_loses_no_referral_or_deadline(
    broker: EmbeddedBroker, tmp_path: Path, era: int
) -> None:
    bs = broker.bootstrap
    d = lambda m, day: dt.date(era, m, day)  # noqa: E731
    persons = [ev.pesel_from(2_000_000 + n) for n in range(EVENTS // 2)]
    asyncio.run(
        produce_many(
            bs, [("pai.pup.program-editions.v1", *ev.edition("ED-K", d(1, 2), d(1, 1), d(12, 31)))]
        )
    )
    asyncio.run(
        produce_many(
            bs, [("pai.clock.v1", b"", ev.tick(dt.datetime(era, 1, 10, 4, tzinfo=dt.UTC)))]
        )
    )
    decisions = [
        ("pai.eligibility.decisions.v1", *ev.decision(pesel, True, d(1, 5))) for pesel in persons
    ]
    referrals = [
        ("pai.pup.participation.v1", *ev.referred(pesel, "R1", d(1, 12), edition_id="ED-K"))
        for pesel in persons
    ]
    wanted = set(persons)

    def feed() -> None:
        # the scheduler judges a referral by the decisions it has read: refer after them
        asyncio.run(produce_many(bs, decisions))
        wait_for(
            lambda: asyncio.run(
                caught_up({"bootstrap_servers": bs}, "pai-scheduler", [ELIGIBILITY_DECISIONS.name])
            ),
            60,
            "the decisions read",
        )
        asyncio.run(produce_many(bs, referrals))

    def some_accepted() -> bool:
        return len(by_person(bs, "pai.scheduler.events.v1", "scheduler-events", wanted)) > 500

    worker = kill_midway_and_restart("scheduler", bs, tmp_path, some_accepted, WORKER_ENV, feed)
    try:
        tick = ev.tick(dt.datetime(era, 1, 12, 4, tzinfo=dt.UTC))  # every cycle starts
        asyncio.run(produce_many(bs, [("pai.clock.v1", b"", tick)]))

        def all_started() -> dict[str, list[Any]] | None:
            found = by_person(bs, "pai.scheduler.events.v1", "scheduler-events", wanted)
            done = len(found) == len(wanted) and all(
                {"ReferralAccepted", "CycleStarted"} <= {e.type for e in events}
                for events in found.values()
            )
            return found if done else None

        found = wait_for(all_started, 180, "every referral accepted and started", interval=2)
    finally:
        terminate(worker)
    for pesel, events in found.items():
        ids: dict[str, set[str]] = defaultdict(set)
        for event in events:
            ids[event.type].add(str(event.fields["event_id"]))
        assert set(ids) == {"ReferralAccepted", "CycleStarted"}, (pesel, set(ids))
        assert all(len(one) == 1 for one in ids.values()), (pesel, ids)


def test_notifier_killed_midway_loses_no_webhook(broker: EmbeddedBroker, tmp_path: Path) -> None:
    bs, ops = broker.bootstrap, "9800003"
    secret = "whsec_" + base64.b64encode(b"crash recovery secret, 32 bytes.").decode()
    receiver = Receiver().start()
    partners = write_partners(
        tmp_path / "partners.yaml", loopback_partner(ops, receiver.url("ops"), secret)
    )
    records = [
        ("pai.scheduler.events.v1", *ev.outbound("CycleStarted", ev.pesel_from(3_000_000 + n), ops))
        for n in range(EVENTS)
    ]
    asyncio.run(produce_many(bs, records))
    codec = AvroCodec("scheduler-events")
    ids = {str(codec.decode(v).fields["event_id"]) for _, _, v in records}
    env = WORKER_ENV | {"PAI_PARTNERS_FILE": str(partners)}
    try:
        worker = kill_midway_and_restart(
            "notifier", bs, tmp_path, lambda: len(receiver.requests("ops")) > 2000, env
        )
        try:
            wait_for(
                lambda: ids <= {r.headers["webhook-id"] for r in receiver.requests("ops")},
                180,
                "every webhook",
                interval=1,
            )
        finally:
            terminate(worker)
        received = [r.headers["webhook-id"] for r in receiver.requests("ops")]
        assert set(received) == ids  # repeats, if any, under the ids they had
        assert len(received) < 2 * len(ids)
    finally:
        receiver.stop()
