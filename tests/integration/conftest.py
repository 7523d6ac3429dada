"""Fixtures the integration test modules share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.receiver import Receiver


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """An OPS webhook receiver on loopback for the module's tests."""
    running = Receiver().start()
    yield running
    running.stop()
