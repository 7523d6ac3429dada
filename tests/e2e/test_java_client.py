"""The Java integration kit (``clients/java``) against the running services.

Apache Kafka and the eligibility and scheduler services start here as processes, as in
the other end-to-end tests; then ``mvn -Pe2e verify`` builds the kit and runs its JUnit
tests: the shared test vectors and the producer's checks (surefire), and ``EndToEndIT``
(failsafe), in which a Java producer publishes a person's registration, profile,
benefits and referral with the generated classes' own bytes and a Java consumer reads
the eligible decision and the ``ReferralAccepted``. Then the guide's two examples run as
the programs they are: ``RegisterAndRefer`` registers a second person, and
``ReadDecisions`` prints that person's decision and the first person's accepted
referral. Maven runs offline and takes its dependencies and plugins from ``~/.m2``
(``scripts/ensure-java-client.sh``, run by ``make test``, fetched them), so nothing is
downloaded while Kafka and the services run. A failure carries the tail of each
service's log.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from services.runtime.codec import AvroCodec
from services.runtime.processes import terminate_all
from tests.support.apache_kafka import KafkaCluster
from tests.support.workers import WORKER_ENV, broker_env, start_kafka, start_worker, wait_ready

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "clients" / "java"
CLASSPATH = ROOT / ".tools" / "java-client" / "classpath.txt"
SERVICES = ("eligibility", "scheduler")
SECOND_PESEL = "02070803628"  # EndToEndIT's person is 90090515836


def log_tails(directory: Path, lines: int = 40) -> str:
    """The last ``lines`` of each service's log, to read beside a failure."""
    out = []
    for name in SERVICES:
        log = directory / f"{name}.log"
        text = log.read_text(errors="replace").splitlines() if log.exists() else ["(no log)"]
        out.append(f"--- {name}.log (last {lines} lines) ---\n" + "\n".join(text[-lines:]))
    return "\n".join(out)


@pytest.fixture
def kafka_with_services(tmp_path: Path) -> Iterator[KafkaCluster]:
    """Apache Kafka (the kit's producer is idempotent: tansu refuses that) and the services."""
    cluster = start_kafka(tmp_path / "kafka")
    workers = []
    try:
        for name in SERVICES:
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


async def _decision_of(bootstrap: str, pesel: str, timeout_s: float) -> str | None:
    """The event_id of the first decision about ``pesel`` (read with the Python codec)."""
    codec = AvroCodec("eligibility-decisions")
    consumer = AIOKafkaConsumer(
        "pai.eligibility.decisions.v1", bootstrap_servers=bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    decoded = codec.decode(record.value)
                    if decoded.fields["person_id"] == pesel:
                        return str(decoded.fields["event_id"])
        return None
    finally:
        await consumer.stop()


def _java(main: str, *args: str) -> list[str]:
    java = shutil.which("java")
    assert java, "no java: run scripts/ensure-java-client.sh (make test does)"
    assert CLASSPATH.exists(), f"{CLASSPATH} is missing: run scripts/ensure-java-client.sh"
    classpath = os.pathsep.join([str(KIT / "target" / "classes"), CLASSPATH.read_text().strip()])
    return [java, "-cp", classpath, f"pl.pai.client.example.{main}", *args]


def _wait_for(output: Path, process: subprocess.Popen[bytes], wanted: list[str]) -> str:
    """ReadDecisions' output until every ``wanted`` text has appeared (or 60 s are up)."""
    deadline = time.monotonic() + 60
    while True:
        seen = output.read_text(errors="replace")
        if all(w in seen for w in wanted) or time.monotonic() > deadline:
            return seen
        if process.poll() is not None:
            return seen + f"\n(ReadDecisions exited with {process.returncode})"
        time.sleep(0.2)


def test_the_java_kit_builds_and_its_end_to_end_test_passes(
    kafka_with_services: KafkaCluster, tmp_path: Path
) -> None:
    mvn = shutil.which("mvn")
    assert mvn, "Maven is not installed: run scripts/ensure-java-client.sh (make test does)"
    bootstrap = kafka_with_services.bootstrap
    result = subprocess.run(
        [
            mvn,
            "-o",  # offline: scripts/ensure-java-client.sh fetched every plugin it runs
            "-q",
            "-B",
            "-Dstyle.color=never",
            "-Pe2e",
            f"-Dpai.bootstrap={bootstrap}",
            "verify",
        ],
        cwd=KIT,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert result.returncode == 0, (
        (result.stdout + result.stderr)[-6000:] + "\n" + log_tails(tmp_path)
    )

    # The guide's examples, run as programs: a second person registered by RegisterAndRefer
    registered = subprocess.run(
        _java("RegisterAndRefer", bootstrap, "register", SECOND_PESEL, "1465", "1465011"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert registered.returncode == 0, registered.stderr[-3000:] + "\n" + log_tails(tmp_path)
    decision_id = asyncio.run(_decision_of(bootstrap, SECOND_PESEL, 60))
    assert decision_id, "no decision about the person RegisterAndRefer registered\n" + (
        log_tails(tmp_path)
    )
    # ... whose decision ReadDecisions prints, with the first person's accepted referral
    output, errors = tmp_path / "read-decisions.out", tmp_path / "read-decisions.err"
    with output.open("wb") as out, errors.open("wb") as err:
        reader = subprocess.Popen(
            _java("ReadDecisions", bootstrap, "java-kit-read-decisions"),
            stdout=out,
            stderr=err,
            start_new_session=True,  # terminate_all signals the process group
        )
    wanted = [
        f"{decision_id} eligible=",
        "referral R-JAVA-1 accepted: cycle 2026-02-02 to 2026-04-01",
    ]
    try:
        printed = _wait_for(output, reader, wanted)
    finally:
        terminate_all([reader])
    assert all(w in printed for w in wanted), (
        f"ReadDecisions printed:\n{printed[-3000:]}\nand on stderr:\n"
        f"{errors.read_text(errors='replace')[-2000:]}\n{log_tails(tmp_path)}"
    )
