"""The Java integration kit (``clients/java``) against the running services.

Apache Kafka and the eligibility and scheduler services start here as processes, as in
the other end-to-end tests; then ``mvn -Pe2e verify`` builds the kit and runs its JUnit
tests: the shared test vectors and the producer's checks (surefire), and ``EndToEndIT``
(failsafe), in which a Java producer publishes a person's registration, profile,
benefits and referral with the generated classes' own bytes and a Java consumer reads
the eligible decision and the ``ReferralAccepted``. Maven runs offline and takes its
dependencies and plugins from ``~/.m2`` (``scripts/ensure-java-client.sh``, run by ``make
test``, fetched them), so nothing is downloaded while Kafka and the services run.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.runtime.processes import terminate_all
from tests.support.apache_kafka import KafkaCluster
from tests.support.workers import WORKER_ENV, broker_env, start_kafka, start_worker, wait_ready

pytestmark = pytest.mark.e2e
KIT = Path(__file__).resolve().parents[2] / "clients" / "java"


@pytest.fixture
def kafka_with_services(tmp_path: Path) -> Iterator[KafkaCluster]:
    """Apache Kafka (the kit's producer is idempotent: tansu refuses that) and the services."""
    cluster = start_kafka(tmp_path / "kafka")
    workers = []
    try:
        for name in ("eligibility", "scheduler"):
            log = tmp_path / f"{name}.log"
            env = WORKER_ENV | broker_env(cluster.bootstrap)
            worker, port = start_worker(
                f"services.{name}", cluster.bootstrap, tmp_path / name, log, **env
            )
            workers.append((worker, port, log))
        for worker, port, log in workers:
            wait_ready(worker, port, 90, log)
        yield cluster
    finally:
        terminate_all([w for w, _, _ in workers])
        cluster.stop()


def test_the_java_kit_builds_and_its_end_to_end_test_passes(
    kafka_with_services: KafkaCluster, tmp_path: Path
) -> None:
    mvn = shutil.which("mvn")
    assert mvn, "Maven is not installed: run scripts/ensure-java-client.sh (make test does)"
    result = subprocess.run(
        [
            mvn,
            "-o",  # offline: scripts/ensure-java-client.sh fetched every plugin it runs
            "-q",
            "-B",
            "-Dstyle.color=never",
            "-Pe2e",
            f"-Dpai.bootstrap={kafka_with_services.bootstrap}",
            "verify",
        ],
        cwd=KIT,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
