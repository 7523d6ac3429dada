"""End-to-end fixtures: a broker of its own for every test.

The services run with their production consumer-group ids, so a test that leaves a
backlog (20,000 events for an OPS whose receiver is gone) would hand it to the next
test's workers on a shared broker. A fresh embedded broker starts in about 0.2 s.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.runtime.broker import EmbeddedBroker
from tests.support.workers import start_broker


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    running = start_broker(tmp_path / "tansu.log")
    try:
        yield running
    finally:
        running.stop()
