"""KafkaTopics match the topic catalogue, and each KafkaUser may do exactly what its client does.

The expected ACLs are written out here from what each service reads, writes and creates
(services/*/app.py; the notifier creates its retry and replay topics at start, Faust its
changelog and leader topics), so a change on either side shows up as a difference.
"""

from __future__ import annotations

import re

import pytest

from services.runtime.topics import ALL_TOPICS
from tests.deploy.manifests import K8S, OVERLAYS, config_map, named, of_kind, render, yaml_documents

DNS_1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
CHANGELOGS = ("pai-eligibility-persons-changelog", "pai-scheduler-schedules-changelog")
LEADERS = ("pai-eligibility-__assignor-__leader", "pai-scheduler-__assignor-__leader")

Acl = tuple[str, str, str, str]  # resource type, name, pattern type, operation


def topic(name: str, *operations: str) -> set[Acl]:
    return {("topic", name, "literal", op) for op in operations}


def prefix(name: str, *operations: str) -> set[Acl]:
    return {("topic", name, "prefix", op) for op in operations}


def reads(*names: str) -> set[Acl]:
    return {acl for name in names for acl in topic(name, "Read", "Describe")}


def writes(*names: str) -> set[Acl]:
    return {acl for name in names for acl in topic(name, "Write", "Describe")}


def group(name: str) -> set[Acl]:
    return {("group", name, "literal", "Read")}


FAUST = ("Read", "Write", "Create", "Describe", "DescribeConfigs")  # changelog, leader topic
EXPECTED_ACLS: dict[str, set[Acl]] = {
    "pai-eligibility": reads(
        "pai.pup.profiles.v1",
        "pai.ops.social-assistance.v1",
        "pai.clock.v1",
        "pai.erasures.v1",  # every worker, no group: late input of erased persons
    )
    | writes("pai.eligibility.decisions.v1", "pai.dlq.v1", "pai.audit.v1")  # reads of views
    | prefix("pai-eligibility-", *FAUST)
    | group("pai-eligibility"),
    "pai-scheduler": reads(
        "pai.pup.participation.v1",
        "pai.ops.integration-activities.v1",
        "pai.eligibility.decisions.v1",
        "pai.pup.program-editions.v1",  # every worker, no group
        "pai.clock.v1",  # every worker, no group
        "pai.erasures.v1",  # every worker, no group: late input of erased persons
    )
    | writes("pai.scheduler.events.v1", "pai.dlq.v1", "pai.audit.v1")
    | prefix("pai-scheduler-", *FAUST)
    | group("pai-scheduler"),
    "pai-notifier": reads(
        "pai.eligibility.decisions.v1",
        "pai.scheduler.events.v1",
        "pai.erasures.v1",  # every worker, no group: erased persons' webhooks are dropped
    )
    | writes("pai.notifier.dlq.v1", "pai.dlq.v1", "pai.audit.v1")
    # the disclosure register: written after each delivery, read by its operator view
    | topic("pai.notifier.disclosures.v1", "Read", "Write", "Describe")
    # CreateTopics at every start (existing topics answer TOPIC_ALREADY_EXISTS)
    | topic("pai.notifier.replay.v1", "Read", "Create", "Describe")
    | prefix("pai.notifier.retry.", "Read", "Write", "Create", "Describe")
    | group("pai-notifier"),
    # writes the OPS topics, reads them whole with no group (de-duplication by event_id)
    "pai-gateway": reads("pai.ops.social-assistance.v1", "pai.ops.integration-activities.v1")
    | writes("pai.ops.social-assistance.v1", "pai.ops.integration-activities.v1"),
    # pai send (the PUP and OPS input topics), pai dlq list and replay (no consumer group).
    "pai-operator": reads("pai.dlq.v1", "pai.notifier.dlq.v1")
    | writes(
        "pai.pup.profiles.v1",
        "pai.ops.social-assistance.v1",
        "pai.pup.participation.v1",
        "pai.ops.integration-activities.v1",
        "pai.pup.program-editions.v1",
        "pai.notifier.replay.v1",
    )
    # pai disclosures, pai audit (reads, each recorded) and pai forget (tombstones)
    | topic("pai.notifier.disclosures.v1", "Read", "Write", "Describe")
    | topic("pai.audit.v1", "Read", "Write", "Describe")
    | topic("pai-eligibility-persons-changelog", "Read", "Write", "Describe")
    | topic("pai-scheduler-schedules-changelog", "Read", "Write", "Describe")
    # pai forget writes the erasure marker; pai dlq replay reads the markers
    | topic("pai.erasures.v1", "Read", "Write", "Describe"),
}


