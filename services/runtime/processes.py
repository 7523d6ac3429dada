"""Stopping child processes: SIGTERM to the process group, SIGKILL after a grace period.

A Faust worker can hang on SIGTERM after a failed send (STACK-FACTS.md), so
whatever stops a worker or the broker escalates.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from types import FrameType
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


def terminate_all(processes: list[subprocess.Popen[Any]], grace_s: float = 10.0) -> None:
    """Stop several at once: SIGTERM to all, then SIGKILL to those still running after
    ``grace_s`` (one grace period in all, not one each)."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for process in running:
        terminate(process, max(0.1, deadline - time.monotonic()))


def _signal_group(process: subprocess.Popen[Any], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def sigterm_like_ctrl_c() -> None:
    """From now on SIGTERM raises KeyboardInterrupt in this process, as Ctrl-C does, so a
    command cleans up the same way whichever of the two stops it.

    SIGINT raises it too, even where the process inherited SIGINT ignored: a shell without
    job control starts a background command (``make test &`` in a script) with SIGINT
    ignored, Python then leaves it ignored, and a SIGINT sent to the command did nothing."""

    def _raise(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)
    signal.signal(signal.SIGINT, signal.default_int_handler)
