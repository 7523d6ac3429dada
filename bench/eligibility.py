"""Benchmark: one eligibility worker on the embedded broker, against a raw aiokafka passthrough.

In the same run, on a broker of its own:
1. baseline: a raw aiokafka consumer reads N events and produces each to another topic;
2. Faust's ceiling: a worker built by the services' own app factory whose agent does
   nothing but ``take_events(1000, within=0.01)`` and count (``bench/faust_ceiling.py``)
   reads the same N events; rate from ready to its last event, and its ratio to the
   passthrough (``faust_ceiling_ratio``): no Faust service can do better here;
3. sustained: one eligibility worker (a separate process) works through the same N
   events (registration, profile, benefits for N/3 persons: every event changes the
   outcome, so every event yields a decision); rate from ready to the last decision;
4. latency: events offered at a fixed rate; p50/p99 of decision timestamp minus
   input timestamp (both stamped by producers on this machine).

    .venv/bin/python bench/eligibility.py [--events 30000] [--rate 1000] [--seconds 10] [--json]

Beside the rates: the share of the machine's cores the broker, the worker and the
bench's own clients took during the sustained phase, the worker's CPU microseconds per
event (the figure a hot-path change moves even when other work slows the rates on this
shared machine), the load average, and how many
times the worker's lost-records check read a partition again (it should be none: the
stalls of issue 18).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.measure import CoreShares, emit, load_average, percentiles
from services.local.embedded_broker import EmbeddedBroker
from services.runtime.codec import AvroCodec
from services.runtime.kafka_admin import create_topics
from services.runtime.processes import terminate
from services.runtime.topics import TopicSpec
from tests.support import events as ev
from tests.support.workers import start_worker, wait_ready

PARTITIONS = 4
DAY = dt.date(2026, 1, 5)
ROOT = Path(__file__).resolve().parents[1]
INPUTS = ["pai.pup.profiles.v1", "pai.ops.social-assistance.v1"]
WORKER_SETTINGS = {  # the bench's workers, the ceiling's included
    "PAI_CLOCK": "system",
    "PAI_KAFKA_BROKER": "tansu",  # the embedded broker: no idempotent producer
    "PAI_LOG_LEVEL": "warn",
    "PAI_TOPIC_PARTITIONS": str(PARTITIONS),
}


def person_events(first_person: int, persons: int) -> list[tuple[str, bytes, bytes]]:
    out = []
    for n in range(first_person, first_person + persons):
        pesel = ev.pesel_from(n)
        out.append(("pai.pup.profiles.v1", *ev.registered(pesel, DAY, 0)))
        out.append(("pai.pup.profiles.v1", *ev.profile(pesel, "III", DAY, 1)))
        out.append(("pai.ops.social-assistance.v1", *ev.benefits(pesel, DAY, None, 2)))
    return out


def create_bench_topics(bootstrap: str) -> None:
    """Every contract topic and the passthrough's output, ``PARTITIONS`` partitions each."""
    client = {"bootstrap_servers": bootstrap}
    asyncio.run(create_topics(client, PARTITIONS))
    passthrough_topic = TopicSpec("bench.passthrough", None, "k", "bench")
    asyncio.run(create_topics(client, PARTITIONS, specs=[passthrough_topic]))


