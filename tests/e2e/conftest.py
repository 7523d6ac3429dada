"""End-to-end fixtures: a broker of its own for every test.

The services run with their production consumer-group ids, so a test that leaves a
backlog (20,000 events for an OPS whose receiver is gone) would hand it to the next
test's workers on a shared broker. A fresh Apache Kafka node starts in about 3 s
(``PAI_TEST_BROKER=tansu``: a fresh embedded broker, about 0.2 s); ``tansu`` is the
embedded broker for the tests of what only it does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.local.embedded_broker import EmbeddedBroker
from tests.support.apache_kafka import KafkaCluster
from tests.support.workers import start_broker, start_test_broker


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker | KafkaCluster]:
    running = start_test_broker(tmp_path)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def tansu(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    running = start_broker(tmp_path / "tansu.log")
    try:
        yield running
    finally:
        running.stop()
