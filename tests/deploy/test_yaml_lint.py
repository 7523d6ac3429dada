"""Every YAML file of deploy/ and docker-compose.yml passes yamllint with .yamllint.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
from yamllint import linter
from yamllint.config import YamlLintConfig

from tests.deploy.manifests import COMPOSE_FILE, DEPLOY, ROOT

CONFIG = ROOT / ".yamllint.yaml"
FILES = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml"), COMPOSE_FILE, CONFIG])


def test_the_lint_covers_every_manifest() -> None:
    """Guards the glob: an empty or partial list would make the lint below vacuous."""
    names = {p.relative_to(ROOT).as_posix() for p in FILES}
    assert {
        "docker-compose.yml",
        "deploy/compose/partners.yaml",
        "deploy/k8s/base/kustomization.yaml",
        "deploy/k8s/base/kafka/topics.yaml",
        "deploy/k8s/overlays/dev/kustomization.yaml",
        "deploy/k8s/overlays/prod/kustomization.yaml",
    } <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_yamllint(path: Path) -> None:
    config = YamlLintConfig(file=str(CONFIG))
    problems = list(linter.run(path.read_text(encoding="utf-8"), config, str(path)))
    assert not problems, "\n".join(
        f"{path.relative_to(ROOT)}:{p.line}:{p.column}: {p.level}: {p.desc} ({p.rule})"
        for p in problems
    )
