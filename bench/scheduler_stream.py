"""Benchmark: one scheduler worker's throughput on the embedded broker, against a raw passthrough.

In the same run, on a broker of its own, 4 partitions: for N persons an eligible
decision (``pai.eligibility.decisions.v1``), a referral (``pai.pup.participation.v1``)
and W weekly integration-hours reports (``pai.ops.integration-activities.v1``); one
program edition and one clock tick (the topic clock, 2026-03-02, the cycles' first day).

1. once the scheduler worker (a process of its own, RocksDB, changelog) is ready the
   decisions are written; once it has handled them the referrals, once it has handled
   those the hours; it handles them as they come (the bench's producer beside it, as
   fast as one producer can, so a backlog forms at once). In three stages because Faust
   interleaves a backlog of several topics record by record: a referral taken before
   its person's decision is rejected, an hours report before its referral
   dead-lettered, and with everything written at once the work would depend on that
   interleaving. Every person gives two output records (``ReferralAccepted``,
   ``CycleStarted``); the hours give none, so the rate runs from readiness to the last
   input handled (the worker's ``pai_event_latency_seconds_count``: records whose
   effects are acknowledged, read every 50 ms, so each stage's end is known within
   50 ms, during which the worker may idle), not to the last output;
2. baseline: a raw aiokafka consume -> produce of the same records
   (``bench/eligibility.py``'s passthrough);
3. Faust's ceiling over the same records (``bench/faust_ceiling.py``).

Beside the rates: the cores the broker, the worker and the bench took, and the worker's
CPU microseconds per record (what a hot-path change moves even when other work on this
shared machine slows the rates).

    .venv/bin/python bench/scheduler_stream.py [--persons 3000] [--weeks 8] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.eligibility import (
    PARTITIONS,
    WORKER_SETTINGS,
    against_baselines,
    create_bench_topics,
    faust_ceiling,
    passthrough,
    produce_all,
)
from bench.measure import CoreShares, emit, load_average
from services.local.embedded_broker import EmbeddedBroker
from services.runtime.codec import AvroCodec
from services.runtime.deadletter import read_error_headers
from services.runtime.processes import terminate
from services.runtime.topic_reader import read_until_now
from tests.support import events as ev
from tests.support.workers import start_worker, wait_ready

START = dt.date(2026, 3, 2)  # a Monday: the cycles' first day and the clock's
NOW = dt.datetime(2026, 3, 2, 5, tzinfo=dt.UTC)  # 06:00 in Warsaw
INPUTS = [
    "pai.eligibility.decisions.v1",
    "pai.pup.participation.v1",
    "pai.ops.integration-activities.v1",
]
Record = tuple[str, bytes, bytes]


def workload(persons: int, weeks: int) -> list[list[Record]]:
    """The decisions, the referrals and the hours reports of ``persons`` persons."""
    stages: list[list[Record]] = [[], [], []]
    for n in range(persons):
        pesel, referral = ev.pesel_from(n), f"R-{n}"
        stages[0].append((INPUTS[0], *ev.decision(pesel, True, START)))
        stages[1].append((INPUTS[1], *ev.referred(pesel, referral, START)))
        for week in range(weeks):
            monday = START + dt.timedelta(weeks=week)
            stages[2].append((INPUTS[2], *ev.hours(pesel, referral, monday, 10.0)))
    return stages


def handled(port: int) -> int:
    """Input records whose effects the worker has had acknowledged (its own metric)."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        if family.name == "pai_event_latency_seconds":
            for sample in family.samples:
                if sample.name.endswith("_count"):
                    return int(sample.value)
    return 0


def wait_handled(port: int, count: int, log: Path) -> float:
    """``time.time()`` when the worker has handled ``count`` records (read every 50 ms)."""
    deadline = time.time() + 600
    while (done := handled(port)) < count:
        if time.time() > deadline:
            raise SystemExit(f"the scheduler handled {done} of {count} records; see {log}")
        time.sleep(0.05)
    return time.time()


