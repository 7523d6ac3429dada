"""Both overlays render with Kustomize, each with its namespace, image tag and sizes."""

from __future__ import annotations

import pytest

from tests.deploy.manifests import (
    NAMESPACES,
    OVERLAYS,
    SERVICES,
    WORKLOAD_KINDS,
    config_map,
    named,
    of_kind,
    pod_specs,
    render,
    workload,
    workloads,
)

IMAGE = "ghcr.io/pai-project/pai-services"
TAGS = {"dev": "dev", "prod": "0.1.0"}
WORKERS = {
    "dev": {"eligibility": 1, "scheduler": 1, "notifier": 1, "gateway": 1},
    "prod": {"eligibility": 3, "scheduler": 3, "notifier": 2, "gateway": 2},
}
KAFKA_NODES = {"dev": 1, "prod": 3}
# The base's requests and limits per service, and the smaller ones dev patches in for all.
RESOURCES = {
    "eligibility": {
        "requests": {"cpu": "250m", "memory": "512Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    },
    "scheduler": {
        "requests": {"cpu": "250m", "memory": "512Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    },
    "notifier": {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"cpu": "1", "memory": "512Mi"},
    },
    "gateway": {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"cpu": "1", "memory": "512Mi"},
    },
}
DEV_RESOURCES = {
    "requests": {"cpu": "50m", "memory": "256Mi"},
    "limits": {"cpu": "500m", "memory": "512Mi"},
}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_in_the_overlays_namespace(overlay: str) -> None:
    objects = render(overlay)
    assert len(objects) > 40
    wrong = [
        f"{o['kind']}/{o['metadata']['name']}: {o['metadata'].get('namespace')}"
        for o in objects
        if o["metadata"].get("namespace") != NAMESPACES[overlay]
    ]
    assert not wrong


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_runs_its_command_from_the_tagged_image(overlay: str) -> None:
    objects = render(overlay)
    assert {(w["kind"], w["metadata"]["name"]) for w in workloads(objects)} == {
        (WORKLOAD_KINDS[s], f"pai-{s}") for s in SERVICES
    }
    for name, spec in pod_specs(objects):
        (container,) = spec["containers"]
        assert container["image"] == f"{IMAGE}:{TAGS[overlay]}", name
        assert container["command"] == [name], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_replicas_stay_within_the_partition_count(overlay: str) -> None:
    """A worker owns whole partitions: more workers than partitions would idle."""
    objects = render(overlay)
    partitions = int(config_map(objects, "pai-settings")["data"]["PAI_TOPIC_PARTITIONS"])
    for service, count in WORKERS[overlay].items():
        replicas = workload(objects, service)["spec"]["replicas"]
        assert replicas == count, service
        assert replicas <= partitions, service


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_resources_are_the_bases_and_dev_shrinks_every_workload(overlay: str) -> None:
    """Dev's patch selects by kind: it must reach the StatefulSets as well as the Deployment."""
    objects = render(overlay)
    for service in SERVICES:
        (container,) = workload(objects, service)["spec"]["template"]["spec"]["containers"]
        expected = DEV_RESOURCES if overlay == "dev" else RESOURCES[service]
        assert container["resources"] == expected, service


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_size_matches_the_topics_and_settings(overlay: str) -> None:
    """Replication never exceeds the nodes, and min.insync.replicas leaves room for one loss."""
    objects = render(overlay)
    (pool,) = of_kind(objects, "KafkaNodePool")
    nodes = pool["spec"]["replicas"]
    assert nodes == KAFKA_NODES[overlay]
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    config = named(objects, "Kafka", "pai")["spec"]["kafka"]["config"]
    settings = config_map(objects, "pai-settings")["data"]
    replication = int(settings["PAI_TOPIC_REPLICATION_FACTOR"])
    assert replication == config["default.replication.factor"] == nodes
    assert config["offsets.topic.replication.factor"] == nodes
    assert config["min.insync.replicas"] == max(1, nodes - 1)
    for topic in of_kind(objects, "KafkaTopic"):
        assert topic["spec"]["replicas"] == nodes, topic["metadata"]["name"]
