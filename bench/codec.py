"""Benchmark: Avro single-object encode+decode of a typical event, against orjson.

Both sides handle the same dict (a ``ReferredToProgram`` with dates, a timestamp
and a UUID) in the same run, alternating rounds; the figure to compare across
runs is the ratio, not the absolute rate (the machines are shared).

    .venv/bin/python bench/codec.py [--events 50000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import emit, load_average
from services.runtime.codec import AvroCodec


def typical_event(n: int) -> dict[str, Any]:
    return {
        "event_id": uuid.UUID(int=n),
        "occurred_at": dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC) + dt.timedelta(seconds=n),
        "person_id": "44051401359",
        "pup_code": "1465",
        "referral_id": f"SK/2026/{n:06d}",
        "edition_id": "PAI-1465-2026-1",
        "ops_code": "1465011",
        "start_on": dt.date(2026, 3, 9),
    }


def rate(fn: Callable[[list[dict[str, Any]]], None], events: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    fn(events)
    return len(events) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()

    codec = AvroCodec("participation")
    events = [typical_event(n) for n in range(args.events)]

    def avro(batch: list[dict[str, Any]]) -> None:
        for fields in batch:
            codec.decode(codec.encode("ReferredToProgram", fields))

    def json(batch: list[dict[str, Any]]) -> None:
        for fields in batch:
            orjson.loads(orjson.dumps(fields))

    size_avro = len(codec.encode("ReferredToProgram", events[0]))
    size_json = len(orjson.dumps(events[0]))
    avro_rates, json_rates = [], []
    avro(events[:1000])
    json(events[:1000])
    for _ in range(args.rounds):
        avro_rates.append(rate(avro, events))
        json_rates.append(rate(json, events))
    a, j = statistics.median(avro_rates), statistics.median(json_rates)
    ratios = [x / y for x, y in zip(avro_rates, json_rates, strict=True)]
    print(f"events per round: {args.events}, rounds: {args.rounds} (medians)")
    print(f"avro single-object encode+decode: {a:12,.0f} events/s  ({size_avro} bytes/event)")
    print(f"orjson dumps+loads (baseline):    {j:12,.0f} events/s  ({size_json} bytes/event)")
    print(f"ratio avro/orjson: {a / j:.3f} (per round: {min(ratios):.3f}-{max(ratios):.3f})")
    figures = {"bench": "codec", "avro_per_s": round(a), "orjson_per_s": round(j)}
    emit(figures | {"ratio": round(a / j, 4), "load": load_average()}, args.json)


if __name__ == "__main__":
    main()
