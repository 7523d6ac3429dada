"""Running a service's workers as processes against the session broker, and reading its output."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer

from services.runtime.codec import AvroCodec, Decoded
from services.runtime.deadletter import read_error_headers


async def read_topic(bootstrap: str, topic: str, seconds: float = 1.0) -> list[Any]:
    """Every record on ``topic`` now (reads until nothing new arrives for ``seconds``)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=int(seconds * 1000))
            if not batches:
                return records
            for batch in batches.values():
                records.extend(batch)
    finally:
        await consumer.stop()


def decisions_for(bootstrap: str, persons: set[str]) -> dict[str, list[Decoded]]:
    codec = AvroCodec("eligibility-decisions")
    found: dict[str, list[Decoded]] = {p: [] for p in persons}
    for record in asyncio.run(read_topic(bootstrap, "pai.eligibility.decisions.v1")):
        decision = codec.decode(record.value)
        if decision.fields["person_id"] in persons:
            found[decision.fields["person_id"]].append(decision)
    return found


def dead_letters_from(bootstrap: str, topic: str, offsets_after: int = -1) -> list[dict[str, str]]:
    letters = []
    for record in asyncio.run(read_topic(bootstrap, "pai.dlq.v1")):
        headers = read_error_headers(list(record.headers))
        if headers.get("topic") == topic and int(headers.get("offset", -1)) > offsets_after:
            letters.append(headers | {"key": (record.key or b"").decode(errors="replace")})
    return letters


def wait_for(predicate, timeout_s: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}; last: {last!r}")


def log_tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else "(no log)"
