"""What every bench reports beside its rates: load, CPU share, peak memory, one JSON line.

Figures on this shared 2-core machine are only comparable within a run, so each bench
prints the machine's load average beside them and, with ``--json``, ends with one JSON
object on its last line: at least ``bench`` (its name) and ``ratio`` (to the baseline of
the same run), and ``p50_ms``/``p99_ms`` where it measures latency.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import orjson

TICKS = os.sysconf("SC_CLK_TCK")


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (other engineers' tests share the cores)."""
    return [round(x, 2) for x in os.getloadavg()]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


class CoreShares:
    """The share of the machine's cores each named process takes from creation to
    :meth:`stop` (user + system CPU time over wall time, divided by the cores)."""

    used: dict[str, float]

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        self.started = time.perf_counter()

    def stop(self, seconds: float | None = None) -> dict[str, float]:
        """Each process's share over ``seconds`` (default: the wall time since creation);
        the CPU seconds each took are left in :attr:`used`."""
        elapsed = seconds if seconds is not None else time.perf_counter() - self.started
        cores = os.cpu_count() or 1
        self.used = {name: cpu_seconds(pid) - self.before[name] for name, pid in self.pids.items()}
        return {name: round(used / elapsed / cores, 4) for name, used in self.used.items()}

    def micros_per(self, name: str, events: int) -> float:
        """CPU microseconds process ``name`` took per event (after :meth:`stop`): what a
        change to the hot path moves even when other work on the machine slows the rates."""
        return round(self.used[name] / events * 1e6, 1)


def peak_rss_bytes(pid: int) -> int:
    """The peak resident set size of process ``pid`` (VmHWM; 0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def percentiles(values: list[float]) -> tuple[float, float]:
    """(p50, p99) of ``values`` (nan when empty), as the benches have always computed them."""
    if not values:
        return float("nan"), float("nan")
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(int(len(ordered) * 0.99) - 1, 0)]


def directory_bytes(path: Path) -> int:
    """The bytes of every file under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def emit(figures: dict[str, Any], as_json: bool) -> None:
    """Print ``figures`` as one JSON object on the last line when ``as_json``."""
    assert "bench" in figures and "ratio" in figures, figures
    if as_json:
        sys.stdout.write(orjson.dumps(figures).decode() + "\n")
        sys.stdout.flush()
