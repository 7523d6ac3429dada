"""Settings come from PAI_ variables; a bad value stops start-up with a message naming it."""

from __future__ import annotations

import asyncio
import ssl

import certifi
import pytest
from aiokafka import AIOKafkaProducer
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from services.runtime.faust_app import broker_credentials
from services.runtime.settings import SettingsError, kafka_client_kwargs, load_settings


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
    monkeypatch.setenv("PAI_ADMIN_TOKEN", TOKEN)
    settings = load_settings()
    assert settings.bootstrap_servers == ["kafka-0:9092", "kafka-1:9092"]
    assert (settings.ruleset, settings.clock, settings.web_port) == ("no-profile", "topic", 7001)
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(settings)


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


def test_sasl_ssl_reaches_every_kafka_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Strimzi cluster's settings: SCRAM over TLS with the cluster CA, for aiokafka and Faust."""
    monkeypatch.setenv("PAI_KAFKA_BOOTSTRAP", "pai-kafka-bootstrap:9093")
    monkeypatch.setenv("PAI_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("PAI_KAFKA_SASL_USERNAME", "pai-eligibility")
    monkeypatch.setenv("PAI_KAFKA_SASL_PASSWORD", "scram-password")
    monkeypatch.setenv("PAI_KAFKA_SSL_CAFILE", certifi.where())  # any real PEM bundle
    settings = load_settings()
    assert "scram-password" not in repr(settings)

    kwargs = kafka_client_kwargs(settings)
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert kwargs["sasl_plain_username"] == "pai-eligibility"
    assert kwargs["sasl_plain_password"] == "scram-password"
    assert isinstance(kwargs["ssl_context"], ssl.SSLContext)
    assert kwargs["ssl_context"].verify_mode == ssl.CERT_REQUIRED
    assert kafka_client_kwargs(settings, "other:9093")["bootstrap_servers"] == "other:9093"

    async def construct() -> None:  # aiokafka checks protocol, mechanism and context together
        await AIOKafkaProducer(**kwargs).stop()  # never started: nothing to connect

    asyncio.run(construct())

    faust_auth = credentials_to_aiokafka_auth(broker_credentials(settings))
    assert faust_auth["security_protocol"] == "SASL_SSL"
    assert faust_auth["sasl_mechanism"] == "SCRAM-SHA-512"
    assert faust_auth["sasl_plain_username"] == "pai-eligibility"
    assert faust_auth["ssl_context"] is not None


def test_plaintext_adds_no_credentials() -> None:
    settings = load_settings()
    assert kafka_client_kwargs(settings) == {
        "bootstrap_servers": "127.0.0.1:9092",
        "security_protocol": "PLAINTEXT",
    }
    assert broker_credentials(settings) is None


def test_sasl_without_a_user_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAI_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("PAI_KAFKA_SASL_USERNAME", "pai-scheduler")
    with pytest.raises(SettingsError, match="PAI_KAFKA_SASL_PASSWORD"):
        load_settings()


def test_a_missing_ca_file_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAI_KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("PAI_KAFKA_SSL_CAFILE", "/nonexistent/ca.crt")
    with pytest.raises(FileNotFoundError):
        kafka_client_kwargs(load_settings())


def test_an_empty_admin_token_disables_the_operator_views(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Bearer `` with nothing after it must not open them (compose passes empty values)."""
    monkeypatch.setenv("PAI_ADMIN_TOKEN", "")
    assert load_settings().admin_token is None
    monkeypatch.setenv("PAI_ADMIN_TOKEN", "  ")
    assert load_settings().admin_token is None


TOKEN = "s3cret-operator-token-of-32-chars"


def test_a_short_admin_token_stops_start_up_without_showing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAI_ADMIN_TOKEN", "guessable-token-31-characters-x")
    with pytest.raises(SettingsError, match=r"PAI_ADMIN_TOKEN: .*at least 32") as raised:
        load_settings()
    assert "guessable" not in str(raised.value)
    monkeypatch.setenv("PAI_ADMIN_TOKEN", "g" * 32)
    assert load_settings().admin_token is not None


def test_a_plain_password_over_plaintext_is_refused_unless_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAI_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("PAI_KAFKA_SASL_MECHANISM", "PLAIN")
    monkeypatch.setenv("PAI_KAFKA_SASL_USERNAME", "pai-notifier")
    monkeypatch.setenv("PAI_KAFKA_SASL_PASSWORD", "password")
    with pytest.raises(SettingsError, match=r"clear text.*PAI_KAFKA_ALLOW_PLAIN_OVER_PLAINTEXT"):
        load_settings()
    for protocol, mechanism in (("SASL_SSL", "PLAIN"), ("SASL_PLAINTEXT", "SCRAM-SHA-512")):
        monkeypatch.setenv("PAI_KAFKA_SECURITY_PROTOCOL", protocol)
        monkeypatch.setenv("PAI_KAFKA_SASL_MECHANISM", mechanism)
        assert load_settings().kafka_sasl_mechanism == mechanism
    monkeypatch.setenv("PAI_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("PAI_KAFKA_SASL_MECHANISM", "PLAIN")
    monkeypatch.setenv("PAI_KAFKA_ALLOW_PLAIN_OVER_PLAINTEXT", "true")
    assert load_settings().kafka_allow_plain_over_plaintext


def test_credentials_written_into_the_bootstrap_are_not_repeated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAI_KAFKA_BOOTSTRAP", "svc:S3cretPass@kafka:9093")
    with pytest.raises(SettingsError, match="PAI_KAFKA_BOOTSTRAP") as raised:
        load_settings()
    assert "S3cretPass" not in str(raised.value)
