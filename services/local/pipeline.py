"""The whole pipeline on one machine: broker, topics and the four services as processes.

What ``pai run`` starts. The embedded broker keeps everything in memory, so a
fresh one means fresh state: the services' local tables (RocksDB) from an earlier
run are removed with it, or they would claim offsets the new broker never had.
Every service gets its own web port, data directory and log file under the work
directory; stopping sends SIGTERM to all of them at once and SIGKILL to whatever
has not exited after the grace period (a worker can hang on SIGTERM after a
failed send, STACK-FACTS.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.local.embedded_broker import EmbeddedBroker, free_port
from services.runtime.kafka_admin import create_topics
from services.runtime.processes import terminate_all

SERVICES = ("eligibility", "scheduler", "notifier", "gateway")
WEB_PORTS = {"eligibility": 6066, "scheduler": 6067, "notifier": 6068, "gateway": 6069}


class PipelineError(RuntimeError):
    """The pipeline could not start; the message says which part and where its log is."""


@dataclass
class Service:
    name: str
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _port_or_free(port: int) -> int:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return free_port()
    return port


@dataclass
class LocalPipeline:
    workdir: Path
    bootstrap: str | None = None  # None: start the embedded broker
    broker_port: int = 9092
    partitions: int = 4
    env: dict[str, str] = field(default_factory=dict)  # PAI_ settings for every service
    broker: EmbeddedBroker | None = None
    services: list[Service] = field(default_factory=list)

    @property
    def kafka(self) -> str:
        if self.bootstrap is not None:
            return self.bootstrap
        assert self.broker is not None
        return self.broker.bootstrap

    def start_broker(self) -> None:
        """The embedded broker (unless a bootstrap was given) and every contract topic."""
        if self.bootstrap is None:
            data = self.workdir / "data"
            if data.exists():
                shutil.rmtree(data)  # the new broker has none of the old offsets
            self.broker = EmbeddedBroker(
                port=self.broker_port, log_file=self.workdir / "broker.log"
            )
            try:
                self.broker.start()
            except Exception as exc:
                self.broker = None
                raise PipelineError(f"the embedded broker did not start: {exc}") from exc
        results = asyncio.run(create_topics({"bootstrap_servers": self.kafka}, self.partitions))
        failed = [r for r in results if r.error]
        if failed:
            raise PipelineError(f"topics not created: {failed}")

    def start_services(self) -> None:
        logs = self.workdir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        for name in SERVICES:
            service = Service(name, _port_or_free(WEB_PORTS[name]), logs / f"{name}.log")
            data = self.workdir / "data" / name
            data.mkdir(parents=True, exist_ok=True)
            env = {
                "PAI_LOG_FORMAT": "text",  # for a person reading logs/; the environment may differ
                **os.environ,
                **self.env,
                "PAI_KAFKA_BOOTSTRAP": self.kafka,
                **({"PAI_KAFKA_BROKER": "tansu"} if self.bootstrap is None else {}),
                "PAI_WEB_HOST": "127.0.0.1",
                "PAI_WEB_PORT": str(service.port),
                "PAI_DATA_DIR": str(data),
            }
            with service.log.open("ab") as handle:
                service.process = subprocess.Popen(
                    [sys.executable, "-m", f"services.{name}"],
                    env=env,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # Ctrl-C reaches us; we stop them in order
                )
            self.services.append(service)

    def wait_ready(self, timeout_s: float = 90.0) -> dict[str, float]:
        """Seconds each service took to answer ``/health/ready``; PipelineError otherwise."""
        started, took = time.monotonic(), {}
        waiting = list(self.services)
        while waiting:
            for service in list(waiting):
                self.check_alive(service)
                with contextlib.suppress(httpx.TransportError):
                    url = f"http://127.0.0.1:{service.port}/health/ready"
                    if httpx.get(url, timeout=1).status_code == 200:
                        took[service.name] = time.monotonic() - started
                        waiting.remove(service)
            if waiting and time.monotonic() - started > timeout_s:
                names = ", ".join(s.name for s in waiting)
                raise PipelineError(f"not ready within {timeout_s:.0f} s: {names}")
            time.sleep(0.2)
        return took

    def check_alive(self, service: Service | None = None) -> None:
        """PipelineError naming the first service that exited, with the end of its log."""
        for s in [service] if service else self.services:
            if s.process is not None and s.process.poll() is not None:
                raise PipelineError(
                    f"{s.name} exited with {s.process.returncode}; the end of {s.log}:\n"
                    + s.log_tail()
                )

    def port_of(self, name: str) -> int:
        """The web port of the service ``name`` (the gateway's is where OPS post)."""
        return next(s.port for s in self.services if s.name == name)

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM to every service at once, SIGKILL after ``grace_s``; then the broker."""
        terminate_all([s.process for s in self.services if s.process], grace_s)
        self.services.clear()
        if self.broker is not None:
            self.broker.stop()
            self.broker = None
