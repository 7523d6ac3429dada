"""Service settings: environment variables with the ``PAI_`` prefix, validated at start-up.

A bad value stops the service before it touches Kafka, with a message that names
the variable (``PAI_CLOCK``), the value and what is allowed; see :func:`load_settings`.
"""

from __future__ import annotations

import re
import socket
import ssl
from pathlib import Path
from typing import Any, Literal

from aiokafka.helpers import create_ssl_context
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.runtime.operators import (
    DEFAULT_ADMIN_NAME,
    MIN_TOKEN,
    NAME,
    combined,
    parse_tokens,
)

_HOST_PORT = re.compile(r"^[A-Za-z0-9._\-\[\]:]+:\d{1,5}$")
ENV_PREFIX = "PAI_"
MIN_ADMIN_TOKEN = 32
"""Characters of ``PAI_ADMIN_TOKEN`` at least: guessing it must be out of reach."""
SECRETS = frozenset({"admin_token", "kafka_sasl_password", "operator_tokens", "audit_hash_secret"})
"""Settings whose values are never repeated in an error message."""


class SettingsError(SystemExit):
    """Raised (and exits) when a setting is invalid; the text names every bad variable."""


class Settings(BaseSettings):
    """All settings of a PAI worker. Every field is read from ``PAI_<FIELD NAME>``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    kafka_bootstrap: str = Field(
        "127.0.0.1:9092", description="Kafka bootstrap servers, host:port[,host:port...]"
    )
    topic_partitions: int = Field(
        4, ge=1, le=1024, description="Partition count shared by every per-person topic"
    )
    topic_replication_factor: int = Field(1, ge=1, le=16)
    kafka_broker: Literal["kafka", "tansu"] = Field(
        "kafka",
        description="The broker implementation: kafka (Apache Kafka, production; idempotent"
        " producers) or tansu (the embedded broker of `pai run`: no idempotent producer, and"
        " its workarounds: a consumer past a partition's end is rewound, end offsets are taken"
        " from fetches)",
    )
    kafka_session_timeout_s: float = Field(
        10.0,
        gt=0,
        le=300,
        description=(
            "Consumer-group session timeout. The embedded broker holds every JoinGroup for half"
            " of it, so it bounds start-up time there; 10 s is the classic Kafka client default."
        ),
    )
    kafka_heartbeat_interval_s: float = Field(3.0, gt=0, le=100)
    kafka_rebalance_timeout_s: float = Field(30.0, gt=0, le=600)
    kafka_fetch_max_wait_ms: int = Field(
        50, ge=1, le=10_000, description="How long a fetch may wait at the broker for data"
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT",
        description="How clients talk to the brokers; SASL_SSL with SCRAM on a Strimzi cluster",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_allow_plain_over_plaintext: bool = Field(
        False,
        description="Allow SASL PLAIN over SASL_PLAINTEXT, which sends the password unencrypted"
        " (a local test broker only); refused otherwise",
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user (the KafkaUser's name)")
    kafka_sasl_password: SecretStr | None = Field(
        None, description="SASL password (the Secret the Strimzi User Operator creates)"
    )
    kafka_ssl_cafile: Path | None = Field(
        None,
        description="PEM file of the CA that signed the brokers' certificates (Strimzi:"
        " <cluster>-cluster-ca-cert, key ca.crt); the system's CAs when unset",
    )
    partners_file: Path | None = Field(None, description="YAML file of OPS webhook partners")
    clock: Literal["system", "topic"] = "system"
    ruleset: Literal["seed", "no-profile"] = "seed"
    cycle_ending_soon_days: int = Field(
        7, ge=0, le=60, description="Scheduler: CycleEndingSoon this many days before the last day"
    )
    profile_review_due_days: int = Field(
        7,
        ge=1,
        le=90,
        description="Scheduler: the profile review is due this many days after a cycle ends"
        " (then moved to a working day, art. 115 KC)",
    )
    psu_weekly_hours_limit: float = Field(
        10.0,
        gt=0,
        le=168,
        description="Scheduler: PSU (prace społecznie użyteczne) hours over this in a week"
        " (Monday-Sunday) are reported",
    )
    psu_monthly_hours_limit: float = Field(
        40.0, gt=0, le=744, description="Scheduler: PSU hours over this in a calendar month"
    )
    notifier_retry_schedule: str = Field(
        "5,300,1800,7200,18000,36000,36000",
        description="Notifier: seconds from a failed attempt to the next, comma-separated;"
        " after the last the webhook is dead-lettered",
    )
    notifier_connect_timeout_s: float = Field(5.0, gt=0, le=120)
    notifier_read_timeout_s: float = Field(10.0, gt=0, le=600)
    notifier_unhealthy_after: int = Field(
        5, ge=1, le=1000, description="Notifier: failed attempts in a row that mark a partner"
    )
    gateway_write_timeout_s: float = Field(
        10.0,
        gt=0,
        le=120,
        description="Gateway: how long a request waits for the broker's acknowledgement"
        " before it is answered 503 (the client retries; the event_id keeps it written once)",
    )
    gateway_dedup_retention_days: float = Field(
        30.0,
        gt=0,
        le=3650,
        description="Gateway: how long an event_id is remembered (at most the topics'"
        " retention, 30 days): a repeat within it writes nothing",
    )
    web_port: int = Field(6066, ge=1, le=65535)
    web_bind: str = "0.0.0.0"
    web_host: str = Field(
        default_factory=socket.gethostname,
        description="Host name other workers reach this one at (operator views are routed to"
        " the worker that owns the person's partition)",
    )
    data_dir: Path = Field(Path("var/data"), description="Local state (RocksDB tables)")
    admin_token: SecretStr | None = Field(
        None,
        description=f"Bearer token of operator views, at least {MIN_ADMIN_TOKEN} characters"
        " (e.g. `openssl rand -base64 32`); unset: the views are off",
    )
    admin_operator_name: str = Field(
        DEFAULT_ADMIN_NAME,
        pattern=NAME.pattern,
        description="The operator name PAI_ADMIN_TOKEN stands for in the access log",
    )
    operator_tokens: SecretStr | None = Field(
        None,
        description="Named operator tokens, name:token pairs separated by commas or new lines"
        f" (each token at least {MIN_TOKEN} characters); the access log names the reader",
    )
    operator_user_header: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9-]{1,64}$",
        description="A header the ingress sets to the authenticated user (e.g."
        " X-Forwarded-User): recorded in the access log beside the token's name",
    )
    audit_hash_secret: SecretStr | None = Field(
        None,
        description="Key of the HMAC that stands for a PESEL in the access log's erasure"
        " records (pai forget); at least 32 characters",
    )
    person_retention_years: int = Field(
        10,
        ge=1,
        le=1000,
        description="A person's state is removed this many years after their last event or"
        " the end of their registration, grant, contract or eligibility period, whichever is"
        " later (never while one is in force)",
    )
    eligibility_url: str = Field(
        "http://127.0.0.1:6066", description="pai forget: an eligibility worker's web address"
    )
    scheduler_url: str = Field(
        "http://127.0.0.1:6067", description="pai forget: a scheduler worker's web address"
    )
    log_level: Literal["debug", "info", "warn", "error"] = "info"
    log_format: Literal["json", "text"] = Field(
        "json", description="json: one object a line (services.runtime.logs); text: for people"
    )

    @field_validator(
        "admin_token",
        "kafka_sasl_password",
        "kafka_sasl_username",
        "operator_tokens",
        "audit_hash_secret",
        "operator_user_header",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """An empty variable (``PAI_ADMIN_TOKEN=``) means unset, never an empty secret."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("admin_token")
    @classmethod
    def _admin_token_is_long(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_ADMIN_TOKEN:
            raise ValueError(
                f"the token has {len(value.get_secret_value())} characters; operator views"
                f" need at least {MIN_ADMIN_TOKEN} (e.g. `openssl rand -base64 32`)"
            )
        return value

    @field_validator("operator_tokens")
    @classmethod
    def _operator_tokens_parse(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_tokens(value.get_secret_value())  # OperatorTokensError names the entry
        return value

    @field_validator("audit_hash_secret")
    @classmethod
    def _hash_secret_is_long(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_TOKEN:
            raise ValueError(f"at least {MIN_TOKEN} characters are needed")
        return value

    @model_validator(mode="after")
    def _tokens_combine(self) -> Settings:
        self.operator_tokens_by_name()  # a clash between the two settings stops start-up
        return self

    def operator_tokens_by_name(self) -> dict[str, str]:
        """Every operator token by its name (``PAI_OPERATOR_TOKENS`` and ``PAI_ADMIN_TOKEN``)."""
        named = (
            parse_tokens(self.operator_tokens.get_secret_value()) if self.operator_tokens else {}
        )
        admin = self.admin_token.get_secret_value() if self.admin_token else None
        return combined(named, admin, self.admin_operator_name)

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap_is_host_port(cls, value: str) -> str:
        servers = [s.strip() for s in value.split(",") if s.strip()]
        bad = [s for s in servers if not _HOST_PORT.match(s)]
        if not servers or bad:
            raise ValueError("expected host:port[,host:port...]")
        return ",".join(servers)

    @model_validator(mode="after")
    def _heartbeat_below_session(self) -> Settings:
        if self.kafka_heartbeat_interval_s >= self.kafka_session_timeout_s:
            raise ValueError(
                "PAI_KAFKA_HEARTBEAT_INTERVAL_S must be below PAI_KAFKA_SESSION_TIMEOUT_S"
                f" ({self.kafka_heartbeat_interval_s} >= {self.kafka_session_timeout_s})"
            )
        return self

    @model_validator(mode="after")
    def _sasl_has_credentials(self) -> Settings:
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                f"PAI_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs"
                " PAI_KAFKA_SASL_USERNAME and PAI_KAFKA_SASL_PASSWORD"
            )
        return self

    @model_validator(mode="after")
    def _no_clear_text_password(self) -> Settings:
        if (
            self.kafka_security_protocol == "SASL_PLAINTEXT"
            and self.kafka_sasl_mechanism == "PLAIN"
            and not self.kafka_allow_plain_over_plaintext
        ):
            raise ValueError(
                "PAI_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT with PAI_KAFKA_SASL_MECHANISM=PLAIN"
                " sends the password in clear text: use SASL_SSL (or SCRAM), or set"
                " PAI_KAFKA_ALLOW_PLAIN_OVER_PLAINTEXT=true for a local test broker"
            )
        return self

    @field_validator("notifier_retry_schedule")
    @classmethod
    def _schedule_is_seconds(cls, value: str) -> str:
        try:
            delays = [float(part) for part in value.split(",")]
        except ValueError:
            raise ValueError(f"expected seconds separated by commas, got {value!r}") from None
        if not delays or any(d < 0 for d in delays) or len(delays) > 20:
            raise ValueError("expected 1 to 20 delays of 0 seconds or more")
        return value

    @property
    def embedded_broker(self) -> bool:
        """Talking to tansu (``PAI_KAFKA_BROKER=tansu``): no idempotent producer, and its
        workarounds on (the rewind past a partition's end, end offsets from fetches)."""
        return self.kafka_broker == "tansu"

    @property
    def retry_delays_s(self) -> list[float]:
        return [float(part) for part in self.notifier_retry_schedule.split(",")]

    @property
    def bootstrap_servers(self) -> list[str]:
        return self.kafka_bootstrap.split(",")


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context for SSL and SASL_SSL (server certificates checked), else None."""
    if settings.kafka_security_protocol not in ("SSL", "SASL_SSL"):
        return None
    cafile = str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
    context: ssl.SSLContext = create_ssl_context(cafile=cafile)
    return context


def producer_kwargs(settings: Settings) -> dict[str, Any]:
    """What every producer of the services sets: all in-sync replicas acknowledge, and on
    Apache Kafka an idempotent producer (a retried batch is written once, in order);
    the embedded broker refuses ``InitProducerId``."""
    return {"acks": "all", "enable_idempotence": not settings.embedded_broker}


def kafka_client_kwargs(settings: Settings, bootstrap: str | None = None) -> dict[str, Any]:
    """Connection arguments of every aiokafka client (consumer, producer, admin).

    ``bootstrap`` overrides ``PAI_KAFKA_BOOTSTRAP`` (the CLI's ``--bootstrap``);
    security settings always come from the environment.
    """
    kwargs: dict[str, Any] = {
        "bootstrap_servers": bootstrap or settings.kafka_bootstrap,
        "security_protocol": settings.kafka_security_protocol,
    }
    context = ssl_context(settings)
    if context is not None:
        kwargs["ssl_context"] = context
    if settings.kafka_security_protocol.startswith("SASL_"):
        assert settings.kafka_sasl_password is not None  # checked by the settings
        kwargs["sasl_mechanism"] = settings.kafka_sasl_mechanism
        kwargs["sasl_plain_username"] = settings.kafka_sasl_username
        kwargs["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return kwargs


def describe_errors(exc: ValidationError) -> str:
    """One line per invalid setting, naming its environment variable."""
    lines = []
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        name = ENV_PREFIX + loc[0].upper() if loc else "settings"
        value = err.get("input")
        hidden = loc == [] or isinstance(value, dict) or loc[0] in SECRETS
        if isinstance(value, str):  # credentials written into an address (user:pass@host)
            value = re.sub(r"[^,/@\s]*@", "***@", value)
        shown = "" if hidden else f" (got {value!r})"
        lines.append(f"  {name}: {err['msg']}{shown}")
    return "invalid settings:\n" + "\n".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings; exit with a readable message if any is invalid."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe_errors(exc)) from None
