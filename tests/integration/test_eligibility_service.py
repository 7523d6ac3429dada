"""The eligibility service through the embedded broker: decisions on change, expiry by date,
repeats, dead letters and the operator view, with one worker and with two."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from services.local.embedded_broker import EmbeddedBroker
from services.runtime.codec import AvroCodec
from services.runtime.deadletter import read_error_headers
from services.runtime.processes import terminate
from tests.integration.kafka_helpers import produce
from tests.integration.service_helpers import (
    dead_letters_from,
    decisions_for,
    read_topic,
    wait_for,
)
from tests.support import events as ev
from tests.support.metrics import by_label, metric, samples
from tests.support.workers import TOKEN, WORKER_ENV, start_worker, wait_ready

pytestmark = pytest.mark.integration
CODEC = AvroCodec("eligibility-decisions")


BECOMES_ELIGIBLE = [  # registered, then profile III, then benefits: one decision each
    (False, False, ("PROFILE_NOT_ESTABLISHED", "NO_SOCIAL_ASSISTANCE"), "UnemployedRegistered"),
    (False, False, ("NO_SOCIAL_ASSISTANCE",), "ProfileEstablished"),
    (True, False, (), "BenefitsGranted"),
]


def summary(decision) -> tuple[bool, bool, tuple[str, ...], str]:
    f = decision.fields
    cited = {c["applies_to"] for c in f["legal_basis"] if c["provision"]}
    assert set(f["reasons"]) <= cited, "a reason without its provision (KPA art. 107 §3)"
    assert ("ELIGIBLE" in cited) == f["eligible"]
    return f["eligible"], f["priority"], tuple(f["reasons"]), f["cause"]


def send(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    asyncio.run(produce(bootstrap, topic, records))


def test_one_worker_decides_on_change_expires_by_date_and_dead_letters_bad_input(
    broker: EmbeddedBroker, tmp_path: Path, era: int
) -> None:
    bs = broker.bootstrap
    d = lambda m, day: dt.date(era, m, day)  # noqa: E731
    alice, bob = ev.pesel_from(era * 10 + 1), ev.pesel_from(era * 10 + 2)
    send(bs, "pai.clock.v1", [(b"", ev.tick(dt.datetime(era, 3, 1, 9, tzinfo=dt.UTC)))])
    log = tmp_path / "eligibility.log"
    # the worker is the session's first eligibility worker: records other tests left on its
    # input topics are its work too, so /metrics is compared with what reaches the topics
    earlier = {
        topic: {(r.partition, r.offset) for r in asyncio.run(read_topic(bs, topic))}
        for topic in ("pai.eligibility.decisions.v1", "pai.dlq.v1")
    }
    worker, port = start_worker("services.eligibility", bs, tmp_path / "data", log, **WORKER_ENV)
    try:
        wait_ready(worker, port, 30, log)
        repeated = uuid.uuid4()
        send(
            bs,
            "pai.pup.profiles.v1",
            [
                ev.registered(alice, d(2, 1), seq=0),
                ev.profile(alice, "III", d(2, 2), seq=1, event_id=repeated),
                ev.profile(alice, "III", d(2, 2), seq=1, event_id=repeated),  # a repeat
                ev.registered(bob, d(2, 1), seq=0),
                ev.profile(bob, "II", d(2, 2), seq=1),
            ],
        )
        found = wait_for(
            lambda: (r := decisions_for(bs, {alice, bob}))[alice][1:] and r,
            30,
            "alice's profile decision",
        )
        send(
            bs,
            "pai.ops.social-assistance.v1",
            [
                ev.benefits(alice, d(2, 15), d(3, 10), seq=2),
                ev.contract(bob, d(2, 20), d(8, 31), seq=3),
                (alice.encode(), b"\xc3\x01 not avro"),  # unknown fingerprint
                (alice.encode(), ev.benefits(bob, d(2, 1), None)[1]),  # key != person_id
                ev.benefits(alice, d(3, 5), d(3, 1), seq=9),  # ends before it starts
                ev.benefits(alice, d(3, 5), dt.date(9999, 12, 31), seq=10),  # past the calendar
            ],
        )
        found = wait_for(
            lambda: len((r := decisions_for(bs, {alice, bob}))[alice]) >= 3 and r,
            30,
            "alice's benefits decision",
        )
        # the clock passes alice's valid_until (10 March): no event, yet the outcome changes
        send(bs, "pai.clock.v1", [(b"", ev.tick(dt.datetime(era, 3, 11, 9, tzinfo=dt.UTC)))])
        found = wait_for(
            lambda: len((r := decisions_for(bs, {alice, bob}))[alice]) >= 4 and r,
            30,
            "alice's expiry decision",
        )

        assert [summary(x) for x in found[alice]] == [
            *BECOMES_ELIGIBLE,
            (False, False, ("NO_SOCIAL_ASSISTANCE",), "VALIDITY_EXPIRED"),
        ]
        expired = found[alice][3].fields
        assert expired["decided_on"] == d(3, 11) and expired["cause_event_id"] is None
        assert all(x.fields["ruleset"] == "seed" for x in found[alice])
        assert found[alice][2].fields["ops_code"] == "1465011"
        assert found[alice][2].fields["pup_code"] == "1465"
        # bob: profile II never makes him eligible under `seed`; his contract gives priority
        assert [summary(x) for x in found[bob]] == [
            (
                False,
                False,
                ("PROFILE_NOT_ESTABLISHED", "NO_SOCIAL_ASSISTANCE"),
                "UnemployedRegistered",
            ),
            (False, False, ("PROFILE_NOT_III", "NO_SOCIAL_ASSISTANCE"), "ProfileEstablished"),
            (False, True, ("PROFILE_NOT_III",), "SocialContractSigned"),
        ]

        letters = wait_for(
            lambda: len(r := dead_letters_from(bs, "pai.ops.social-assistance.v1")) >= 4 and r,
            30,
            "four dead letters",
        )
        mine = [x for x in letters if x["key"] == alice]
        assert sorted(x["reason"] for x in mine) == [
            "date-out-of-range",
            "impossible-dates",
            "key-mismatch",
            "unknown-fingerprint",
        ]
        for letter in mine:
            assert letter["connector.name"] == "eligibility"
            assert alice not in letter["exception.message"]  # PESEL masked

        url = f"http://127.0.0.1:{port}/persons/{alice}"
        assert httpx.get(url, timeout=5).status_code == 401
        view = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
        assert view.status_code == 200, view.text
        body = view.json()
        assert body["state"]["profile"] == "III"
        assert body["last_decision"]["reasons"] == ["NO_SOCIAL_ASSISTANCE"]
        assert worker.poll() is None, "the worker keeps going after bad input"

        # what an operator sees on /metrics: what this worker wrote to the topics, counted
        wait_for(lambda: metric(port, "pai_consumer_lag") == 0, 30, "every offset committed")
        written = {
            topic: [
                r
                for r in asyncio.run(read_topic(bs, topic))
                if (r.partition, r.offset) not in earlier[topic]
            ]
            for topic in earlier
        }
        outcomes = Counter(
            "eligible" if CODEC.decode(r.value).fields["eligible"] else "not_eligible"
            for r in written["pai.eligibility.decisions.v1"]
        )
        assert outcomes["eligible"] >= 1 and outcomes["not_eligible"] >= 6  # alice's and bob's
        assert by_label(port, "pai_eligibility_decisions_total", "outcome") == outcomes
        assert metric(port, "pai_eligibility_decisions_total", ruleset="seed") == outcomes.total()
        reasons = Counter(
            read_error_headers(list(r.headers))["reason"] for r in written["pai.dlq.v1"]
        )
        assert {
            "date-out-of-range",
            "impossible-dates",
            "key-mismatch",
            "unknown-fingerprint",
        } <= reasons.keys()
        assert by_label(port, "pai_dead_letters_total", "reason") == reasons
        consumed = by_label(port, "pai_events_consumed_total", "topic")
        assert consumed["pai.pup.profiles.v1"] >= 5
        assert consumed["pai.ops.social-assistance.v1"] >= 5
        assert metric(port, "pai_event_latency_seconds_count") == sum(consumed.values())
        assert metric(port, "pai_ready") == 1
        lag_series = [s for s in samples(port) if s[0] == "pai_consumer_lag"]
        assert len(lag_series) == 8  # 2 input topics x 4 partitions, all on this worker
    finally:
        terminate(worker, grace_s=15)

    # the log: one JSON object a line; the dead letter names its record; no PESEL anywhere
    lines = [orjson.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert {line["service"] for line in lines} == {"eligibility"}
    letter = next(x for x in lines if "unknown-fingerprint" in x["message"])
    assert letter["level"] == "warning"
    assert letter["topic"] == "pai.ops.social-assistance.v1"
    assert isinstance(letter["partition"], int) and isinstance(letter["offset"], int)
    assert letter["reason"] == "unknown-fingerprint"
    assert alice not in log.read_text() and bob not in log.read_text()


def test_two_workers_one_killed_midway_lose_no_decision_and_contradict_none(
    broker: EmbeddedBroker, tmp_path: Path, era: int
) -> None:
    bs, persons = broker.bootstrap, [ev.pesel_from(era * 1000 + n) for n in range(150)]
    d = dt.date(era, 2, 1)
    send(bs, "pai.clock.v1", [(b"", ev.tick(dt.datetime(era, 3, 1, 9, tzinfo=dt.UTC)))])
    workers = []
    for name in ("a", "b"):
        log = tmp_path / f"worker-{name}.log"
        process, port = start_worker("services.eligibility", bs, tmp_path / name, log, **WORKER_ENV)
        workers.append((process, port, log))
    try:
        for process, port, log in workers:
            wait_ready(process, port, 40, log)
        send(
            bs,
            "pai.pup.profiles.v1",
            [r for p in persons for r in (ev.registered(p, d, 0), ev.profile(p, "III", d, 1))],
        )
        wait_for(
            lambda: all(len(x) >= 2 for x in decisions_for(bs, set(persons)).values()),
            60,
            "two decisions for every person",
        )

        # the operator view answers on either worker: the owner's state, routed to it
        auth = {"Authorization": f"Bearer {TOKEN}"}
        for person in persons[:8]:
            views = [
                httpx.get(f"http://127.0.0.1:{port}/persons/{person}", headers=auth, timeout=10)
                for _process, port, _log in workers
            ]
            assert [v.status_code for v in views] == [200, 200], [v.text for v in views]
            assert views[0].json() == views[1].json()
            assert views[0].json()["state"]["profile"] == "III"

        first, rest = persons[:50], persons[50:]
        send(bs, "pai.ops.social-assistance.v1", [ev.benefits(p, d, None) for p in first])
        wait_for(
            lambda: sum(len(v) >= 3 for v in decisions_for(bs, set(first)).values()) >= 10,
            30,
            "the first benefits decisions",
        )
        doomed = workers[0][0]
        os.killpg(doomed.pid, signal.SIGKILL)  # midway: its partitions move to the other worker
        doomed.wait(10)
        send(bs, "pai.ops.social-assistance.v1", [ev.benefits(p, d, None) for p in rest])

        def all_decided() -> dict[str, list[Any]] | None:
            now = decisions_for(bs, set(persons))
            done = all(len({x.fields["event_id"] for x in v}) >= 3 for v in now.values())
            return now if done else None

        found = wait_for(all_decided, 90, "the benefits decision of every person")
    finally:
        for process, _port, _log in workers:
            terminate(process, grace_s=15)

    for person in persons:
        by_id: dict[str, object] = {}
        distinct = []
        for decision in found[person]:
            seen_before = by_id.setdefault(str(decision.fields["event_id"]), decision.fields)
            assert seen_before == decision.fields, (
                "a repeat carries the same id and the same content"
            )
            if seen_before is decision.fields:
                distinct.append(summary(decision))
        assert distinct == BECOMES_ELIGIBLE, person
