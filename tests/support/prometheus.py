"""A real Prometheus for the tests: its binaries, the alert rules as it loads them, a server.

``rule_groups(objects)`` turns the PrometheusRule objects of a rendered overlay into the
rule file Prometheus itself reads (what the Prometheus operator does), so promtool and the
end-to-end test check exactly what would be deployed. ``scaled(groups, factor)`` shortens
every ``for`` and range selector of those rules for a test that cannot wait 15 minutes;
the production rules are never edited. ``Prometheus`` starts ``prometheus`` on a free port
with a scrape configuration of static targets, and reads its HTTP API. The binaries come
from Debian's ``prometheus`` package (``scripts/ensure-prometheus.sh``, part of
``make test``): without them the calling test fails and says how to get them.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from services.local.embedded_broker import free_port
from services.runtime.processes import terminate

Manifest = dict[str, Any]


def binary(name: str) -> str:
    """``promtool`` or ``prometheus`` on PATH; the calling test fails without it."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not on PATH: run `make prometheus` (scripts/ensure-prometheus.sh)")
    return found


def rule_groups(objects: list[Manifest]) -> list[dict[str, Any]]:
    """The groups of every PrometheusRule among ``objects``, as one Prometheus rule file."""
    return [
        copy.deepcopy(group)
        for rule in objects
        if rule["kind"] == "PrometheusRule"
        for group in rule["spec"]["groups"]
    ]


def alert_names(groups: list[dict[str, Any]]) -> set[str]:
    return {r["alert"] for group in groups for r in group["rules"] if "alert" in r}


def write_rules(path: Path, groups: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8")
    return path


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")


def seconds(duration: str) -> float:
    """A Prometheus duration (``1h30m``, ``15m``, ``500ms``) in seconds."""
    parts = _DURATION.findall(duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(int(n) * _UNITS[u] for n, u in parts)


def _short(duration: str, factor: float, floor_s: float) -> str:
    millis = round(max(floor_s, seconds(duration) / factor) * 1000)  # Prometheus: integers
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"


def scaled(groups: list[dict[str, Any]], factor: float, floor_s: float = 2) -> list[dict[str, Any]]:
    """The rules with every ``for`` and ``[range]`` divided by ``factor`` (at least ``floor_s``).

    For a test run whose scrape and evaluation intervals are 1 s: 15 minutes at a factor
    of 120 is 7.5 s. Expressions are otherwise unchanged.
    """
    out = copy.deepcopy(groups)
    for group in out:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = _short(str(rule["for"]), factor, floor_s)
            rule["expr"] = re.sub(
                r"\[([0-9a-z]+)\]",
                lambda m: f"[{_short(m.group(1), factor, floor_s)}]",
                str(rule["expr"]),
            )
    return out


@dataclass
class Target:
    """A scrape target with the labels the Prometheus operator would give it."""

    port: int
    job: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class Prometheus:
    """``prometheus`` on a free loopback port scraping ``targets``, evaluating ``rules``."""

    directory: Path
    targets: list[Target]
    rules: Path | None = None
    interval_s: float = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.directory / "prometheus.log"

    def config(self) -> dict[str, Any]:
        interval = f"{self.interval_s:g}s"
        jobs: dict[str, list[Target]] = {}
        for target in self.targets:
            jobs.setdefault(target.job, []).append(target)
        return {
            "global": {"scrape_interval": interval, "evaluation_interval": interval},
            "rule_files": [str(self.rules)] if self.rules else [],
            "scrape_configs": [
                {
                    "job_name": job,
                    "scrape_timeout": interval,
                    "honor_labels": True,  # as the ServiceMonitor: the services' "service" label
                    "static_configs": [
                        {"targets": [f"127.0.0.1:{t.port}"], "labels": t.labels} for t in found
                    ],
                }
                for job, found in jobs.items()
            ],
        }

    def start(self) -> Prometheus:
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "prometheus.yml"
        config.write_text(yaml.safe_dump(self.config(), sort_keys=False), encoding="utf-8")
        checked = subprocess.run(
            [binary("promtool"), "check", "config", str(config)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                [
                    binary("prometheus"),
                    f"--config.file={config}",
                    f"--storage.tsdb.path={self.directory / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--storage.tsdb.retention.time=1d",
                    "--log.level=warn",
                ],
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"prometheus exited:\n{self.log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"prometheus not ready in 30 s:\n{self.log.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process)
            self.process = None

    def api(self, path: str, **params: str) -> Any:
        """``GET /api/v1/<path>``'s ``data``; fails on an error status naming the query."""
        response = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=10)
        body = response.json()
        assert response.status_code == 200 and body["status"] == "success", (params, body)
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector ``expr`` evaluates to now."""
        data = self.api("query", query=expr)
        assert data["resultType"] == "vector", (expr, data["resultType"])
        return list(data["result"])

    def query_range(self, expr: str, start: float, end: float, step_s: float) -> list[Any]:
        data = self.api("query_range", query=expr, start=str(start), end=str(end), step=str(step_s))
        return list(data["result"])

    def alerts(self) -> list[dict[str, Any]]:
        """Active alerts (``pending`` or ``firing``) with their labels and annotations."""
        return list(self.api("alerts")["alerts"])

    def targets_up(self) -> dict[str, str]:
        """``health`` of every active target, by ``job``/``instance``."""
        active = self.api("targets")["activeTargets"]
        return {f"{t['labels']['job']}/{t['labels']['instance']}": t["health"] for t in active}
