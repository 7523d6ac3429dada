"""A Faust worker that only counts its input: the ceiling of any Faust service here.

Built by the factory every service uses (:func:`services.runtime.faust_app.create_app`,
so the same consumer, fetch, session and producer settings), with one agent on the
topics named in ``BENCH_TOPICS`` (comma-separated) that does nothing but
``stream.take_events(1000, within=0.01)`` (what the eligibility and scheduler agents
iterate) and count. ``GET /bench/count`` answers how many events it has counted and the
wall-clock time (``time.time()``) it counted the last of them, so a bench on the same
machine computes the rate from the worker's readiness to its last event without
polling often. No decoding, no table, no sends: whatever a service does per event comes
on top of this.

    BENCH_TOPICS=pai.pup.profiles.v1,... [BENCH_NAME=bench-ceiling] python -m bench.faust_ceiling
"""

from __future__ import annotations

import os
import time
from typing import Any

import faust
from faust.web import Request, Response, View

from services.runtime.faust_app import create_app
from services.runtime.settings import Settings
from services.runtime.worker import run_worker


def counting_app(name: str, topics: list[str], settings: Settings) -> faust.App:
    """The app ``pai-<name>``: the factory's, one counting agent, ``GET /bench/count``."""
    app = create_app(name, settings)
    counted = {"events": 0, "last_at": 0.0}

    async def count(stream: faust.StreamT[bytes]) -> Any:
        async for events in stream.take_events(1000, within=0.01):  # type: ignore[attr-defined]
            counted["events"] += len(events)
            counted["last_at"] = time.time()
            yield None

    app.agent(app.topic(*topics), name="bench-ceiling-count")(count)

    @app.page("/bench/count")
    class Count(View):
        async def get(self, request: Request) -> Response:
            return self.json(counted)

    return app


def main() -> None:
    name = os.environ.get("BENCH_NAME", "bench-ceiling")
    topics = os.environ["BENCH_TOPICS"].split(",")
    run_worker(name, lambda settings: counting_app(name, topics, settings))


if __name__ == "__main__":
    main()
