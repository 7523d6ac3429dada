"""Draws docs/dashboard.png: every panel of the Grafana dashboard, from real Prometheus data.

No Grafana server installs on the development machines, so this draws each panel of
``deploy/k8s/base/grafana/pai-dashboard.json`` (its title, unit, layout and legends) with
matplotlib from the series Prometheus returned for the panel's queries during the
end-to-end monitoring test::

    .venv/bin/pip install -e '.[docs]'
    PAI_DASHBOARD_DATA=var/dashboard-data.json .venv/bin/pytest tests/e2e/test_monitoring.py
    .venv/bin/python scripts/render_dashboard.py var/dashboard-data.json docs/dashboard.png

It is a picture of the data, not of Grafana's look.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "deploy" / "k8s" / "base" / "grafana" / "pai-dashboard.json"
UNITS = {"ops": "per second", "s": "seconds", "short": "", "none": ""}


def legend(template: str, labels: dict[str, str]) -> str:
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template)


def main(data_file: str, out: str) -> None:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    run = json.loads(Path(data_file).read_text(encoding="utf-8"))
    panels = [p for p in board["panels"] if p["type"] != "row"]
    rows = [p for p in board["panels"] if p["type"] == "row"]
    height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    figure = plt.figure(figsize=(24, height * 0.42))
    figure.suptitle(f"{board['title']} (data of one end-to-end run, namespace pai-e2e)", y=0.995)
    for row in rows:
        y = 1 - row["gridPos"]["y"] / height
        figure.text(0.01, y - 0.004, row["title"], fontsize=13, weight="bold", va="top")
    for panel in panels:
        grid = panel["gridPos"]
        box = (
            grid["x"] / 24 + 0.03,
            1 - (grid["y"] + grid["h"]) / height + 0.02,
            grid["w"] / 24 - 0.05,
            grid["h"] / height - 0.045,
        )
        axes = figure.add_axes(box)
        unit = panel["fieldConfig"]["defaults"]["unit"]
        axes.set_title(panel["title"], fontsize=10, loc="left")
        axes.set_ylabel(UNITS.get(unit, unit), fontsize=8)
        axes.tick_params(labelsize=7)
        for target in panel["targets"]:
            found: dict[str, Any] = run["panels"].get(f"{panel['title']}/{target['refId']}", {})
            for series in found.get("result", []):
                points = [
                    (float(t) - run["start"], float(v))
                    for t, v in series["values"]
                    if math.isfinite(float(v))
                ]
                if points:
                    xs, ys = zip(*points, strict=True)
                    label = legend(target.get("legendFormat", ""), series["metric"])
                    axes.plot(xs, ys, linewidth=1.2, label=label)
        axes.set_xlabel("seconds into the run", fontsize=7)
        if axes.lines:
            axes.legend(fontsize=6, loc="upper left", ncol=2, framealpha=0.6)
    figure.savefig(out, dpi=70)


if __name__ == "__main__":
    main(*sys.argv[1:3])
