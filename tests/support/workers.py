"""Starting the broker and service processes in tests, and waiting for their health views."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from services.runtime.broker import EmbeddedBroker, free_port
from services.runtime.kafka_admin import create_topics

PARTITIONS = 4  # of every topic the tests create
TOKEN = "operator-token-for-the-tests-0123456789"
WORKER_ENV = {  # what service tests run workers with: the topic clock, short sessions
    "PAI_CLOCK": "topic",
    "PAI_WEB_HOST": "127.0.0.1",
    "PAI_ADMIN_TOKEN": TOKEN,
    "PAI_KAFKA_SESSION_TIMEOUT_S": "6",
    "PAI_KAFKA_HEARTBEAT_INTERVAL_S": "1",
}


def start_broker(log: Path, port: int | None = None) -> EmbeddedBroker:
    """An embedded broker with every contract topic; fails the test if either fails."""
    broker = EmbeddedBroker(port=port, log_file=log).start()
    try:
        results = asyncio.run(create_topics({"bootstrap_servers": broker.bootstrap}, PARTITIONS))
        failed = [r for r in results if r.error]
        assert not failed, failed
    except BaseException:
        broker.stop()
        raise
    return broker


def start_worker(
    module: str, bootstrap: str, data_dir: Path, log: Path, **env: str
) -> tuple[subprocess.Popen[bytes], int]:
    """``python -m module`` with PAI_ settings for ``bootstrap``; returns it and its web port."""
    return start_module([module], bootstrap, data_dir, log, **env)


def start_module(
    argv: list[str], bootstrap: str, data_dir: Path, log: Path, **env: str
) -> tuple[subprocess.Popen[bytes], int]:
    """``python -m argv...`` (a module and its arguments) as :func:`start_worker` runs one."""
    port = free_port()
    full_env = {
        **os.environ,
        "PAI_KAFKA_BOOTSTRAP": bootstrap,
        "PAI_WEB_PORT": str(port),
        "PAI_DATA_DIR": str(data_dir),
        **env,
    }
    handle = log.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", *argv],
        env=full_env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    handle.close()
    return process, port


def wait_ready(process: subprocess.Popen[bytes], port: int, timeout_s: float, log: Path) -> float:
    """Seconds until ``GET /health/ready`` answers 200; fails with the log on timeout or exit."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if process.poll() is not None:
            raise AssertionError(f"worker exited with {process.returncode}:\n{log.read_text()}")
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1)
            if response.status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"not ready within {timeout_s} s:\n{log.read_text()[-4000:]}")
