"""Session-wide fixtures: the brokers, each started once per test session.

``broker`` is Apache Kafka (KRaft, the version the manifests deploy) unless
``PAI_TEST_BROKER=tansu``; ``tansu`` is always the embedded broker, for the tests of
what only it does and the smoke tests that keep it supported. If a broker cannot
start, every test that needs it errors: integration tests are never skipped.

``make test`` runs two pytest workers (pytest-xdist, ``-n 2``): every integration and
end-to-end test on one, in order, as before; the fast unit, deploy and interoperability
tests beside them on the other (:mod:`tests.support.xdist_scheduling`).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from services.local.embedded_broker import EmbeddedBroker
from tests.support.apache_kafka import KafkaCluster
from tests.support.workers import start_broker, start_kafka, start_test_broker
from tests.support.xdist_scheduling import BrokerTestsTogether

# Property tests: `make test` runs a fixed, derandomised profile (the same examples on
# every run, so CI is repeatable); `pytest --hypothesis-profile=long` searches further.
_PROFILE = {"deadline": None, "print_blob": True, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("ci", derandomize=True, max_examples=200, **_PROFILE)  # type: ignore[arg-type]
settings.register_profile("long", max_examples=5000, **_PROFILE)  # type: ignore[arg-type]
settings.load_profile("ci")


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> BrokerTestsTogether:
    """``make test``'s two workers (:mod:`tests.support.xdist_scheduling`)."""
    return BrokerTestsTogether(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The broker tests first, so their unit (the longest) starts at once instead of after
    the deploy tests; the integration tests first of all, so the fast tests run beside
    them rather than beside the heavier end-to-end tests. The order within each directory
    is kept."""
    order = {"integration": 0, "e2e": 1}
    items.sort(key=lambda item: order.get(Path(item.path).parent.name, 2))


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker | KafkaCluster]:
    running = start_test_broker(Path(tmp_path_factory.mktemp("broker")))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def kafka(
    broker: EmbeddedBroker | KafkaCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KafkaCluster]:
    """Apache Kafka whatever ``PAI_TEST_BROKER`` says: the session's broker when it is one."""
    if isinstance(broker, KafkaCluster):
        yield broker
        return
    running = start_kafka(Path(tmp_path_factory.mktemp("kafka")))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def tansu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    running = start_broker(Path(tmp_path_factory.mktemp("tansu")) / "tansu.log")
    try:
        yield running
    finally:
        running.stop()


_ERAS = iter(range(2030, 2400, 3))


@pytest.fixture
def era() -> int:
    """A year of its own for a test that moves the shared topic clock.

    The clock never moves back and the broker lives for the whole session, so each
    such test works in a later stretch of time than every test before it.
    """
    return next(_ERAS)


@pytest.fixture
def era_like_2026() -> int:
    """An era whose calendar is 2026's: same weekdays, not a leap year.

    For tests that spell out dates by weekday. Easter (and the holidays that
    follow it) still moves: such tests keep action deadlines away from it.
    """
    for year in _ERAS:
        if dt.date(year, 1, 1).weekday() == dt.date(2026, 1, 1).weekday() and not calendar.isleap(
            year
        ):
            return year
    raise AssertionError("no era left")
