"""Apache Kafka on loopback for the tests: KRaft nodes (broker and controller in one process)
started from the jars ``scripts/ensure-kafka.sh`` fetched, on free ports, one or several.

:class:`KafkaCluster` formats each node's log directory (``kafka.tools.StorageTool``), starts
``kafka.Kafka`` with a small heap and ``group.initial.rebalance.delay.ms=0``, and waits until
every node answers metadata; each node's log file is kept (its path is in every failure).
With :class:`~tests.support.kafka_security.Security` the client listener is ``SASL_SSL``
with SCRAM-SHA-512 and a throwaway CA, and ``StandardAuthorizer`` denies what no ACL allows;
the nodes talk to each other on a loopback PLAINTEXT listener as the super user
``ANONYMOUS``. If a node cannot start, :meth:`start` raises: tests never skip.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.local.embedded_broker import free_ports

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_MANIFEST = ROOT / "deploy" / "k8s" / "base" / "kafka" / "cluster.yaml"
JVM_OPTIONS = [
    "-Xms64m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",  # ready in 2.3-3.2 s against 3.0-4.6 s (format included)
    "-Djava.awt.headless=true",
]
LOG4J = """\
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.file.ref = FILE
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = info
"""


def kafka_version() -> str:
    """The version the manifests deploy (``spec.kafka.version``): what the tests run."""
    found = re.search(r"^    version: ([0-9.]+)$", CLUSTER_MANIFEST.read_text(), re.MULTILINE)
    assert found, f"no spec.kafka.version in {CLUSTER_MANIFEST}"
    return found.group(1)


def classpath() -> str:
    libs = ROOT / ".tools" / f"kafka-{kafka_version()}" / "libs"
    if not (libs.parent / ".complete").exists():
        raise AssertionError(
            f"Apache Kafka {kafka_version()} is not in {libs.parent}: run scripts/ensure-kafka.sh"
            " (make test does)"
        )
    return f"{libs}/*"


@dataclass
class Node:
    node_id: int
    client_port: int
    internal_port: int
    controller_port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    @property
    def properties(self) -> Path:
        return self.directory / "server.properties"

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "(no log)"


@dataclass
class KafkaCluster:
    """``nodes`` KRaft nodes under ``directory``; ``security`` makes the client listener
    SASL_SSL with SCRAM users and ACL authorization."""

    directory: Path
    nodes_count: int = 1
    security: Any = None  # tests.support.kafka_security.Security
    extra: dict[str, str] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    cluster_id: str = ""

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{n.client_port}" for n in self.nodes)

    @property
    def internal_bootstrap(self) -> str:
        """The PLAINTEXT listener the nodes use among themselves (super user, for setup)."""
        return ",".join(f"127.0.0.1:{n.internal_port}" for n in self.nodes)

    @property
    def log_file(self) -> Path:
        return self.nodes[0].log

    def start(self, timeout_s: float = 60) -> KafkaCluster:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.cluster_id = _random_cluster_id()
        # distinct ports: one node's two listeners on one port stopped it
        ports = iter(free_ports(3 * self.nodes_count))
        self.nodes = [
            Node(n, next(ports), next(ports), next(ports), self.directory / f"node-{n}")
            for n in range(1, self.nodes_count + 1)
        ]
        for node in self.nodes:
            node.directory.mkdir(parents=True, exist_ok=True)
            node.properties.write_text(self._properties(node))
            (node.directory / "log4j2.properties").write_text(LOG4J.format(log=node.log))
            self._format(node)
        try:
            for node in self.nodes:
                self._launch(node)
            self.wait_until_serving(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _properties(self, node: Node) -> str:
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in self.nodes)
        replication = min(3, len(self.nodes))
        client = "SASL_SSL" if self.security else "PLAINTEXT"
        settings = {
            "process.roles": "broker,controller",
            "node.id": str(node.node_id),
            "controller.quorum.voters": voters,
            "listeners": f"CLIENT://127.0.0.1:{node.client_port},"
            f"INTERNAL://127.0.0.1:{node.internal_port},"
            f"CONTROLLER://127.0.0.1:{node.controller_port}",
            "advertised.listeners": f"CLIENT://127.0.0.1:{node.client_port},"
            f"INTERNAL://127.0.0.1:{node.internal_port}",
            "listener.security.protocol.map": f"CLIENT:{client},INTERNAL:PLAINTEXT,"
            "CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "INTERNAL",
            "controller.listener.names": "CONTROLLER",
            "log.dirs": str(node.directory / "data"),
            "num.partitions": "4",
            "default.replication.factor": str(replication),
            "offsets.topic.replication.factor": str(replication),
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": str(replication),
            "transaction.state.log.min.isr": str(min(2, replication)),
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
            "log.segment.delete.delay.ms": "1000",
            "log.cleaner.backoff.ms": "1000",
            "num.network.threads": "2",
            "num.io.threads": "2",
            "num.recovery.threads.per.data.dir": "1",
            "log.cleaner.threads": "1",
            "background.threads": "2",
            "socket.request.max.bytes": str(10 * 1024 * 1024),
        }
        if self.security is not None:
            settings |= self.security.broker_settings(node.directory)
        settings |= self.extra
        return "".join(f"{key}={_escape(value)}\n" for key, value in settings.items())

    def _format(self, node: Node) -> None:
        command = [
            "java",
            *JVM_OPTIONS,
            "-cp",
            classpath(),
            "kafka.tools.StorageTool",
            "format",
            "--ignore-formatted",
            f"--cluster-id={self.cluster_id}",  # one form: an id may begin with "-"
            f"--config={node.properties}",
        ]
        if self.security is not None:
            command += self.security.format_arguments()
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise AssertionError(
                f"kafka-storage format of node {node.node_id} failed:\n{done.stdout}{done.stderr}"
            )

    def _launch(self, node: Node) -> None:
        stdout = (node.directory / "stdout.log").open("ab")
        node.process = subprocess.Popen(
            [
                "java",
                *JVM_OPTIONS,
                f"-Dlog4j2.configurationFile={node.directory / 'log4j2.properties'}",
                "-cp",
                classpath(),
                "kafka.Kafka",
                str(node.properties),
            ],
            stdout=stdout,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        stdout.close()

    def wait_until_serving(self, timeout_s: float = 60) -> None:
        """Until every running node accepts connections on its client listener and on the
        internal one the tests set up through (the first can accept before the second:
        topic creation was refused once, right after the client port answered)."""
        deadline = time.monotonic() + timeout_s
        for node in self.nodes:
            if node.process is None:
                continue
            while not (_accepts(node.client_port) and _accepts(node.internal_port)):
                if node.process.poll() is not None:
                    raise AssertionError(
                        f"Kafka node {node.node_id} exited with {node.process.returncode};"
                        f" log {node.log}:\n{node.log_tail()}\n"
                        f"{(node.directory / 'stdout.log').read_text(errors='replace')[-2000:]}"
                    )
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"Kafka node {node.node_id} not serving within {timeout_s} s;"
                        f" log {node.log}:\n{node.log_tail()}"
                    )
                time.sleep(0.1)

    def node(self, node_id: int) -> Node:
        return next(n for n in self.nodes if n.node_id == node_id)

    def kill(self, node_id: int) -> None:
        """``kill -9`` of one node."""
        node = self.node(node_id)
        if node.process is not None and node.process.poll() is None:
            os.killpg(node.process.pid, signal.SIGKILL)
            node.process.wait(30)
        node.process = None

    def restart(self, node_id: int, timeout_s: float = 60) -> None:
        node = self.node(node_id)
        if node.process is None:
            self._launch(node)
        self.wait_until_serving(timeout_s)

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                os.killpg(node.process.pid, signal.SIGTERM)
        for node in self.nodes:
            if node.process is None:
                continue
            try:
                node.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(node.process.pid, signal.SIGKILL)
                node.process.wait(10)
            node.process = None


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _random_cluster_id() -> str:
    """What ``kafka-storage random-uuid`` prints: 16 random bytes, URL-safe base64."""
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def _escape(value: str) -> str:
    """A value for a Java properties file (PEM text keeps its line breaks as ``\\n``)."""
    return value.replace("\\", "\\\\").replace("\n", "\\n")
