"""Benchmark: a national year (bench/national_events.py) through the three services, to webhooks.

For each broker (Apache Kafka, the embedded tansu) and each number of workers per service
(1, 2), on a broker of its own: the editions and every person's year are written to the
input topics once eligibility, scheduler and notifier workers are ready (processes,
RocksDB under a data directory each, every OPS a partner whose webhooks go to a local
receiver, bench/receiver.py); once the workers are stopped, a raw aiokafka consume ->
produce passthrough of the same input records on the same broker is timed (the same-run
baseline). Measured: wall time from the workers'
readiness (when the inputs start to be written, as fast as one producer can) to the last
webhook; events/s per service (the events it read over the time from then to its last
output record); input-to-webhook p50/p99 of the decision webhooks (the receiver's wall
clock minus the input record's timestamp: the year arrives in seconds, so this is mostly
queueing); peak RSS per service (VmHWM, the largest worker); state on disk (RocksDB).

    .venv/bin/python bench/national.py [--people 1000000] [--seed 1] [--brokers kafka,tansu]
        [--workers 1,2] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench import national_events as country
from bench.eligibility import passthrough
from bench.measure import (
    cpu_seconds,
    directory_bytes,
    emit,
    load_average,
    peak_rss_bytes,
    percentiles,
)
from services.local.embedded_broker import free_port
from services.runtime.codec import AvroCodec
from services.runtime.kafka_admin import create_topics
from services.runtime.processes import terminate, terminate_all
from services.runtime.topic_reader import read_until_now
from services.runtime.topics import TopicSpec
from tests.support.workers import (
    PARTITIONS,
    WORKER_ENV,
    start_broker,
    start_kafka,
    start_worker,
    wait_ready,
)

SERVICES = ("eligibility", "scheduler", "notifier")
OUTPUTS = {"eligibility": "pai.eligibility.decisions.v1", "scheduler": "pai.scheduler.events.v1"}
INPUTS = {
    "eligibility": ("pai.pup.profiles.v1", "pai.ops.social-assistance.v1"),
    "scheduler": (
        "pai.pup.participation.v1",
        "pai.ops.integration-activities.v1",
        "pai.eligibility.decisions.v1",
    ),
    "notifier": ("pai.eligibility.decisions.v1", "pai.scheduler.events.v1"),
}
SECRET = "whsec_" + base64.b64encode(b"benchmark secret of 32 bytes....").decode()
PATH = "national"
QUIET_S = 30.0


async def produce(bootstrap: str, records: list[country.Record]) -> dict[str, int]:
    """Write ``records``; the timestamp of each event id (ms)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    stamps: dict[str, int] = {}
    try:
        futures = []
        for topic, key, value, event_id in records:
            stamp = int(time.time() * 1000)
            stamps[event_id] = stamp
            futures.append(await producer.send(topic, value=value, key=key, timestamp_ms=stamp))
            if len(futures) >= 20_000:
                await asyncio.gather(*futures)
                futures.clear()
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return stamps


async def output_count(bootstrap: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(t, p) for t in OUTPUTS.values() for p in range(PARTITIONS)]
        return sum((await consumer.end_offsets(tps)).values())
    finally:
        await consumer.stop()


def partners_file(directory: Path, receiver_port: int) -> Path:
    partners = [
        {
            "ops_code": country.ops_code(j),
            "name": f"OPS {country.ops_code(j)}",
            "url": f"http://127.0.0.1:{receiver_port}/{PATH}",
            "secret": SECRET,
            "events": ["*"],
            "allow_http": True,
            "allow_private_network": True,
        }
        for j in range(country.OPS)
    ]
    path = directory / "partners.yaml"
    path.write_text(yaml.safe_dump({"partners": partners}))
    return path


def received(port: int) -> dict[str, Any]:
    return dict(httpx.get(f"http://127.0.0.1:{port}/stats/{PATH}", timeout=30).json())


