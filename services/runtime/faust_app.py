"""The Faust app factory every service uses, and its health and metrics views.

Start-up time: a consumer group on the embedded broker (tansu) forms only after
half of the member's session timeout, whatever the client; Faust's default
``broker_session_timeout`` of 60 s therefore kept a worker unready for ~30 s.
The factory takes the session timeout from settings (default 10 s, the classic
Kafka client default; heartbeat 3 s), which brings a worker with a table to
ready in ~5-7 s there (~4 s with 6 s) and is a sound value on Apache Kafka.

Recovery: on the embedded broker (``PAI_KAFKA_BROKER=tansu``) the factory also
corrects its stale ListOffsets answer (:mod:`services.runtime.end_offsets`),
without which a restarted worker with its RocksDB data crashed with
``ConsistencyError``, and rewinds a source partition past its end
(:mod:`services.runtime.lost_records`); on Apache Kafka its producer is
idempotent (:mod:`services.runtime.idempotence`). It registers the
RocksDB store that tables written outside stream iteration need
(:mod:`services.runtime.table_store`), and bounds how long a fetch waits at
the broker (:mod:`services.runtime.fetch_wait`).

Web views: Faust serves views of its own by default (``/table/<name>/<key>/``
with a table's stored values, ``/router/...`` with the cluster's worker URLs, the
statistics, graph and index pages), none of them authenticated. The factory
turns every one of them off and builds the app with no built-in blueprint at
all, so a worker serves exactly the views this project registers: health,
metrics and the token-protected operator views (:mod:`services.runtime.operator_views`).
``tests/integration/test_served_routes.py`` lists the routes of each running service.

A broker that lost its data (the embedded broker restarted; a changelog topic
deleted and created again) leaves a worker's RocksDB ahead of its changelog.
Faust's consistency check then raises ``ConsistencyError`` on every start: a
crash loop that no restart cures. The check is off: the worker keeps its local
state, which is the only copy left, and its next writes refill the changelog.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import faust
from aiohttp import web
from faust.web import Request, Response, View
from faust.web.base import BlueprintManager

from services.personal_data.erasure_view import ErasureView
from services.runtime import (
    end_offsets,
    fetch_wait,
    idempotence,
    logs,
    lost_records,
    metrics,
    table_store,
)
from services.runtime.settings import Settings, kafka_client_kwargs, ssl_context
from services.runtime.writes import WriteGate

log = logging.getLogger(__name__)

NO_BUILT_IN_VIEWS = {
    "web_tables_enabled": False,
    "web_router_enabled": False,
    "web_graph_enabled": False,
    "web_stats_enabled": False,
    "web_metrics_enabled": False,
}
"""Faust's own views, each off (see the module docstring)."""


class _App(faust.App):
    """A Faust app whose web server has no built-in blueprint (the index page included),
    and whose writes wait while the broker refuses them (:mod:`services.runtime.writes`)."""

    pai_writes: WriteGate
    pai_waiting_for: list[Callable[[], str | None]]
    """What the worker still waits for before it handles input (None when nothing)."""

    def _new_web(self) -> Any:
        web = super()._new_web()
        web.blueprints = BlueprintManager()
        return web


def create_app(service: str, settings: Settings, **overrides: Any) -> faust.App:
    """A Faust app for ``service`` (e.g. ``eligibility``), configured from ``settings``.

    Values are raw bytes (the Avro codec is ours), tables use RocksDB under
    ``PAI_DATA_DIR``, and ``/health/live`` and ``/health/ready`` are served on
    ``PAI_WEB_PORT``.
    """
    conf: dict[str, Any] = {
        "broker": [f"kafka://{server}" for server in settings.bootstrap_servers],
        "store": table_store.URL,
        "datadir": str(settings.data_dir),
        "topic_partitions": settings.topic_partitions,
        "topic_replication_factor": settings.topic_replication_factor,
        "broker_session_timeout": settings.kafka_session_timeout_s,
        "broker_heartbeat_interval": settings.kafka_heartbeat_interval_s,
        "broker_rebalance_timeout": settings.kafka_rebalance_timeout_s,
        "consumer_auto_offset_reset": "earliest",
        "recovery_consistency_check": False,  # see the module docstring
        "producer_acks": -1,
        "key_serializer": "raw",
        "value_serializer": "raw",
        "web_port": settings.web_port,
        "web_bind": settings.web_bind,
        "web_host": settings.web_host,
        "logging_config": logs.logging_config(service, settings.log_format, settings.log_level),
        **NO_BUILT_IN_VIEWS,
    }
    credentials = broker_credentials(settings)
    if credentials is not None:
        conf["broker_credentials"] = credentials
    conf.update(overrides)
    if any(conf[name] for name in NO_BUILT_IN_VIEWS):
        raise ValueError("Faust's built-in web views serve table data without a token")
    tansu = settings.embedded_broker
    if tansu:
        end_offsets.install(kafka_client_kwargs(settings))
    idempotence.install(not tansu)
    table_store.register()
    fetch_wait.install(settings.kafka_fetch_max_wait_ms)
    app = _App(f"pai-{service}", **conf)
    app.pai_writes = WriteGate(service)
    app.pai_waiting_for = []
    register_health_views(app)
    if tansu:
        register_lost_records_check(app, kafka_client_kwargs(settings))
    return app


