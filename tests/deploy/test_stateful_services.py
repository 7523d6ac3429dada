"""The Faust services keep their tables on a volume of their own; the notifier keeps nothing.

eligibility and the scheduler hold their tables in RocksDB under PAI_DATA_DIR
(/var/lib/pai). A worker that keeps that directory resumes at its stored offsets in
seconds; one without it re-reads its partitions' whole changelog first (STACK-FACTS.md,
"Recovery decides restart time"). So they are StatefulSets whose /var/lib/pai is the
claim of a volumeClaimTemplate, governed by a headless Service of their own, and the
notifier stays a Deployment with an emptyDir. Every workload keeps a PodDisruptionBudget.
"""

from __future__ import annotations

import pytest

from tests.deploy.manifests import (
    OVERLAYS,
    SERVICES,
    STATEFUL_SERVICES,
    Manifest,
    matches,
    named,
    of_kind,
    render,
    workload,
)

DATA_DIR = "/var/lib/pai"
# Per worker; sized for the whole table (a worker's store keeps partitions it once held).
VOLUME_SIZES = {"dev": "2Gi", "prod": "20Gi"}


def pod_labels(objects: list[Manifest], service: str) -> dict[str, str]:
    labels: dict[str, str] = workload(objects, service)["spec"]["template"]["metadata"]["labels"]
    return labels


def test_the_faust_services_and_only_they_are_stateful() -> None:
    assert STATEFUL_SERVICES == ("eligibility", "scheduler")


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", STATEFUL_SERVICES)
def test_the_data_directory_is_a_claim_of_the_statefulset(overlay: str, service: str) -> None:
    found = named(render(overlay), "StatefulSet", f"pai-{service}")
    spec = found["spec"]
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == DATA_DIR)
    assert not mount.get("readOnly", False)
    (claim,) = spec["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == mount["name"] == "data"
    # A pod volume of that name would be replaced by the claim: there must be none.
    assert mount["name"] not in {v["name"] for v in pod["volumes"]}
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["spec"]["resources"]["requests"]["storage"] == VOLUME_SIZES[overlay]
    assert "storageClassName" not in claim["spec"], "the cluster's default class applies"
    assert "volumeMode" not in claim["spec"] or claim["spec"]["volumeMode"] == "Filesystem"
    # The image's user writes the volume through its group.
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsUser"]


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", STATEFUL_SERVICES)
def test_statefulset_start_update_and_retention(overlay: str, service: str) -> None:
    spec = named(render(overlay), "StatefulSet", f"pai-{service}")["spec"]
    # Workers join the group independently: no ordered start.
    assert spec["podManagementPolicy"] == "Parallel"
    assert spec["updateStrategy"] == {"type": "RollingUpdate"}
    # Kept when the StatefulSet is deleted (recreated workers resume from them); deleted
    # on scale-down (the partitions move away, so the copy goes stale).
    assert spec["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Delete",
    }
    assert spec["selector"] == {"matchLabels": {"app.kubernetes.io/name": f"pai-{service}"}}
    assert matches(spec["selector"], spec["template"]["metadata"]["labels"])


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", STATEFUL_SERVICES)
def test_the_service_name_is_a_headless_service_of_the_pods(overlay: str, service: str) -> None:
    objects = render(overlay)
    found = named(objects, "StatefulSet", f"pai-{service}")
    headless = named(objects, "Service", found["spec"]["serviceName"])
    assert headless["metadata"]["name"] == f"pai-{service}-headless"
    spec = headless["spec"]
    assert spec["clusterIP"] == "None"
    assert spec["publishNotReadyAddresses"] is True
    assert spec["selector"] == found["spec"]["selector"]["matchLabels"]
    assert matches({"matchLabels": spec["selector"]}, pod_labels(objects, service))
    http = {"name": "http", "port": 6066, "targetPort": "http", "protocol": "TCP"}
    assert spec["ports"] == [http]
    # The ServiceMonitor must not scrape the pods a second time through it.
    (monitor,) = of_kind(objects, "ServiceMonitor")
    assert not matches(monitor["spec"]["selector"], headless["metadata"]["labels"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_notifier_is_a_stateless_deployment(overlay: str) -> None:
    found = named(render(overlay), "Deployment", "pai-notifier")
    pod = found["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == DATA_DIR)
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert "emptyDir" in volume
    assert "volumeClaimTemplates" not in found["spec"]


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_a_disruption_budget_covers_each_workload_alone(overlay: str, service: str) -> None:
    """One worker of a service may be evicted at a time, whatever the workload kind."""
    objects = render(overlay)
    budgets = [
        b
        for b in of_kind(objects, "PodDisruptionBudget")
        if matches(b["spec"]["selector"], pod_labels(objects, service))
    ]
    (budget,) = budgets
    assert budget["spec"]["maxUnavailable"] == 1
    for other in SERVICES:
        if other != service:
            assert not matches(budget["spec"]["selector"], pod_labels(objects, other)), other
