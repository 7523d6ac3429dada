"""Settings come from PAI_ variables; a bad value stops start-up with a message naming it."""

from __future__ import annotations

import pytest

from services.runtime.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("PAI_"):
            monkeypatch.delenv(name)


def test_defaults_suit_the_embedded_broker() -> None:
    settings = load_settings()
    assert settings.kafka_bootstrap == "127.0.0.1:9092"
    assert settings.clock == "system"
    assert settings.ruleset == "seed"
    assert settings.kafka_session_timeout_s <= 10


def test_values_come_from_pai_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAI_KAFKA_BOOTSTRAP", "kafka-0:9092, kafka-1:9092")
    monkeypatch.setenv("PAI_RULESET", "no-profile")
    monkeypatch.setenv("PAI_CLOCK", "topic")
    monkeypatch.setenv("PAI_WEB_PORT", "7001")
    monkeypatch.setenv("PAI_ADMIN_TOKEN", "s3cret")
    settings = load_settings()
    assert settings.bootstrap_servers == ["kafka-0:9092", "kafka-1:9092"]
    assert (settings.ruleset, settings.clock, settings.web_port) == ("no-profile", "topic", 7001)
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_every_bad_value_is_named_with_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAI_CLOCK", "wall")
    monkeypatch.setenv("PAI_WEB_PORT", "70000")
    monkeypatch.setenv("PAI_KAFKA_BOOTSTRAP", "localhost")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "PAI_CLOCK" in message and "'wall'" in message and "'system' or 'topic'" in message
    assert "PAI_WEB_PORT" in message and "65535" in message
    assert "PAI_KAFKA_BOOTSTRAP" in message and "host:port" in message


def test_heartbeat_must_be_below_session_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAI_KAFKA_SESSION_TIMEOUT_S", "3")
    monkeypatch.setenv("PAI_KAFKA_HEARTBEAT_INTERVAL_S", "3")
    with pytest.raises(SettingsError, match="PAI_KAFKA_HEARTBEAT_INTERVAL_S must be below"):
        load_settings()