def topics_by_kafka_name(overlay: str) -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = {}
    for topic in of_kind(render(overlay), "KafkaTopic"):
        name = topic["spec"].get("topicName", topic["metadata"]["name"])
        assert name not in found, f"two KafkaTopics for {name}"
        assert DNS_1123.match(topic["metadata"]["name"]), topic["metadata"]["name"]
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "pai", name
        found[name] = topic["spec"]
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_contract_topic_has_its_kafka_topic(overlay: str) -> None:
    topics = topics_by_kafka_name(overlay)
    assert set(topics) == {t.name for t in ALL_TOPICS} | set(CHANGELOGS) | set(LEADERS)
    for spec in ALL_TOPICS:
        config = topics[spec.name]["config"]
        assert isinstance(config, dict)
        assert config["cleanup.policy"] == ",".join(spec.cleanup_policy), spec.name
        assert config["retention.ms"] == spec.retention_ms, spec.name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_co_partitioned_topics_share_the_configured_partition_count(overlay: str) -> None:
    """Per-person topics and the tables' changelogs: partition p holds the same persons."""
    topics = topics_by_kafka_name(overlay)
    settings = config_map(render(overlay), "pai-settings")["data"]
    partitions = int(settings["PAI_TOPIC_PARTITIONS"])
    per_person = [t.name for t in ALL_TOPICS if t.per_person]
    assert len(per_person) >= 6
    for name in [*per_person, *CHANGELOGS]:
        assert topics[name]["partitions"] == partitions, name
    for name in CHANGELOGS:
        assert topics[name]["config"] == {"cleanup.policy": "compact"}, name
    for name in LEADERS:
        assert topics[name]["partitions"] == 1, name


def granted(user: dict[str, object]) -> set[Acl]:
    spec = user["spec"]
    assert isinstance(spec, dict)
    assert spec["authentication"] == {"type": "scram-sha-512"}
    assert spec["authorization"]["type"] == "simple"
    result: set[Acl] = set()
    for acl in spec["authorization"]["acls"]:
        assert acl.get("type", "allow") == "allow"
        assert acl.get("host", "*") == "*"
        resource = acl["resource"]
        for operation in acl["operations"]:
            result.add((resource["type"], resource["name"], resource["patternType"], operation))
    return result


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_user_has_exactly_its_clients_acls(overlay: str) -> None:
    objects = render(overlay)
    users = {u["metadata"]["name"]: u for u in of_kind(objects, "KafkaUser")}
    assert set(users) == set(EXPECTED_ACLS)
    for name, expected in EXPECTED_ACLS.items():
        actual = granted(users[name])
        assert actual == expected, (
            f"{name}: missing {sorted(expected - actual)}, extra {sorted(actual - expected)}"
        )
        assert users[name]["metadata"]["labels"]["strimzi.io/cluster"] == "pai"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_user_is_granted_everything(overlay: str) -> None:
    for user in of_kind(render(overlay), "KafkaUser"):
        for resource_type, name, _, operation in granted(user):
            assert name not in ("*", "") and "*" not in name, user["metadata"]["name"]
            assert operation != "All" and resource_type != "cluster", user["metadata"]["name"]


def test_the_cluster_authenticates_and_authorizes_every_client() -> None:
    kafka = named(render("prod"), "Kafka", "pai")["spec"]["kafka"]
    assert kafka["authorization"]["type"] == "simple"
    assert kafka["config"]["auto.create.topics.enable"] is False
    for listener in kafka["listeners"]:
        assert listener["tls"] is True, listener["name"]
        assert listener["authentication"]["type"] == "scram-sha-512", listener["name"]
    assert [(lst["name"], lst["port"]) for lst in kafka["listeners"]] == [("tls", 9093)]
    settings = config_map(render("prod"), "pai-settings")["data"]
    assert settings["PAI_KAFKA_BOOTSTRAP"] == "pai-kafka-bootstrap:9093"
    assert settings["PAI_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert settings["PAI_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"


PARTNER_USERS = K8S / "examples" / "partner-users.yaml"
PUP_TOPICS = ("pai.pup.profiles.v1", "pai.pup.participation.v1", "pai.pup.program-editions.v1")
OPS_TOPICS = ("pai.ops.social-assistance.v1", "pai.ops.integration-activities.v1")


def test_the_partner_user_examples_write_exactly_their_topics_and_read_nothing() -> None:
    """A PUP or OPS writes its topics; what it gets back comes as webhooks, not Read."""
    users = {u["metadata"]["name"]: u for u in yaml_documents(PARTNER_USERS)}
    assert set(users) == {"pup-1465", "ops-1465011"}
    assert granted(users["pup-1465"]) == writes(*PUP_TOPICS)
    assert granted(users["ops-1465011"]) == writes(*OPS_TOPICS)
    for user in users.values():
        assert user["kind"] == "KafkaUser"
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == "pai"
    # every topic a partner writes is a contract topic; the two together write them all
    inbound = {t.name for t in ALL_TOPICS if t.name.startswith(("pai.pup.", "pai.ops."))}
    assert set(PUP_TOPICS) | set(OPS_TOPICS) == inbound


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_partner_user_examples_are_not_deployed(overlay: str) -> None:
    names = {u["metadata"]["name"] for u in of_kind(render(overlay), "KafkaUser")}
    assert not names & {"pup-1465", "ops-1465011"}