async def produce_all(bootstrap: str, records: list[tuple[str, bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    try:
        futures = [await producer.send(t, value=v, key=k) for t, k, v in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def passthrough(bootstrap: str, topics: list[str], out: str, count: int) -> float:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        max_poll_records=5000,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await consumer.start()
    await producer.start()
    try:
        consumer.assign([TopicPartition(t, p) for t in topics for p in range(PARTITIONS)])
        started, done, futures = time.perf_counter(), 0, []
        while done < count:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    futures.append(await producer.send(out, value=record.value, key=record.key))
                    done += 1
        await asyncio.gather(*futures)
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()
        await producer.stop()


def faust_ceiling(
    bootstrap: str,
    topics: list[str],
    count: int,
    directory: Path,
    broker_pid: int,
    name: str = "bench-ceiling",
    **env: str,
) -> tuple[float, dict[str, float]]:
    """Events/s of a counting Faust worker (``bench/faust_ceiling.py``, consumer group
    ``pai-<name>``, more settings in ``env``) over the ``count`` records of ``topics``, from
    its readiness to its last event; the cores each process took, and the worker's CPU
    microseconds per event (``worker_cpu_us_per_event``)."""
    log = directory / f"{name}.log"
    worker, port = start_worker(
        "bench.faust_ceiling",
        bootstrap,
        directory / f"{name}-data",
        log,
        **(WORKER_SETTINGS | env),
        BENCH_TOPICS=",".join(topics),
        BENCH_NAME=name,
        PYTHONPATH=str(ROOT),
    )
    try:
        wait_ready(worker, port, 60, log)
        ready_at = time.time()
        cores = CoreShares({"broker": broker_pid, "worker": worker.pid, "bench": os.getpid()})
        deadline = ready_at + 600
        while (counted := httpx.get(f"http://127.0.0.1:{port}/bench/count").json())[
            "events"
        ] < count:
            if time.time() > deadline:
                raise SystemExit(f"the ceiling worker counted {counted} of {count}; see {log}")
            time.sleep(0.2)
        shares = cores.stop()
    finally:
        terminate(worker, grace_s=15)
    rate = counted["events"] / (counted["last_at"] - ready_at)
    return rate, shares | {"worker_cpu_us_per_event": cores.micros_per("worker", count)}


def against_baselines(
    service: str, rate: float, base: float, ceiling: float, ceiling_shares: dict[str, float]
) -> dict[str, Any]:
    """The JSON figures of a service's ``rate`` against the same run's passthrough and
    Faust ceiling (``ratio`` is the one to the passthrough)."""
    return {
        "passthrough_per_s": round(base),
        "faust_ceiling_per_s": round(ceiling),
        "faust_ceiling_ratio": round(ceiling / base, 4),
        "faust_ceiling_cpu_share": ceiling_shares,
        f"{service}_per_s": round(rate),
        "ratio": round(rate / base, 4),
        "ratio_to_ceiling": round(rate / ceiling, 4),
    }


async def count_decisions(
    bootstrap: str, expected: int, timeout_s: float
) -> tuple[float, list[Any]]:
    consumer = AIOKafkaConsumer(
        "pai.eligibility.decisions.v1",
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        max_poll_records=5000,
    )
    await consumer.start()
    seen: list[Any] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(seen) < expected and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                seen.extend(records)
        return time.perf_counter(), seen
    finally:
        await consumer.stop()


async def offered_load(
    bootstrap: str, records: list[tuple[str, bytes, bytes]], rate: int
) -> dict[str, int]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0, acks="all")
    await producer.start()
    sent_at: dict[str, int] = {}
    codecs = {
        "pai.pup.profiles.v1": AvroCodec("profiles"),
        "pai.ops.social-assistance.v1": AvroCodec("social-assistance"),
    }
    try:
        start = time.perf_counter()
        futures = []
        for i, (topic, key, value) in enumerate(records):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            stamp = int(time.time() * 1000)
            event_id = str(codecs[topic].decode(value).fields["event_id"])
            sent_at[event_id] = stamp
            futures.append(await producer.send(topic, value=value, key=key, timestamp_ms=stamp))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return sent_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    load_before = load_average()
    persons = args.events // 3
    events = person_events(0, persons)
    n = len(events)

    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker() as broker:
        bs = broker.bootstrap
        create_bench_topics(bs)
        asyncio.run(produce_all(bs, events))

        base = asyncio.run(passthrough(bs, INPUTS, "bench.passthrough", n))
        broker_pid = broker._process.pid if broker._process else os.getpid()
        ceiling, ceiling_shares = faust_ceiling(bs, INPUTS, n, Path(tmp), broker_pid)

        log = Path(tmp) / "worker.log"
        worker, port = start_worker(
            "services.eligibility", bs, Path(tmp) / "data", log, **WORKER_SETTINGS
        )
        try:
            started = time.perf_counter()
            ready_after = wait_ready(worker, port, 60, log)
            ready_at = started + ready_after
            cores = CoreShares({"broker": broker_pid, "worker": worker.pid, "bench": os.getpid()})
            finished, decisions = asyncio.run(count_decisions(bs, n, timeout_s=600))
            shares = cores.stop(finished - ready_at)
            worker_us = cores.micros_per("worker", n)
            if len(decisions) < n:
                raise SystemExit(f"only {len(decisions)} of {n} decisions; see {log}")
            sustained = n / (finished - ready_at)

            load = person_events(persons, args.rate * args.seconds // 3)
            sent_at = asyncio.run(offered_load(bs, load, args.rate))
            _, all_decisions = asyncio.run(count_decisions(bs, n + len(load), timeout_s=120))
        finally:
            terminate(worker, grace_s=15)
        rewinds = log.read_text(errors="replace").count("no longer has the records")

    codec = AvroCodec("eligibility-decisions")
    latencies = []
    for record in all_decisions:
        cause = codec.decode(record.value).fields["cause_event_id"]
        if cause in sent_at:
            latencies.append(record.timestamp - sent_at[cause])
    p50, p99 = percentiles(latencies)

    print(f"events: {n} ({persons} persons x 3), partitions: {PARTITIONS}, cores: {os.cpu_count()}")
    print(f"raw aiokafka passthrough (baseline): {base:10,.0f} events/s")
    print(
        f"Faust's ceiling (take_events, count): {ceiling:10,.0f} events/s"
        f"  (ratio {ceiling / base:.3f}; cores: broker {ceiling_shares['broker']:.0%},"
        f" worker {ceiling_shares['worker']:.0%}, bench {ceiling_shares['bench']:.0%})"
    )
    print(
        f"eligibility, one worker, sustained:  {sustained:10,.0f} events/s"
        f"  (ratio {sustained / base:.3f}; worker ready after {ready_after:.1f} s)"
    )
    print(
        f"latency at {args.rate} events/s offered for {args.seconds} s:"
        f" p50 {p50:.0f} ms, p99 {p99:.0f} ms ({len(latencies)} of {len(load)} matched)"
    )
    print(
        f"cores taken while sustained: broker {shares['broker']:.0%},"
        f" worker {shares['worker']:.0%}, bench clients {shares['bench']:.0%}"
        f" (of {os.cpu_count()}); worker CPU per event {worker_us:.0f} µs (the ceiling's"
        f" {ceiling_shares['worker_cpu_us_per_event']:.0f} µs); partitions read again: {rewinds}"
    )
    print(f"load average before / after: {load_before} / {load_average()}")
    print("targets: >= 10,000 events/s, >= 0.15 of the passthrough, p99 < 100 ms")
    emit(
        {
            "bench": "eligibility",
            "events": n,
            **against_baselines("eligibility", sustained, base, ceiling, ceiling_shares),
            "latency_rate": args.rate,
            "p50_ms": p50,
            "p99_ms": p99,
            "cpu_share": shares,
            "worker_cpu_us_per_event": worker_us,
            "rewinds": rewinds,
            "load_before": load_before,
            "load_after": load_average(),
        },
        args.json,
    )


if __name__ == "__main__":
    main()
