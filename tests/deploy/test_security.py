"""Pods run unprivileged with probes and resources; no secret value is committed anywhere.

Secrets are only referred to: those Strimzi creates (a Secret per KafkaUser, the cluster CA)
and two that the operator creates as docs/operations.md describes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from services.runtime import partners
from tests.deploy.manifests import (
    COMPOSE_FILE,
    DEPLOY,
    OVERLAYS,
    ROOT,
    Manifest,
    compose,
    named,
    of_kind,
    pod_specs,
    render,
    secret_references,
    workloads,
    yaml_documents,
)

UID = 10001  # the image's user (Dockerfile)
# A Secret per KafkaUser (the User Operator), the cluster CA (the Cluster Operator).
STRIMZI_SECRETS = {
    "pai-eligibility",
    "pai-scheduler",
    "pai-notifier",
    "pai-gateway",
    "pai-operator",
    "pai-cluster-ca-cert",
}
SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET")
# compose's demo secrets, each marked DEVELOPMENT ONLY in docker-compose.yml
DEVELOPMENT_ONLY = {"PAI_DEMO_WEBHOOK_SECRET", "PAI_DEMO_INBOUND_SECRET"}
OPERATOR_SECRETS = {
    "pai-partner-secrets",
    "pai-partner-inbound-secrets",
    "pai-admin-token",
    "pai-operator-tokens",
}
PROBES = {
    "livenessProbe": "/health/live",
    "readinessProbe": "/health/ready",
    "startupProbe": "/health/ready",
}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_as_the_image_user_without_privileges(overlay: str) -> None:
    for name, spec in pod_specs(render(overlay)):
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True, name
        assert (pod["runAsUser"], pod["runAsGroup"]) == (UID, UID), name
        # The volumes (the StatefulSets' claims above all) are group-writable for the user.
        assert pod["fsGroup"] == UID, name
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["enableServiceLinks"] is False, name  # no PAI_<SERVICE>_PORT variables
        for container in spec["containers"] + spec.get("initContainers", []):
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context.get("privileged", False) is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert "add" not in context["capabilities"], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_service_accounts_do_not_mount_api_tokens(overlay: str) -> None:
    objects = render(overlay)
    for name, spec in pod_specs(objects):
        account = named(objects, "ServiceAccount", spec["serviceAccountName"])
        assert account["automountServiceAccountToken"] is False, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_containers_have_resources_and_the_three_probes(overlay: str) -> None:
    for name, spec in pod_specs(render(overlay)):
        (container,) = spec["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports == {"http": 6066}, name
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= container["resources"][bound].keys(), (name, bound)
        for probe, path in PROBES.items():
            get = container[probe]["httpGet"]
            assert (get["path"], get["port"]) == (path, "http"), (name, probe)
        startup = container["startupProbe"]
        # Table recovery from a changelog can take minutes: liveness must not kill it.
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 600, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_volumes_are_written(overlay: str) -> None:
    """With a read-only root, PAI_DATA_DIR and /tmp must be writable volumes: /tmp an
    emptyDir everywhere; PAI_DATA_DIR the claim "data" of a StatefulSet's
    volumeClaimTemplates (the Faust services' RocksDB), else an emptyDir (the notifier)."""
    found = workloads(render(overlay))
    assert {w["kind"] for w in found} == {"Deployment", "StatefulSet"}
    for workload in found:
        name, spec = workload["metadata"]["name"], workload["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        claims = {c["metadata"]["name"] for c in workload["spec"].get("volumeClaimTemplates", [])}
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        for path in ("/var/lib/pai", "/tmp"):
            assert not mounts[path].get("readOnly", False), (name, path)
        assert "emptyDir" in volumes[mounts["/tmp"]["name"]], name
        data = mounts["/var/lib/pai"]["name"]
        if workload["kind"] == "StatefulSet":
            # A pod volume of the same name would be dropped for the claim: none at all.
            assert claims == {data} and data not in volumes, name
        else:
            assert not claims and "emptyDir" in volumes[data], name
        ca = volumes[mounts["/etc/pai/kafka-ca"]["name"]]["secret"]
        assert ca["secretName"] == "pai-cluster-ca-cert", name
        assert [item["key"] for item in ca["items"]] == ["ca.crt"], name


def test_the_notifier_mounts_the_partners_file_and_takes_partner_secrets() -> None:
    spec = named(render("prod"), "Deployment", "pai-notifier")["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == "/etc/pai/partners.yaml")
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    assert volume["configMap"]["name"].startswith("pai-partners-")
    assert {"secretRef": {"name": "pai-partner-secrets"}} in container["envFrom"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_referred_to_are_strimzis_or_documented(overlay: str) -> None:
    objects = render(overlay)
    referred = {name for _, spec in pod_specs(objects) for name in secret_references(spec)}
    assert referred == (STRIMZI_SECRETS - {"pai-operator"}) | OPERATOR_SECRETS
    users = {u["metadata"]["name"] for u in of_kind(objects, "KafkaUser")}
    kafka = {k["metadata"]["name"] for k in of_kind(objects, "Kafka")}
    # The User Operator names each Secret after its KafkaUser; the CA is <cluster>-cluster-ca-cert.
    assert users | {f"{name}-cluster-ca-cert" for name in kafka} == STRIMZI_SECRETS


def committed_documents() -> Iterator[tuple[str, Manifest]]:
    for path in sorted([*DEPLOY.rglob("*.yaml"), COMPOSE_FILE]):
        for doc in yaml_documents(path):
            if isinstance(doc, dict):
                yield path.relative_to(ROOT).as_posix(), doc


def test_no_secret_values_are_committed() -> None:
    documents = list(committed_documents())
    assert len(documents) > 40
    for path, doc in documents:
        if doc.get("kind") == "Secret":
            assert not doc.get("data") and not doc.get("stringData"), path
    for overlay in OVERLAYS:
        assert not of_kind(render(overlay), "Secret"), overlay
    compose = dict(documents)["docker-compose.yml"]
    assert not compose.get("secrets"), "compose secrets would be files with values"


def test_secret_variables_take_their_values_from_secrets() -> None:
    """On Kubernetes from a Secret (valueFrom); in compose from the shell (no value), except
    the demo receiver's webhook secret, which is marked development-only."""
    for overlay in OVERLAYS:
        for name, spec in pod_specs(render(overlay)):
            for variable in spec["containers"][0]["env"]:
                if SECRET_NAME.search(variable["name"]):
                    assert "value" not in variable, (overlay, name, variable["name"])
    for service, definition in compose()["services"].items():
        for variable, value in definition.get("environment", {}).items():
            if SECRET_NAME.search(variable) and variable not in DEVELOPMENT_ONLY:
                assert value is None, (service, variable)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_partners_name_their_secrets_and_hold_none(overlay: str) -> None:
    """Valid for the notifier's own loader, https to public hosts, secrets by variable only."""
    path = DEPLOY / "k8s" / "overlays" / overlay / "partners.yaml"
    data = yaml_documents(path)[0]
    variables = set()
    for partner in data["partners"]:  # secret_env: a name, or a list during a rotation
        value = partner["secret_env"]
        variables |= {value} if isinstance(value, str) else set(value)
    dummy = "whsec_" + "A" * 32  # stands for the operator's Secret pai-partner-secrets
    found = partners.parse(data, dict.fromkeys(variables, dummy), str(path))
    assert found
    for entry in found.values():
        assert entry.partner.secret is None, entry.partner.ops_code
        assert entry.partner.url.startswith("https://"), entry.partner.ops_code
        assert not entry.partner.allow_http and not entry.partner.allow_private_network
