"""The Grafana dashboard is one Grafana 11.6 loads as written, each panel says what it
shows and in what unit, and each query is PromQL that Prometheus parses.

No Grafana server can be installed on these machines (none in Debian, npm, Maven or PyPI;
its Go module is AGPL), so the dashboard is read with the dashboard types Grafana Labs
generates from Grafana 11.6's own schema (``grafana-foundation-sdk`` 11.6, Apache-2.0),
panel options by panel type: a field that schema does not have is dropped in the round
trip, and a value of the wrong shape comes back changed; both fail here.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.cog import plugins
from grafana_foundation_sdk.models.dashboard import Dashboard

from tests.deploy.manifests import ROOT, dashboard, dashboard_panels
from tests.support.prometheus import binary, write_rules

GRAFANA = "11.6"  # the version docs/operations.md names
UNITS = {"short", "ops", "s", "none"}  # Grafana unit ids this dashboard may use


def round_trip(board: dict[str, Any]) -> dict[str, Any]:
    plugins.register_default_plugins()
    model = Dashboard.from_json(copy_of(board))
    encoded = json.dumps(model.to_json(), default=lambda o: o.to_json())
    decoded: dict[str, Any] = json.loads(encoded)
    return decoded


def copy_of(value: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(value))
    return copied


def differences(ours: Any, loaded: Any, path: str = "") -> list[str]:
    """Where ``loaded`` lost or changed something of ``ours``."""
    if isinstance(ours, dict):
        if not isinstance(loaded, dict):
            return [f"{path}: not an object in the schema"]
        found = []
        for key, value in ours.items():
            if key not in loaded:
                found.append(f"{path}/{key}: not in Grafana {GRAFANA}'s schema")
            else:
                found += differences(value, loaded[key], f"{path}/{key}")
        return found
    if isinstance(ours, list):
        if not isinstance(loaded, list) or len(ours) != len(loaded):
            return [f"{path}: not the same list"]
        return [
            d
            for i, (a, b) in enumerate(zip(ours, loaded, strict=True))
            for d in differences(a, b, f"{path}[{i}]")
        ]
    return [] if ours == loaded else [f"{path}: {ours!r} became {loaded!r}"]


def test_the_schema_is_grafana_11_6s() -> None:
    version = importlib.metadata.version("grafana-foundation-sdk")
    assert version.endswith(f"!{GRAFANA}.0"), version
    assert f"Grafana {GRAFANA}" in (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")


def test_grafana_loads_the_dashboard_as_written() -> None:
    board = dashboard()
    assert differences(board, round_trip(board)) == []


def test_a_field_grafana_does_not_know_is_found() -> None:
    board = dashboard()
    board["panels"][1]["options"]["legend"]["displayModes"] = "table"  # a typo of displayMode
    board["panels"][1]["unitt"] = "s"
    found = differences(board, round_trip(board))
    assert len(found) == 2, found


def test_every_panel_has_a_unit_and_a_description() -> None:
    for panel in dashboard_panels():
        if panel["type"] == "row":
            continue
        assert panel["fieldConfig"]["defaults"]["unit"] in UNITS, panel["title"]
        words = panel.get("description", "").split()
        assert len(words) >= 6, f"{panel['title']}: describe what it shows and when to worry"


def test_every_panel_query_is_promql_prometheus_parses(tmp_path: Path) -> None:
    """Each query, its Grafana variables filled in as Grafana would, parsed by promtool (as
    a recording rule: ``promtool check rules`` parses every expression offline)."""
    exprs = {
        f"panel_{panel['id']}_{target['refId']}": target["expr"]
        .replace("$namespace", "pai")
        .replace("$__rate_interval", "2m")
        for panel in dashboard_panels()
        for target in panel.get("targets", [])
    }
    assert exprs
    rules = [{"record": name, "expr": expr} for name, expr in exprs.items()]
    path = write_rules(tmp_path / "panels.yaml", [{"name": "panels", "rules": rules}])
    done = subprocess.run(
        [binary("promtool"), "check", "rules", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules)} rules found" in done.stdout, done.stdout
