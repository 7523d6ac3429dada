"""The alert rules as Prometheus evaluates them: ``promtool check rules`` and ``promtool test
rules`` on the rules rendered from each overlay, with the unit tests of
``tests/deploy/promtool/*.test.yaml``.

Every alert of the rendered rules must have a case there that makes it fire and one where
it must not; a rule whose expression never fires, or whose ``for`` is dropped, must make
those cases fail (so each rule, not only each alert name, is covered, and a blip shorter
than ``for`` is among the cases). An alert added later without cases fails here by name.
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.manifests import OVERLAYS, ROOT, render
from tests.support.prometheus import alert_names, binary, rule_groups, write_rules

UNIT_TESTS = sorted((Path(__file__).parent / "promtool").glob("*.test.yaml"))
NEVER = "vector(1) < 0"  # an expression that returns nothing


def unit_tests() -> list[tuple[Path, dict[str, Any]]]:
    return [(path, yaml.safe_load(path.read_text(encoding="utf-8"))) for path in UNIT_TESTS]


def cases() -> list[tuple[str, str, bool]]:
    """(file, alert name, expects alerts) of every alert_rule_test."""
    return [
        (path.name, case["alertname"], bool(case.get("exp_alerts")))
        for path, tests in unit_tests()
        for group in tests["tests"]
        for case in group.get("alert_rule_test", [])
    ]


def promtool_test(directory: Path, groups: list[dict[str, Any]], only: str | None = None) -> str:
    """``promtool test rules`` of every unit-test file on ``groups``; "" when it passes.

    ``only``: just the test groups that check this alert (faster, for the mutations).
    """
    rules = write_rules(directory / "rules.yaml", groups)
    files = []
    for path, tests in unit_tests():
        tests = copy.deepcopy(tests)
        tests["rule_files"] = [str(rules)]
        if only is not None:
            tests["tests"] = [
                g
                for g in tests["tests"]
                if any(c["alertname"] == only for c in g.get("alert_rule_test", []))
            ]
            if not tests["tests"]:
                continue
        files.append(directory / path.name)
        files[-1].write_text(yaml.safe_dump(tests, sort_keys=False), encoding="utf-8")
    assert files, f"no unit test checks {only}"
    done = subprocess.run(
        [binary("promtool"), "test", "rules", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    return "" if done.returncode == 0 else done.stdout + done.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_promtool_accepts_the_rules_of_each_overlay(overlay: str, tmp_path: Path) -> None:
    groups = rule_groups(render(overlay))
    rules = write_rules(tmp_path / "rules.yaml", groups)
    done = subprocess.run(
        [binary("promtool"), "check", "rules", "--lint=all", "--lint-fatal", str(rules)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    count = sum(len(g["rules"]) for g in groups)
    assert f"SUCCESS: {count} rules found" in done.stdout, done.stdout


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_alert_passes_its_unit_tests(overlay: str, tmp_path: Path) -> None:
    failed = promtool_test(tmp_path, rule_groups(render(overlay)))
    assert not failed, failed


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_alert_has_a_firing_and_a_not_firing_case(overlay: str) -> None:
    alerts = alert_names(rule_groups(render(overlay)))
    assert alerts
    firing = {name for _, name, fires in cases() if fires}
    quiet = {name for _, name, fires in cases() if not fires}
    assert not alerts - firing, f"alerts no unit test makes fire: {sorted(alerts - firing)}"
    assert not alerts - quiet, f"alerts no unit test expects quiet: {sorted(alerts - quiet)}"
    unknown = {name for _, name, _ in cases()} - alerts
    assert not unknown, f"unit tests of alerts the rules do not have: {sorted(unknown)}"


def mutations() -> list[tuple[str, int, int, str]]:
    """(alert, group index, rule index, what is changed) of every rule of the prod overlay."""
    found = []
    for g, group in enumerate(rule_groups(render("prod"))):
        for r, rule in enumerate(group["rules"]):
            if "alert" in rule:
                found.append((rule["alert"], g, r, "never fires"))
                if "for" in rule:
                    found.append((rule["alert"], g, r, "for dropped"))
    return found


@pytest.mark.parametrize(
    ("alert", "g", "r", "change"),
    mutations(),
    ids=[f"{a}-{g}.{r}-{c.replace(' ', '-')}" for a, g, r, c in mutations()],
)
def test_the_unit_tests_catch_a_broken_rule(
    alert: str, g: int, r: int, change: str, tmp_path: Path
) -> None:
    """A rule that never fires fails a firing case of that very rule; a rule without its
    ``for`` fails a case of a blip shorter than ``for``."""
    groups = rule_groups(render("prod"))
    rule = groups[g]["rules"][r]
    if change == "never fires":
        rule["expr"] = NEVER
    else:
        rule["for"] = "0s"
    assert promtool_test(tmp_path, groups, only=alert), f"{alert} rule {r}: {change} went unseen"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_alert_links_to_its_runbook_in_the_operations_guide(overlay: str) -> None:
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for group in rule_groups(render(overlay)):
        for rule in group["rules"]:
            if "alert" not in rule:
                continue
            url = rule["annotations"]["runbook_url"]
            page, _, anchor = url.partition("#")
            assert page.endswith("/docs/operations.md") and anchor, (rule["alert"], url)
            assert f'<a id="{anchor}"></a>{rule["alert"]}' in guide, f"no runbook entry {anchor}"
