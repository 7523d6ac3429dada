"""Benchmark: signed webhooks/s from one notifier worker to a local receiver.

Same run, on a broker of its own, with the receiver in a process of its own
(``bench/receiver.py``) and the notifier as a separate process:
1. baselines: plain httpx POSTs of the same bodies from this process
   (default transport, 16 at a time), and httpx over the aiohttp transport;
2. the notifier working through a backlog of N scheduler events for one healthy
   partner: rate between the first and the last request the receiver answered;
3. the same N beside N/2 events (interleaved) for a second partner that answers at
   once: the healthy partner's rate under that load;
4. the same N beside N/2 events for a second partner that never answers within
   the timeout: the healthy partner's rate. 4 against 3 is what the hanging
   partner costs; 3 against 2 is what the second partner's share of the work costs.

    .venv/bin/python bench/notifier.py [--events 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import yaml
from aiokafka import AIOKafkaProducer
from httpx_aiohttp import AiohttpTransport

from bench.measure import emit, load_average
from services.local.embedded_broker import EmbeddedBroker, free_port
from services.runtime import signing
from services.runtime.codec import AvroCodec
from services.runtime.kafka_admin import create_topics
from services.runtime.processes import terminate
from services.scheduler.domain import Kind
from tests.support.events import pesel_from
from tests.support.workers import start_worker, wait_ready

PARTITIONS = 4
HEALTHY, SECOND = "9900001", "9900002"
SECRET = "whsec_" + base64.b64encode(b"benchmark secret of 32 bytes....").decode()
CODEC = AvroCodec("scheduler-events")


def scheduler_event(n: int, ops: str) -> tuple[bytes, bytes]:
    pesel = pesel_from(n)
    fields = {
        "event_id": uuid.uuid4(),
        "occurred_at": dt.datetime(2026, 3, 2, 5, tzinfo=dt.UTC),
        "person_id": pesel,
        "pup_code": "1465",
        "ops_code": ops,
        "referral_id": f"R-{n}",
        "cycle_id": f"c-{n}",
        "start_on": dt.date(2026, 3, 2),
        "last_day": dt.date(2026, 5, 1),
    }
    return pesel.encode(), CODEC.encode(Kind.CYCLE_STARTED.value, fields)


async def produce_all(bootstrap: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    try:
        futures = [
            await producer.send("pai.scheduler.events.v1", value=v, key=k) for k, v in records
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def post_all(client: httpx.AsyncClient, url: str, bodies: list[bytes], width: int) -> float:
    """POSTs/s of ``bodies`` to ``url``, ``width`` at a time, each signed."""
    key = [signing.secret_key(SECRET)]
    queue = iter(bodies)

    async def lane() -> None:
        for body in queue:
            headers = signing.headers(str(uuid.uuid4()), int(time.time()), body, key)
            response = await client.post(url, content=body, headers=headers)
            assert response.status_code == 204, response.status_code

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(width)))
    return len(bodies) / (time.perf_counter() - started)


async def baselines(url: str, bodies: list[bytes]) -> tuple[float, float]:
    async with httpx.AsyncClient() as plain:
        plain_rate = await post_all(plain, url, bodies, 16)
    async with httpx.AsyncClient(transport=AiohttpTransport()) as fast:
        fast_rate = await post_all(fast, url, bodies, 16)
    return plain_rate, fast_rate


def stats(port: int, path: str) -> dict[str, Any]:
    return httpx.get(f"http://127.0.0.1:{port}/stats/{path}", timeout=5).json()  # type: ignore[no-any-return]


def notifier_run(
    bs: str,
    tmp: Path,
    receiver_port: int,
    path: str,
    records: list[tuple[bytes, bytes]],
    expected: int,
    second_path: str | None,
) -> float:
    """Webhooks/s the receiver answered on ``path`` while one notifier worked the backlog."""
    partners = [
        {
            "ops_code": HEALTHY,
            "name": "healthy",
            "url": f"http://127.0.0.1:{receiver_port}/{path}",
            "secret": SECRET,
            "events": ["*"],
            "allow_http": True,
            "allow_private_network": True,
        }
    ]
    if second_path:
        partners.append(
            partners[0]
            | {
                "ops_code": SECOND,
                "name": "second",
                "url": f"http://127.0.0.1:{receiver_port}/{second_path}",
            }
        )
    partners_file = tmp / f"partners-{path}.yaml"
    partners_file.write_text(yaml.safe_dump({"partners": partners}))
    asyncio.run(produce_all(bs, records))
    log = tmp / f"notifier-{path}.log"
    env = {
        "PAI_PARTNERS_FILE": str(partners_file),
        "PAI_KAFKA_BROKER": "tansu",  # the embedded broker: no idempotent producer
        "PAI_LOG_LEVEL": "warn",
        "PAI_TOPIC_PARTITIONS": str(PARTITIONS),
        "PAI_NOTIFIER_READ_TIMEOUT_S": "10",
    }
    worker, port = start_worker("services.notifier", bs, tmp / f"data-{path}", log, **env)
    try:
        wait_ready(worker, port, 60, log)
        deadline = time.monotonic() + 600
        while (got := stats(receiver_port, path))["count"] < expected:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {got['count']} of {expected} on {path}; see {log}")
            time.sleep(0.2)
    finally:
        terminate(worker, grace_s=15)
    return float((expected - 1) / (got["last"] - got["first"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    n = args.events
    receiver_port = free_port()
    receiver = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "receiver.py"), str(receiver_port)],
        start_new_session=True,
    )
    try:
        with tempfile.TemporaryDirectory() as tmpdir, EmbeddedBroker() as broker:
            tmp, bs = Path(tmpdir), broker.bootstrap
            asyncio.run(create_topics({"bootstrap_servers": bs}, PARTITIONS))
            for _ in range(50):
                try:
                    stats(receiver_port, "x")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            sample = [scheduler_event(i, HEALTHY) for i in range(n)]
            from services.notifier.webhooks import webhook_for

            bodies = [
                webhook_for("CycleStarted", CODEC.decode(v).fields, "seed").body for _, v in sample
            ]
            plain, fast = asyncio.run(
                baselines(f"http://127.0.0.1:{receiver_port}/baseline", bodies)
            )
            alone = notifier_run(bs, tmp, receiver_port, "alone", sample, n, None)
            runs = {}
            for offset, second in ((20, "fast-partner"), (40, "hang-partner")):
                mixed = [
                    scheduler_event(offset * n + i, HEALTHY if i % 3 else SECOND)
                    for i in range(n + n // 2)
                ]
                healthy = sum(1 for i in range(n + n // 2) if i % 3)
                runs[second] = notifier_run(
                    bs, tmp, receiver_port, f"beside-{second}", mixed, healthy, second
                )
    finally:
        terminate(receiver)
    print(f"events: {n}, partitions: {PARTITIONS}, cores: {os.cpu_count()}")
    print(f"baseline: plain httpx POSTs, 16 at a time:      {plain:8,.0f} /s")
    print(f"baseline: httpx over AiohttpTransport, 16:      {fast:8,.0f} /s")
    print(
        f"notifier, one worker, signed webhooks:          {alone:8,.0f} /s"
        f"  (ratio {alone / plain:.2f} of plain httpx, {alone / fast:.2f} of the aiohttp transport)"
    )
    fast_beside, hang_beside = runs["fast-partner"], runs["hang-partner"]
    print(
        f"healthy partner beside a second, fast partner:  {fast_beside:8,.0f} /s"
        f"  ({(1 - fast_beside / alone) * 100:.1f} % below alone: the second one's share)"
    )
    print(
        f"healthy partner beside a hanging partner:       {hang_beside:8,.0f} /s"
        f"  (hanging costs {(1 - hang_beside / fast_beside) * 100:.1f} % against a fast second;"
        f" {(1 - hang_beside / alone) * 100:.1f} % below alone)"
    )
    print("targets: >= 2,000 webhooks/s, >= 0.5 of the baseline, a hanging partner costs < 10 %")
    figures = {"bench": "notifier", "events": n, "plain_httpx_per_s": round(plain)}
    figures |= {"aiohttp_transport_per_s": round(fast), "notifier_per_s": round(alone)}
    figures |= {"ratio": round(alone / plain, 3), "ratio_to_aiohttp": round(alone / fast, 3)}
    figures |= {"beside_fast_per_s": round(fast_beside), "beside_hanging_per_s": round(hang_beside)}
    emit(figures | {"load": load_average()}, args.json)


if __name__ == "__main__":
    main()