def broker_credentials(settings: Settings) -> faust.types.auth.CredentialsT | None:
    """Faust's form of ``PAI_KAFKA_SECURITY_PROTOCOL`` and its SASL/TLS settings."""
    context = ssl_context(settings)
    if settings.kafka_security_protocol.startswith("SASL_"):
        assert settings.kafka_sasl_password is not None  # checked by the settings
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password.get_secret_value(),
            mechanism=settings.kafka_sasl_mechanism,
            ssl_context=context,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def per_person_table(app: faust.App, name: str, settings: Settings) -> Any:
    """A table keyed by PESEL bytes, values our own bytes, partitioned like the topics.

    ``use_partitioner`` because it is also written outside stream iteration (timers, a
    take_events batch, web views), where Faust would otherwise pick the partition of
    the event being processed (STACK-FACTS.md).
    """
    return app.Table(
        name,
        key_type=bytes,
        value_type=bytes,
        use_partitioner=True,
        partitions=settings.topic_partitions,
    )


def register_lost_records_check(app: faust.App, client_kwargs: dict[str, Any]) -> None:
    """Every few seconds, read again a source partition the broker lost (``lost_records``)."""

    async def rewind_lost() -> None:
        try:
            await lost_records.rewind_faust(app, client_kwargs)
        except Exception as exc:  # e.g. a partition revoked meanwhile: the next check sees
            log.debug("lost-records check skipped: %r", exc)

    app.timer(interval=lost_records.CHECK_EVERY_S)(rewind_lost)


def follow_erasures(app: faust.App, settings: Settings) -> ErasureView:
    """The app's view of ``pai.erasures.v1``: read by a task of the app, and the worker
    not ready until it has caught up (nothing of an erased person comes back)."""
    view = ErasureView.of(settings)
    app.task(view.run)
    app.pai_waiting_for.append(  # type: ignore[attr-defined]
        lambda: None if view.caught_up.is_set() else "pai.erasures.v1"
    )
    return view


def writes(app: faust.App) -> WriteGate:
    """The app's gate for effects the broker refuses (see :mod:`services.runtime.writes`)."""
    gate: WriteGate = app.pai_writes  # type: ignore[attr-defined]
    return gate


def waiting_for(app: faust.App) -> list[str]:
    """What the worker's agents still wait for (the clock's ticks, the editions)."""
    checks: list[Callable[[], str | None]] = app.pai_waiting_for  # type: ignore[attr-defined]
    return [why for check in checks if (why := check()) is not None]


def is_ready(app: faust.App) -> bool:
    """Partitions assigned, tables recovered, nothing awaited, writes reaching the broker."""
    recovery = app.tables.recovery  # type: ignore[attr-defined]
    return bool(
        recovery.completed.is_set()
        and not app.rebalancing
        and not recovery.in_recovery
        and writes(app).blocked is None
        and not waiting_for(app)
    )


def register_metrics_view(
    app: faust.App,
    service: str,
    inputs: Iterable[str],
    refresh: Callable[[], None] | None = None,
) -> None:
    """``GET /metrics``: :mod:`services.runtime.metrics` plus the service's own.

    On each scrape: ``pai_ready`` as ``/health/ready`` says, the consumer lag of
    the ``inputs`` partitions assigned here (Faust's fetched high watermark minus
    the offset it last committed), then ``refresh()`` for the service's gauges.
    """
    topics = frozenset(inputs)

    @app.page("/metrics")
    class Metrics(View):
        async def get(self, request: Request) -> Response:
            metrics.READY.labels(service).set(1 if is_ready(app) else 0)
            consumer = app.consumer
            assigned = [tp for tp in consumer.assignment() if tp.topic in topics]
            committed = consumer._committed_offset  # type: ignore[attr-defined]  # faust 0.15
            metrics.set_consumer_lag(
                service,
                {(tp.topic, tp.partition): consumer.highwater(tp) for tp in assigned},
                {(tp.topic, tp.partition): committed.get(tp) for tp in assigned},
            )
            if refresh is not None:
                refresh()
            # an aiohttp response of our own: Faust's helpers refuse a charset parameter
            return web.Response(  # type: ignore[return-value]
                body=metrics.exposition(), headers={"Content-Type": metrics.CONTENT_TYPE}
            )


def register_health_views(app: faust.App) -> None:
    """``GET /health/live`` (the event loop answers) and ``GET /health/ready``."""

    @app.page("/health/live")
    class Live(View):
        async def get(self, request: Request) -> Response:
            return self.json({"status": "live"})

    @app.page("/health/ready")
    class Ready(View):
        async def get(self, request: Request) -> Response:
            ready = is_ready(app)
            blocked = writes(app).blocked
            body = {
                "status": "ready" if ready else ("writes refused" if blocked else "starting"),
                "assigned_partitions": len(app.consumer.assignment()) if ready else 0,
                **({"writes_refused": blocked} if blocked else {}),
                **({"waiting_for": waiting} if (waiting := waiting_for(app)) else {}),
            }
            return self.json(body, status=200 if ready else 503)