def outputs(bootstrap: str) -> tuple[dict[str, int], list[str], int]:
    """The scheduler's events by kind, the dead letters, and the last output's timestamp."""
    client = {"bootstrap_servers": bootstrap}
    events = asyncio.run(read_until_now(client, "pai.scheduler.events.v1"))
    letters = asyncio.run(read_until_now(client, "pai.dlq.v1"))
    codec = AvroCodec("scheduler-events")
    kinds = Counter(codec.decode(record.value).type for record in events)
    last_ms = max((record.timestamp for record in [*events, *letters]), default=0)
    reasons = [str(read_error_headers(letter.headers)) for letter in letters]
    return dict(kinds), reasons, last_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=3000)
    parser.add_argument("--weeks", type=int, default=8, help="hours reports per person")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    load_before = load_average()
    stages = workload(args.persons, args.weeks)
    n = sum(len(stage) for stage in stages)

    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker() as broker:
        bs = broker.bootstrap
        create_bench_topics(bs)
        edition = ev.edition(
            "ED-1", dt.date(2026, 2, 1), dt.date(2026, 1, 1), dt.date(2026, 12, 31)
        )
        setup = [("pai.pup.program-editions.v1", *edition), ("pai.clock.v1", b"", ev.tick(NOW))]
        asyncio.run(produce_all(bs, setup))
        broker_pid = broker._process.pid if broker._process else os.getpid()

        log = Path(tmp) / "worker.log"
        settings = WORKER_SETTINGS | {"PAI_CLOCK": "topic"}
        worker, port = start_worker("services.scheduler", bs, Path(tmp) / "data", log, **settings)
        try:
            ready_after = wait_ready(worker, port, 60, log)
            ready_at = time.time()
            cores = CoreShares({"broker": broker_pid, "worker": worker.pid, "bench": os.getpid()})
            handled_at = []
            for done, stage in enumerate(stages, start=1):
                asyncio.run(produce_all(bs, stage))
                handled_at.append(wait_handled(port, sum(map(len, stages[:done])), log))
            finished = handled_at[-1]
            shares = cores.stop()
            worker_us = cores.micros_per("worker", n)
        finally:
            terminate(worker, grace_s=15)
        kinds, letters, last_ms = outputs(bs)
        if letters or kinds != {"ReferralAccepted": args.persons, "CycleStarted": args.persons}:
            raise SystemExit(f"unexpected outputs {kinds}, dead letters {letters}")
        sustained = n / (finished - ready_at)

        base = asyncio.run(passthrough(bs, INPUTS, "bench.passthrough", n))
        ceiling, ceiling_shares = faust_ceiling(bs, INPUTS, n, Path(tmp), broker_pid)

    print(
        f"records: {n} ({args.persons} persons x (decision, referral, {args.weeks} hours reports)),"
        f" partitions: {PARTITIONS}, cores: {os.cpu_count()}"
    )
    print(f"raw aiokafka passthrough (baseline): {base:10,.0f} records/s")
    print(
        f"Faust's ceiling (take_events, count): {ceiling:10,.0f} records/s  ({ceiling / base:.3f})"
    )
    print(
        f"scheduler, one worker, sustained:     {sustained:10,.0f} records/s"
        f"  (ratio {sustained / base:.3f}; ready after {ready_after:.1f} s; from then, decisions"
        f" handled after {handled_at[0] - ready_at:.1f} s,"
        f" referrals {handled_at[1] - ready_at:.1f} s,"
        f" hours {finished - ready_at:.1f} s; last output {last_ms / 1000 - ready_at:.1f} s)"
    )
    print(
        f"cores taken: broker {shares['broker']:.0%}, worker {shares['worker']:.0%},"
        f" bench {shares['bench']:.0%} (of {os.cpu_count()}); worker CPU per record"
        f" {worker_us:.0f} µs (the ceiling's {ceiling_shares['worker_cpu_us_per_event']:.0f} µs)"
    )
    print(f"load average before / after: {load_before} / {load_average()}")
    print("target: >= 0.15 of the passthrough")
    emit(
        {
            "bench": "scheduler_stream",
            "records": n,
            "persons": args.persons,
            **against_baselines("scheduler", sustained, base, ceiling, ceiling_shares),
            "stages_handled_s": [round(at - ready_at, 3) for at in handled_at],
            "outputs": kinds,
            "cpu_share": shares,
            "worker_cpu_us_per_event": worker_us,
            "load_before": load_before,
            "load_after": load_average(),
        },
        args.json,
    )


if __name__ == "__main__":
    main()