def one_run(
    broker_kind: str, workers: int, records: list[country.Record], directory: Path
) -> dict[str, Any]:
    directory.mkdir(parents=True)
    broker: Any = (
        start_kafka(directory / "kafka")
        if broker_kind == "kafka"
        else start_broker(directory / "tansu.log")
    )
    bs = broker.bootstrap
    receiver_port = free_port()
    receiver = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("receiver.py")), str(receiver_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # terminate() signals its process group
    )
    processes: dict[str, list[tuple[subprocess.Popen[bytes], int, Path]]] = {}
    try:
        asyncio.run(
            create_topics(
                {"bootstrap_servers": bs},
                PARTITIONS,
                specs=[TopicSpec("bench.passthrough", None, "k", "bench")],
            )
        )
        inputs = [r for r in records if r[0] != "pai.pup.program-editions.v1"]
        topics = sorted({r[0] for r in inputs})
        asyncio.run(produce(bs, [r for r in records if r[0] == "pai.pup.program-editions.v1"]))
        env = WORKER_ENV | {
            "PAI_CLOCK": "system",
            "PAI_LOG_LEVEL": "warn",
            "PAI_TOPIC_PARTITIONS": str(PARTITIONS),
            "PAI_PARTNERS_FILE": str(partners_file(directory, receiver_port)),
        }
        for service, n in itertools.product(SERVICES, range(workers)):
            log = directory / f"{service}-{n}.log"
            (directory / "data" / f"{service}-{n}").mkdir(parents=True)
            process, port = start_worker(
                f"services.{service}", bs, directory / "data" / f"{service}-{n}", log, **env
            )
            processes.setdefault(service, []).append((process, port, log))
        for process, port, log in itertools.chain(*processes.values()):
            wait_ready(process, port, 120, log)
        print(f"  {workers} worker(s) per service ready", flush=True)
        ready = time.time()
        stamps = asyncio.run(produce(bs, inputs))
        cpu_at_ready = {
            p.pid: cpu_seconds(p.pid) for p, _, _ in itertools.chain(*processes.values())
        }
        # done: neither the outputs nor the webhooks grew for QUIET_S (a decision with no
        # OPS has no partner: it is dead-lettered by the notifier, not a webhook)
        stable_since, last = time.monotonic(), (-1, -1)
        while time.monotonic() - stable_since < QUIET_S:
            for process, _port, log in itertools.chain(*processes.values()):
                if process.poll() is not None:
                    raise SystemExit(f"a worker exited; see {log}")
            now = (asyncio.run(output_count(bs)), received(receiver_port)["count"])
            if now != last:
                stable_since, last = time.monotonic(), now
            time.sleep(1)
        finished = time.time() - QUIET_S
        rss = {s: max(peak_rss_bytes(p.pid) for p, _, _ in processes[s]) for s in SERVICES}
        cpu = {
            s: sum(cpu_seconds(p.pid) - cpu_at_ready[p.pid] for p, _, _ in processes[s])
            for s in SERVICES
        }
        arrivals = httpx.get(f"http://127.0.0.1:{receiver_port}/ids/{PATH}", timeout=60).json()
        client = {"bootstrap_servers": bs}
        outputs = {s: asyncio.run(read_until_now(client, t)) for s, t in OUTPUTS.items()}
        last_webhook = max(arrivals.values())
        terminate_all([p for p, _, _ in itertools.chain(*processes.values())], 15)
        # the baseline: a raw consume -> produce of the same input records, same broker
        base = asyncio.run(passthrough(bs, topics, "bench.passthrough", len(inputs)))
    finally:
        terminate_all([p for p, _, _ in itertools.chain(*processes.values())], 15)
        terminate(receiver, grace_s=5)
        broker.stop()
    counted = {
        "eligibility": sum(1 for r in inputs if r[0] in INPUTS["eligibility"]),
        "scheduler": sum(1 for r in inputs if r[0] in INPUTS["scheduler"])
        + len(outputs["eligibility"]),
        "notifier": len(outputs["eligibility"]) + len(outputs["scheduler"]),
    }
    ends = {s: max(r.timestamp for r in rs) / 1000 for s, rs in outputs.items() if rs}
    # a service's rate: the events it read over the time from the first input to its last output
    ends["notifier"] = last_webhook
    decisions = AvroCodec("eligibility-decisions")
    latencies = []
    for record in outputs["eligibility"]:
        fields = decisions.decode(record.value).fields
        cause, at = fields.get("cause_event_id"), arrivals.get(str(fields["event_id"]))
        if cause in stamps and at is not None:
            latencies.append(at * 1000 - stamps[cause])
    p50, p99 = percentiles(latencies)
    rates = {s: counted[s] / max(ends.get(s, ready) - ready, 1e-9) for s in SERVICES}
    return {
        "broker": broker_kind,
        "workers": workers,
        "events": len(inputs),
        "webhooks": len(arrivals),
        "decisions": len(outputs["eligibility"]),
        "scheduler_events": len(outputs["scheduler"]),
        "passthrough_per_s": round(base),
        "wall_s": round(finished - ready, 1),
        "events_per_s": {s: round(r) for s, r in rates.items()},
        "ratio": round(rates["eligibility"] / base, 4),
        "p50_ms": p50,
        "p99_ms": p99,
        "peak_rss_mib": {s: round(b / 2**20) for s, b in rss.items()},
        "cpu_s": {s: round(c, 1) for s, c in cpu.items()},
        "state_mib": round(directory_bytes(directory / "data") / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--brokers", default="kafka,tansu")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument(
        "--workdir", type=Path, help="keep logs and data here (default: a temp dir)"
    )
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    load_before = load_average()
    started = time.perf_counter()
    records = country.editions() + [
        r for year in country.people(args.people, args.seed) for r in year
    ]
    generated_s = time.perf_counter() - started
    print(f"{args.people:,} people, {len(records):,} events generated in {generated_s:.0f} s")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        for kind, workers in itertools.product(args.brokers.split(","), args.workers.split(",")):
            run = one_run(kind, int(workers), records, workdir / f"{kind}-{workers}")
            run["load"] = load_average()
            runs.append(run)
            print(
                f"{kind:5} x{workers}: wall {run['wall_s']} s, events/s {run['events_per_s']},"
                f" passthrough {run['passthrough_per_s']}/s (eligibility ratio {run['ratio']}),"
                f" input-to-webhook p50 {run['p50_ms']:.0f} ms p99 {run['p99_ms']:.0f} ms,"
                f" peak RSS MiB {run['peak_rss_mib']}, state {run['state_mib']} MiB,"
                f" {run['webhooks']:,} webhooks, load {run['load']}",
                flush=True,
            )
    emit(
        {
            "bench": "national",
            "people": args.people,
            "seed": args.seed,
            "events": len(records),
            "ratio": min(r["ratio"] for r in runs),
            "p50_ms": max(r["p50_ms"] for r in runs),
            "p99_ms": max(r["p99_ms"] for r in runs),
            "runs": runs,
            "load_before": load_before,
            "cores": os.cpu_count(),
        },
        args.json,
    )


if __name__ == "__main__":
    main()
