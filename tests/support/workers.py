"""Starting the brokers and service processes in tests, and waiting for their health views.

Two brokers: Apache Kafka (:func:`start_kafka`, the default of the integration and
end-to-end tests, ``PAI_TEST_BROKER=tansu`` to run them on the other) and the embedded
tansu (:func:`start_broker`, what ``pai run`` uses). A worker started against a broker is
told which one it is (``PAI_KAFKA_BROKER``), as ``pai run`` and the manifests tell theirs.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from services.local.embedded_broker import EmbeddedBroker, free_port
from services.runtime.kafka_admin import create_topics
from tests.support.apache_kafka import KafkaCluster

PARTITIONS = 4  # of every topic the tests create
TOKEN = "operator-token-for-the-tests-0123456789"
WORKER_ENV = {  # what service tests run workers with: the topic clock, short sessions
    "PAI_CLOCK": "topic",
    "PAI_WEB_HOST": "127.0.0.1",
    "PAI_ADMIN_TOKEN": TOKEN,
    "PAI_KAFKA_SESSION_TIMEOUT_S": "6",
    "PAI_KAFKA_HEARTBEAT_INTERVAL_S": "1",
    # tests move the shared topic clock into eras far beyond their events' occurred_at
    # (2026): a 10-year retention would remove their persons in the middle of a test
    "PAI_PERSON_RETENTION_YEARS": "500",
}


BROKER_KIND: dict[str, str] = {}
"""``PAI_KAFKA_BROKER`` of each broker the tests started, by bootstrap address."""
TEST_BROKER = os.environ.get("PAI_TEST_BROKER", "kafka")
assert TEST_BROKER in ("kafka", "tansu"), f"PAI_TEST_BROKER={TEST_BROKER}: kafka or tansu"


def broker_env(bootstrap: str) -> dict[str, str]:
    """``PAI_KAFKA_BROKER`` for services that run against the broker at ``bootstrap``."""
    return {"PAI_KAFKA_BROKER": BROKER_KIND.get(bootstrap, "kafka")}


def start_broker(log: Path, port: int | None = None) -> EmbeddedBroker:
    """An embedded broker with every contract topic; fails the test if either fails."""
    broker = EmbeddedBroker(port=port, log_file=log).start()
    try:
        _create_topics(broker.bootstrap)
    except BaseException:
        broker.stop()
        raise
    BROKER_KIND[broker.bootstrap] = "tansu"
    return broker


def start_kafka(directory: Path, **options: object) -> KafkaCluster:
    """Apache Kafka (KRaft, ``KafkaCluster(**options)``) with every contract topic."""
    cluster = KafkaCluster(directory, **options).start()  # type: ignore[arg-type]
    try:
        _create_topics(cluster.internal_bootstrap, min(3, cluster.nodes_count))
    except BaseException:
        cluster.stop()
        raise
    BROKER_KIND[cluster.bootstrap] = "kafka"
    return cluster


def start_test_broker(directory: Path) -> EmbeddedBroker | KafkaCluster:
    """The broker the integration and end-to-end tests run on (``PAI_TEST_BROKER``)."""
    if TEST_BROKER == "tansu":
        return start_broker(directory / "tansu.log")
    return start_kafka(directory / "kafka")


def _create_topics(bootstrap: str, replication: int = 1) -> None:
    results = asyncio.run(create_topics({"bootstrap_servers": bootstrap}, PARTITIONS, replication))
    failed = [r for r in results if r.error]
    assert not failed, failed


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
        "PAI_KAFKA_BROKER": BROKER_KIND.get(bootstrap, "kafka"),
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
