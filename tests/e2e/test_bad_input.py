"""Over a thousand malformed records mixed into valid traffic: every one dead-lettered with
its reason, source topic, partition and offset; every valid record processed."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from services.local.embedded_broker import EmbeddedBroker
from services.runtime.processes import terminate
from tests.integration.service_helpers import dead_letters_from, decisions_for, wait_for
from tests.support import events as ev
from tests.support.workers import WORKER_ENV, start_worker, wait_ready

pytestmark = pytest.mark.e2e
PROFILES, ASSISTANCE = "pai.pup.profiles.v1", "pai.ops.social-assistance.v1"
DAY = dt.date(2026, 1, 5)


def malformed(n: int, pesel: str) -> tuple[str, bytes, bytes, str]:
    """The n-th bad record (kinds in turn): topic, key, value and the reason expected."""
    key, good = ev.registered(pesel, DAY)
    kind = n % 7
    if kind == 0:
        return PROFILES, key, good[: len(good) // 2], "truncated-body"
    if kind == 1:
        return PROFILES, key, b"\xc3\x01" + os.urandom(8) + good[10:], "unknown-fingerprint"
    if kind == 2:
        return PROFILES, key, b"\x00" + good[1:], "bad-magic"
    if kind == 3:
        invalid = pesel[:-1] + str((int(pesel[-1]) + 1) % 10)
        return PROFILES, *ev.registered(invalid, DAY), "invalid-pesel"
    if kind == 4:
        return PROFILES, *ev.profile(pesel, "UNKNOWN", DAY), "unknown-symbol"
    if kind == 5:
        return ASSISTANCE, *ev.benefits(pesel, DAY, DAY - dt.timedelta(days=1)), "impossible-dates"
    return PROFILES, key, good + b"\x00" * 70_000, "oversized"


async def produce_tracked(
    bootstrap: str, records: list[tuple[str, bytes, bytes, str | None]]
) -> dict[tuple[str, int, int], str]:
    """Send in order; the (topic, partition, offset) of every record with an expected reason."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_request_size=4 * 2**20
    )
    await producer.start()
    try:
        futures = [
            (await producer.send(topic, value=value, key=key), reason)
            for topic, key, value, reason in records
        ]
        bad = {}
        for future, reason in futures:
            meta = await future
            if reason is not None:
                bad[(meta.topic, meta.partition, meta.offset)] = reason
        return bad
    finally:
        await producer.stop()


def test_a_thousand_malformed_records_are_dead_lettered_and_the_valid_ones_decided(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    bs = broker.bootstrap
    persons = [ev.pesel_from(960_000 + n) for n in range(300)]
    valid: list[tuple[str, bytes, bytes, str | None]] = []
    for pesel in persons:
        valid.append((PROFILES, *ev.registered(pesel, DAY), None))
        valid.append((PROFILES, *ev.profile(pesel, "III", DAY), None))
        valid.append((ASSISTANCE, *ev.benefits(pesel, DAY, None), None))
    bad = [malformed(n, persons[n % len(persons)]) for n in range(1001)]
    mixed: list[tuple[str, bytes, bytes, str | None]] = []
    for good_one, bad_one in itertools.zip_longest(valid, bad):
        mixed.extend(r for r in (bad_one, good_one) if r is not None)

    log = tmp_path / "eligibility.log"
    worker, port = start_worker("services.eligibility", bs, tmp_path / "data", log, **WORKER_ENV)
    try:
        wait_ready(worker, port, 60, log)
        expected = asyncio.run(produce_tracked(bs, mixed))
        assert len(expected) == 1001

        def letters() -> dict[tuple[str, int, int], str] | None:
            found = {
                (x["topic"], int(x["partition"]), int(x["offset"])): x["reason"]
                for topic in (PROFILES, ASSISTANCE)
                for x in dead_letters_from(bs, topic)
            }
            mine = {where: reason for where, reason in found.items() if where in expected}
            return mine if len(mine) == len(expected) else None

        assert wait_for(letters, 120, "every malformed record dead-lettered") == expected

        def all_eligible() -> dict[str, list[Any]] | None:
            found = decisions_for(bs, set(persons))
            done = all(d and d[-1].fields["eligible"] for d in found.values())
            return found if done else None

        decided = wait_for(all_eligible, 120, "every valid person decided eligible")
        assert len(decided) == len(persons)
        assert worker.poll() is None
    finally:
        terminate(worker)
