"""Benchmark: the scheduler's due index with 1,000,000 open cycles stored in RocksDB.

The schedules are written to a RocksDB database opened as Faust's store opens
its partitions (rocksdict, raw mode), in the table's value format
(:mod:`services.scheduler.stored`). Every person has one running cycle; 1,000
of them have a deadline due on the benchmark's day, the rest later. Same run:

1. baseline: a full scan of the stored values comparing each next-due date
   with today, which is what a tick without an index would cost;
2. rebuild: :meth:`Timers.rebuild` over every stored value (what a worker does
   when partitions are assigned), against a bare iteration of the database;
3. empty tick: :meth:`Timers.fire` with nothing due (median of 1,000);
4. busy tick: :meth:`Timers.fire` with 1,000 persons due, plus encoding their
   events to Avro and writing their schedules to RocksDB (median of 5; the
   persons are put back as due between rounds);
5. memory per open cycle in the index, from tracemalloc around a rebuild.

Kafka is not in these figures: the events and changelog records of a tick go
through Faust's producer afterwards (``docs/benchmarks.md`` says what that costs).

    .venv/bin/python bench/scheduler.py [--cycles 1000000] [--due 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rocksdict import Options, Rdict

from bench.measure import emit, load_average
from services.scheduler import domain, outbound, stored
from services.scheduler.domain import Config, Edition, Schedule
from services.scheduler.timers import Timers

CONFIG = Config()
TODAY = dt.date(2026, 6, 1)
EDITION = Edition(
    "ED-1",
    "1465",
    frozenset({"1465011"}),
    dt.date(2026, 1, 1),
    dt.date(2026, 1, 1),
    dt.date(2027, 12, 31),
)
NOW = dt.datetime(2026, 6, 1, 4, tzinfo=dt.UTC)


def distinct_pesel(n: int) -> str:
    """The n-th of up to 3,360,000 distinct valid PESELs (serial, then day, month, year)."""
    rest, serial = divmod(n, 10_000)
    rest, day = divmod(rest, 28)
    year, month = divmod(rest, 12)
    body = f"{year:02d}{month + 1:02d}{day + 1:02d}{serial:04d}"
    weights = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
    check = (10 - sum(w * int(c) for w, c in zip(weights, body, strict=True)) % 10) % 10
    return body + str(check)


def template(start: dt.date, fired_by: dt.date) -> tuple[str, dt.date | None]:
    """A schedule with one cycle from ``start``, its deadlines up to ``fired_by`` emitted."""
    schedule = Schedule(person_id="PESEL______")
    domain.on_decision(schedule, dt.date(2026, 1, 1), True)
    domain.on_referral(
        schedule,
        "EVENT",
        "REFERRAL",
        "ED-1",
        "1465",
        "1465011",
        start,
        EDITION,
        min(start, fired_by),
        CONFIG,
    )
    domain.on_day(schedule, fired_by, CONFIG)
    return schedule.model_dump_json(), domain.next_due(schedule, CONFIG)


def load(db: Rdict, cycles: int, due: int) -> None:
    """``cycles`` persons: ``due`` of them with a deadline on TODAY, the rest later."""
    yesterday = TODAY - dt.timedelta(days=1)
    later = []
    for offset in range(-50, 60):
        text, next_due = template(TODAY + dt.timedelta(days=offset), yesterday)
        if next_due is not None and next_due > TODAY:
            later.append((text, next_due))
    due_today = next(
        (t, d)
        for offset in range(-50, 60)
        for t, d in [template(TODAY + dt.timedelta(days=offset), yesterday)]
        if d == TODAY
    )
    for n in range(cycles):
        text, next_due = due_today if n < due else later[n % len(later)]
        pesel = distinct_pesel(n)
        body = text.replace("PESEL______", pesel).replace("REFERRAL", f"R-{n}")
        db[pesel.encode()] = next_due.isoformat().encode() + b"\n" + body.encode()


def items(db: Rdict) -> Iterator[tuple[bytes, bytes]]:
    """The stored (key, value) pairs, as Faust's RocksDB store yields them."""
    yield from db.items()


def is_due(raw: bytes) -> bool:
    due = stored.due_of(raw)
    return due is not None and due <= TODAY


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="pai-bench-scheduler-"))
    db = Rdict(str(workdir / "schedules"), Options(raw_mode=True))
    try:
        started = time.perf_counter()
        load(db, args.cycles, args.due)
        print(f"loaded {args.cycles:,} schedules in {time.perf_counter() - started:.1f} s")

        scan_s = timed(lambda: sum(1 for _, raw in items(db) if is_due(raw)))
        iterate_s = timed(lambda: sum(1 for _ in items(db)))

        timers = Timers(CONFIG)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        rebuild_s = timed(lambda: timers.rebuild(items(db)))
        index_bytes = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        assert len(timers) == args.cycles

        empty = []
        for _ in range(1000):
            empty.append(timed(lambda: timers.fire(db.get, TODAY - dt.timedelta(days=1))))

        scratch = Rdict(str(workdir / "written"), Options(raw_mode=True))
        busy, emitted = [], 0
        for _ in range(5):
            started = time.perf_counter()
            fired = timers.fire(db.get, TODAY)
            values = [
                outbound.encode(item.schedule.person_id, event, NOW)
                for item in fired
                for event in item.events
            ]
            for item in fired:
                scratch[item.key] = item.value  # the table write, RocksDB part
                timers.settle(item.key, item.next_due)
            busy.append(time.perf_counter() - started)
            assert len(fired) == args.due, len(fired)
            emitted = len(values)
            timers.retry(fired, TODAY)  # due again for the next round
        scratch.close()
        Rdict.destroy(str(workdir / "written"))

        empty_ms = statistics.median(empty) * 1000
        busy_ms = statistics.median(busy) * 1000
        print(
            f"baseline full scan of next-due dates: {scan_s:.2f} s"
            f" (bare iteration {iterate_s:.2f} s)\n"
            f"rebuild index: {rebuild_s:.2f} s, ratio to bare iteration"
            f" {rebuild_s / iterate_s:.2f} (target < 30 s)\n"
            f"index memory: {index_bytes / args.cycles:.0f} bytes per open cycle"
            f" ({index_bytes / 2**20:.0f} MiB)\n"
            f"empty tick: median {empty_ms * 1000:.1f} µs, max {max(empty) * 1e6:.0f} µs,"
            f" ratio to the full scan {statistics.median(empty) / scan_s:.2e} (target < 1 ms)\n"
            f"tick with {args.due} due: median {busy_ms:.1f} ms"
            f" (runs {', '.join(f'{b * 1000:.0f}' for b in busy)}), {emitted} events encoded,"
            f" ratio to the full scan {statistics.median(busy) / scan_s:.3f} (target < 100 ms)"
        )
        figures = {"bench": "scheduler", "cycles": args.cycles, "due": args.due}
        figures |= {"scan_s": scan_s, "rebuild_s": rebuild_s, "ratio": busy_ms / 1000 / scan_s}
        figures |= {"busy_tick_ms": busy_ms, "empty_tick_ms": empty_ms, "load": load_average()}
        emit(figures | {"index_bytes_per_cycle": index_bytes / args.cycles}, args.json)
    finally:
        db.close()
        Rdict.destroy(str(workdir / "schedules"))
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
