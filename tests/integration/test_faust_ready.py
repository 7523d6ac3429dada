"""A worker from the shared app factory is ready (partitions assigned, tables recovered) fast,
and a restarted worker recovers its table in full.

With Faust's default 60 s session timeout the embedded broker holds the group's
JoinGroup for 30 s; the factory's default must bring a first start under 10 s.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from services.local.embedded_broker import EmbeddedBroker
from services.runtime.processes import terminate
from tests.integration.kafka_helpers import produce
from tests.integration.test_broker_roundtrip import profile_event
from tests.support.workers import start_worker, wait_ready

pytestmark = pytest.mark.integration
WORKER = "tests.integration.minimal_worker"
EVENTS = 40


@pytest.fixture(autouse=True)
def default_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PAI_"):
            monkeypatch.delenv(name)


def seen(port: int, expected: dict[str, int], timeout_s: float = 20) -> dict[str, int]:
    """The worker's table for this test's keys once it equals ``expected`` (or at the timeout).

    The topic is the contract's, shared with other tests: other keys are theirs."""
    deadline = time.monotonic() + timeout_s
    table: dict[str, int] = {}
    while time.monotonic() < deadline:
        everything = httpx.get(f"http://127.0.0.1:{port}/seen", timeout=2).json()
        table = {key: count for key, count in everything.items() if key in expected}
        if table == expected:
            break
        time.sleep(0.2)
    return table


def test_ready_within_10_s_and_a_restart_recovers_the_whole_table(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    records = [profile_event(n) for n in range(EVENTS)]
    expected = dict(Counter(key.decode() for key, _ in records))
    asyncio.run(produce(broker.bootstrap, "pai.pup.profiles.v1", records))
    data, log = tmp_path / "data", tmp_path / "worker.log"

    process, port = start_worker(WORKER, broker.bootstrap, data, log)
    try:
        first = wait_ready(process, port, 30, log)
        assert httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=2).status_code == 200
        assert seen(port, expected) == expected
    finally:
        terminate(process, grace_s=15)
    assert first < 10, f"ready after {first:.1f} s with the factory's default settings"

    # restarts: a smaller session timeout only to shorten the wait for the old member
    fast = {"PAI_KAFKA_SESSION_TIMEOUT_S": "6", "PAI_KAFKA_HEARTBEAT_INTERVAL_S": "1"}
    for keep_data in (True, False):
        # kept: resumes at its stored changelog offsets; lost: rebuilt from the changelog
        if not keep_data:
            shutil.rmtree(data)
        process, port = start_worker(WORKER, broker.bootstrap, data, log, **fast)
        try:
            wait_ready(process, port, 40, log)
            assert seen(port, expected, timeout_s=5) == expected, f"data kept: {keep_data}"
        finally:
            terminate(process, grace_s=15)


def test_a_worker_that_is_not_ready_says_so(broker: EmbeddedBroker, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    process, port = start_worker(WORKER, broker.bootstrap, tmp_path, log)
    try:
        deadline = time.monotonic() + 20
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code
            except httpx.TransportError:
                time.sleep(0.05)
        # the web server answers before the group has formed: 503 while starting
        assert status == 503
        wait_ready(process, port, 30, log)
    finally:
        terminate(process, grace_s=15)
