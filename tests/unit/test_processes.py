"""A command stops on SIGINT (Ctrl-C) even when it was started with SIGINT ignored."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

COMMAND = """
import time
from services.runtime.processes import sigterm_like_ctrl_c
sigterm_like_ctrl_c()
print("ready", flush=True)
try:
    time.sleep(60)
except KeyboardInterrupt:
    print("stopped", flush=True)
"""


def _ignore_sigint() -> None:  # what a shell without job control does to `command &`
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_sigint_stops_a_command_that_inherited_it_ignored() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", COMMAND],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=_ignore_sigint,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=10)
        assert out.strip() == "stopped"
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
