"""A topic clock that ticks only after the events it follows: a date the events set in
the future of the day they were decided on still makes the person eligible on it.

Needs a broker whose clock topic has never ticked, so it starts one of its own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from services.runtime.processes import terminate
from tests.integration.kafka_helpers import produce
from tests.integration.service_helpers import decisions_for, wait_for
from tests.support import events as ev
from tests.support.workers import WORKER_ENV, start_broker, start_worker, wait_ready


def test_a_contract_starting_after_the_decision_counts_once_the_clock_reaches_it(
    tmp_path: Path,
) -> None:
    broker = start_broker(tmp_path / "tansu.log")
    log = tmp_path / "eligibility.log"
    worker, port = start_worker(
        "services.eligibility", broker.bootstrap, tmp_path / "data", log, **WORKER_ENV
    )
    pesel = ev.pesel_from(5_100_001)
    try:
        wait_ready(worker, port, 60, log)

        def decided() -> list[dict[str, object]]:
            return [d.fields for d in decisions_for(broker.bootstrap, {pesel})[pesel]]

        # no tick yet: decided on the events' own date (2026-03-01), before the contract
        contract = ev.contract(pesel, dt.date(2026, 4, 1), dt.date(2026, 12, 31))
        asyncio.run(produce(broker.bootstrap, "pai.ops.social-assistance.v1", [contract]))
        wait_for(decided, 60, "the decision on the contract")
        profile = [
            ev.registered(pesel, dt.date(2026, 2, 2)),
            ev.profile(pesel, "III", dt.date(2026, 2, 2)),
        ]
        asyncio.run(produce(broker.bootstrap, "pai.pup.profiles.v1", profile))
        first = wait_for(lambda: len(decided()) >= 3 and decided(), 60, "three decisions")
        assert not first[-1]["eligible"]
        assert first[-1]["reasons"] == ["NO_SOCIAL_ASSISTANCE"]
        # the clock then moves past the contract's first day
        tick = ev.tick(dt.datetime(2026, 4, 10, 4, tzinfo=dt.UTC))
        asyncio.run(produce(broker.bootstrap, "pai.clock.v1", [(b"", tick)]))
        last = wait_for(lambda: (d := decided()) and d[-1]["eligible"] and d, 30, "eligible")
        assert last[-1]["decided_on"] == dt.date(2026, 4, 10)
        assert last[-1]["cause"] == "VALIDITY_EXPIRED"
    finally:
        terminate(worker)
        broker.stop()
