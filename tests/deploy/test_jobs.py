"""The operator's Jobs (deploy/k8s/jobs): valid, unprivileged, connected as pai-operator.

They are created on demand with ``kubectl create -f`` rather than rendered by an overlay,
so their Kafka settings are written out; they must equal the services' (settings.env).
"""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest

from services.cli import build_parser
from tests.deploy.manifests import (
    K8S,
    KUBERNETES_VERSION,
    config_map,
    matches,
    named,
    render,
    secret_references,
    yaml_documents,
)

JOBS = sorted((K8S / "jobs").glob("*.yaml"))
KAFKA_SETTINGS = (
    "PAI_KAFKA_BOOTSTRAP",
    "PAI_KAFKA_SECURITY_PROTOCOL",
    "PAI_KAFKA_SASL_MECHANISM",
    "PAI_KAFKA_SSL_CAFILE",
)


def test_the_replay_job_named_in_the_operations_guide_exists() -> None:
    assert K8S / "jobs" / "dlq-replay.yaml" in JOBS


@pytest.mark.parametrize("path", JOBS, ids=lambda p: p.name)
def test_job(path: Path) -> None:
    (job,) = yaml_documents(path)
    assert job["kind"] == "Job"
    kubernetes_validate.validate(job, KUBERNETES_VERSION, strict=True)
    spec = job["spec"]["template"]["spec"]
    assert spec["automountServiceAccountToken"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True
    (container,) = spec["containers"]
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"]["drop"] == ["ALL"]
    assert {"requests", "limits"} <= container["resources"].keys()
    # The command line parses with the CLI's own parser.
    command = container["command"] + container.get("args", [])
    assert command[0] == "pai"
    try:
        build_parser().parse_args(command[1:])
    except SystemExit:
        pytest.fail(f"the pai CLI refuses {command}")
    # Connected as pai-operator, with the services' Kafka settings.
    env = {e["name"]: e for e in container["env"]}
    assert env["PAI_KAFKA_SASL_USERNAME"]["value"] == "pai-operator"
    assert set(secret_references(spec)) == {"pai-operator", "pai-cluster-ca-cert"}
    objects = render("prod")
    settings = config_map(objects, "pai-settings")["data"]
    for name in KAFKA_SETTINGS:
        assert env[name]["value"] == settings[name], name
    image = named(objects, "Deployment", "pai-notifier")["spec"]["template"]["spec"]
    assert container["image"] == image["containers"][0]["image"]
    # The namespace's policies isolate it: default deny, then DNS and Kafka only.
    labels = job["spec"]["template"]["metadata"]["labels"]
    for policy in ("pai-default-deny", "pai-egress-dns-kafka"):
        selector = named(objects, "NetworkPolicy", policy)["spec"]["podSelector"]
        assert matches(selector, labels), policy
