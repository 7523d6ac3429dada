"""`pai broker` starts the embedded broker with the topics and stops on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from services.local.embedded_broker import free_port
from services.runtime.processes import terminate
from services.runtime.topics import ALL_TOPICS

pytestmark = pytest.mark.integration


def test_pai_broker_creates_the_topics_and_stops_cleanly_on_sigint() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "broker", "--port", str(port), "--partitions", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline().decode()
            lines.append(line)
            if line.startswith("ready:") or not line:
                break
        assert lines[-1].startswith(f"ready: export PAI_KAFKA_BOOTSTRAP=127.0.0.1:{port}"), lines
        created = "".join(lines)
        for spec in ALL_TOPICS:
            assert f"{spec.name}: created" in created

        listing = subprocess.run(
            [
                sys.executable,
                "-m",
                "services.cli",
                "topics",
                "list",
                "--bootstrap",
                f"127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={k: v for k, v in os.environ.items() if not k.startswith("PAI_")},
        )
        assert listing.returncode == 0, listing.stdout + listing.stderr
        assert "MISSING" not in listing.stdout
        assert listing.stdout.count("3 partitions") == len(ALL_TOPICS)

        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(15) == 0
        assert "stopping the embedded broker" in process.stdout.read().decode()
    finally:
        terminate(process, grace_s=5)
        if process.stdout is not None:
            process.stdout.close()
