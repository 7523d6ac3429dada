"""docker-compose.yml: a valid Compose file running Kafka (KRaft), a topics job, the three
services and the demo OPS receiver, each with a health check.

The Compose specification's JSON Schema is the copy vendored in check-jsonschema
(``check_jsonschema/builtin_schemas/vendor/compose-spec.json``, from
compose-spec/compose-spec, Apache-2.0); Docker is not needed.
"""

from __future__ import annotations

import importlib.resources
import json
from typing import Any

import jsonschema
import pytest
import yaml

from services.cli import build_parser
from services.runtime import partners
from tests.deploy.manifests import COMPOSE_FILE, DEPLOY, SERVICES, compose

PARTNERS = DEPLOY / "compose" / "partners.yaml"


def compose_schema() -> dict[str, Any]:
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text(encoding="utf-8"))
    return schema


def schema_errors(document: dict[str, Any]) -> list[str]:
    # The file names draft-07 by an https URL that jsonschema does not recognise.
    validator = jsonschema.Draft7Validator(compose_schema())
    return [
        f"{'.'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def healthcheck_command(service: dict[str, Any]) -> str:
    return " ".join(service["healthcheck"]["test"])


def test_the_file_follows_the_compose_specification() -> None:
    assert schema_errors(compose()) == []


def test_the_schema_check_refuses_a_misspelt_key() -> None:
    broken = compose()
    broken["services"]["notifier"]["healthcheck"]["intervall"] = "10s"
    broken["services"]["receiver"]["depends_on"] = {"topics": {"conditon": "service_started"}}
    errors = schema_errors(broken)
    assert any("intervall" in e for e in errors) and any("conditon" in e for e in errors), errors


def test_kafka_runs_in_kraft_mode_without_auto_created_topics() -> None:
    kafka = compose()["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    environment = kafka["environment"]
    assert environment["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "KAFKA_CONTROLLER_QUORUM_VOTERS" in environment
    assert not any("ZOOKEEPER" in name for name in environment)
    assert environment["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "kafka-topics.sh" in healthcheck_command(kafka)


def test_the_topics_job_runs_once_after_kafka_is_healthy() -> None:
    topics = compose()["services"]["topics"]
    assert topics["command"] == ["pai", "topics", "create"]
    assert topics["restart"] == "no"
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_starts_after_the_topics_and_reports_readiness(name: str) -> None:
    service = compose()["services"][name]
    assert service["command"] == [f"pai-{name}"]
    assert service["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    assert "http://127.0.0.1:6066/health/ready" in healthcheck_command(service)
    environment = service["environment"]
    assert environment["PAI_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert environment["PAI_KAFKA_SECURITY_PROTOCOL"] == "PLAINTEXT"
    assert environment["PAI_WEB_HOST"] == name
    assert "/var/lib/pai" in " ".join(service["volumes"])


@pytest.mark.parametrize("name", [*SERVICES, "topics", "receiver"])
def test_containers_run_read_only_without_privileges(name: str) -> None:
    service = compose()["services"][name]
    assert service["read_only"] is True
    assert service["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in service["security_opt"]
    assert "user" not in service or service["user"] == "10001:10001"


def test_the_receiver_serves_the_compose_partners_and_the_notifier_waits_for_it() -> None:
    services = compose()["services"]
    receiver = services["receiver"]
    assert receiver["command"] == [
        "pai",
        "receiver",
        "--partners",
        "/etc/pai/partners.yaml",
        "--bind",
        "0.0.0.0",
        "--port",
        "8080",
    ]
    assert "http://127.0.0.1:8080/health" in healthcheck_command(receiver)
    for command in (receiver["command"], services["topics"]["command"]):
        build_parser().parse_args(command[1:])  # the pai CLI accepts it
    mount = "./deploy/compose/partners.yaml:/etc/pai/partners.yaml:ro"
    assert mount in receiver["volumes"] and mount in services["notifier"]["volumes"]
    assert services["notifier"]["depends_on"]["receiver"]["condition"] == "service_healthy"


def test_the_partners_file_is_valid_with_the_development_secret() -> None:
    """Parsed by the notifier's own loader, with the environment compose gives it."""
    environment = compose()["services"]["notifier"]["environment"]
    secret = environment["PAI_DEMO_WEBHOOK_SECRET"]
    assert secret == compose()["services"]["receiver"]["environment"]["PAI_DEMO_WEBHOOK_SECRET"]
    assert "DEVELOPMENT ONLY" in PARTNERS.read_text(encoding="utf-8")
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert "DEVELOPMENT ONLY" in text[: text.index("x-demo-webhook-secret:")]
    data = yaml.safe_load(PARTNERS.read_text(encoding="utf-8"))
    found = partners.parse(data, {"PAI_DEMO_WEBHOOK_SECRET": secret}, str(PARTNERS))
    assert set(found) == {"1465011", "1465038", "1261011"}
    for entry in found.values():
        assert entry.partner.url == f"http://receiver:8080/ops/{entry.partner.ops_code}"
        assert entry.partner.allow_http and entry.partner.allow_private_network


def test_the_gateway_reads_the_compose_partners_with_the_inbound_secret_only() -> None:
    gateway = compose()["services"]["gateway"]
    assert gateway["command"] == ["pai-gateway"]
    assert "./deploy/compose/partners.yaml:/etc/pai/partners.yaml:ro" in gateway["volumes"]
    environment = gateway["environment"]
    assert "PAI_DEMO_WEBHOOK_SECRET" not in environment  # it never signs webhooks
    data = yaml.safe_load(PARTNERS.read_text(encoding="utf-8"))
    env = {"PAI_DEMO_INBOUND_SECRET": environment["PAI_DEMO_INBOUND_SECRET"]}
    found = partners.parse(data, env, str(PARTNERS), purpose="inbound")
    assert all(len(entry.inbound_keys) == 1 for entry in found.values())
