"""docker-compose.yml runs every service of the image against Apache Kafka in KRaft mode.

Docker cannot run here; this checks the file's own promises (full validation against
the Compose specification comes with the operations work).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from services.runtime.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_compose_runs_kafka_kraft_the_topics_job_and_the_three_services() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["topics"]["command"] == ["pai", "topics", "create"]
    for name in ("eligibility", "scheduler", "notifier"):
        service = services[name]
        assert service["command"] == [f"pai-{name}"]
        assert service["depends_on"]["topics"]["condition"] == "service_completed_successfully"
        assert "/health/ready" in " ".join(service["healthcheck"]["test"])
        env = service["environment"]
        assert env["PAI_KAFKA_BOOTSTRAP"] == "kafka:9092"
        known = {f"PAI_{field.upper()}" for field in Settings.model_fields}
        assert set(env) <= known, set(env) - known
