"""Every rendered object validates: core kinds against Kubernetes' schemas, the others
against their CustomResourceDefinition.

Core kinds use kubernetes-validate's strict schemas (unknown fields are errors) for one
pinned Kubernetes version. Strimzi and Prometheus-operator kinds use the served version's
``openAPIV3Schema`` of the CRDs vendored in tests/data/crds (README there: sources and
tags). Those schemas leave objects open where the API server would prune or reject
unknown fields, so every object schema with ``properties`` is closed here
(``additionalProperties: false``) unless it carries ``x-kubernetes-preserve-unknown-fields``;
a misspelt field fails as it would with ``kubectl apply`` (strict field validation).
"""

from __future__ import annotations

from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from tests.deploy.manifests import KUBERNETES_VERSION, OVERLAYS, Manifest, crd_for, render

CORE_KINDS = {
    "ConfigMap",
    "Deployment",
    "Ingress",
    "NetworkPolicy",
    "PodDisruptionBudget",
    "Service",
    "ServiceAccount",
    "StatefulSet",
}
CUSTOM_KINDS = {
    "Kafka",
    "KafkaNodePool",
    "KafkaTopic",
    "KafkaUser",
    "PrometheusRule",
    "ServiceMonitor",
}


def closed(schema: Any) -> Any:
    """``schema`` with unknown properties refused wherever Kubernetes would refuse them."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: closed(value) for key, value in schema.items()}
    if (
        result.get("type") == "object"
        and "properties" in result
        and "additionalProperties" not in result
        and not result.get("x-kubernetes-preserve-unknown-fields")
    ):
        result["additionalProperties"] = False
    return result


def served_schema(obj: Manifest) -> dict[str, Any]:
    crd = crd_for(obj["apiVersion"], obj["kind"])
    assert crd is not None, f"no vendored CRD for {obj['apiVersion']} {obj['kind']}"
    version = obj["apiVersion"].split("/")[1]
    served = [v for v in crd["spec"]["versions"] if v["served"]]
    assert version in [v["name"] for v in served], (
        f"{obj['kind']} uses {obj['apiVersion']}; the CRD serves {[v['name'] for v in served]}"
    )
    (entry,) = [v for v in served if v["name"] == version]
    schema: dict[str, Any] = closed(entry["schema"]["openAPIV3Schema"])
    return schema


def crd_errors(obj: Manifest) -> list[str]:
    validator = jsonschema.Draft7Validator(served_schema(obj))
    return [
        f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
        for e in validator.iter_errors(obj)
    ]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_kind_is_one_we_validate(overlay: str) -> None:
    kinds = {o["kind"] for o in render(overlay)}
    assert kinds == CORE_KINDS | CUSTOM_KINDS


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_core_objects_validate_for_the_pinned_kubernetes(overlay: str) -> None:
    failures = []
    for obj in render(overlay):
        if obj["kind"] not in CORE_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            failures.append(f"{obj['kind']}/{obj['metadata']['name']}: {path}: {exc.message}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_custom_resources_validate_against_their_crds(overlay: str) -> None:
    failures = [
        f"{obj['kind']}/{obj['metadata']['name']}: {error}"
        for obj in render(overlay)
        if obj["kind"] in CUSTOM_KINDS
        for error in crd_errors(obj)
    ]
    assert not failures, "\n".join(failures)


def test_strimzi_resources_use_the_one_served_api() -> None:
    """Strimzi 1.x serves kafka.strimzi.io/v1 only (no v1beta2, no ZooKeeper)."""
    for obj in render("prod"):
        if obj["apiVersion"].startswith("kafka.strimzi.io/"):
            assert obj["apiVersion"] == "kafka.strimzi.io/v1"
            assert "zookeeper" not in obj["spec"]


def test_the_crd_check_refuses_a_misspelt_field() -> None:
    """The closed schemas catch what the open upstream ones let through."""
    user = next(o for o in render("prod") if o["kind"] == "KafkaUser")
    user["spec"]["authorization"]["acls"][0]["operation"] = ["Read"]
    assert any("'operation' was unexpected" in e for e in crd_errors(user))
    topic = next(o for o in render("prod") if o["kind"] == "KafkaTopic")
    topic["spec"]["partitions"] = 0
    assert crd_errors(topic)
