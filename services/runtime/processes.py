"""Stopping child processes: SIGTERM to the process group, SIGKILL after a grace period.

A Faust worker can hang on SIGTERM after a failed send (STACK-FACTS.md), so
whatever stops a worker or the broker escalates.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from typing import Any


def terminate(process: subprocess.Popen[Any], grace_s: float = 10.0) -> int:
    """Stop ``process`` (started with ``start_new_session=True``) and its children; exit code."""
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        try:
            return process.wait(grace_s)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
    return process.wait()


def _signal_group(process: subprocess.Popen[Any], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
