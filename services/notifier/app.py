"""The notifier worker: eligibility decisions and scheduler events become signed webhooks.

An aiokafka consumer in group ``pai-notifier`` reads ``pai.eligibility.decisions.v1``,
``pai.scheduler.events.v1``, the retry topics ``pai.notifier.retry.<n>`` (one per
delay of ``PAI_NOTIFIER_RETRY_SCHEDULE``) and ``pai.notifier.replay.v1``. Every
record becomes a task, so a slow partner holds back nobody else
(:mod:`services.notifier.delivery` bounds each partner). A failed attempt is
written to the next retry topic, or after the last one to ``pai.notifier.dlq.v1``
with every attempt; a retry topic's partition is paused until its first record
is due. Offsets are committed only below the lowest record still in flight
(:mod:`services.notifier.offsets`): every record's webhook was delivered, or
its retry or dead letter acknowledged by the broker, before its offset is.

Faust is not used here: the service keeps no table, and committing per record
after an effect is simpler with aiokafka directly. Health and metrics are
served by a small aiohttp app on ``PAI_WEB_PORT``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from typing import Any

from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata

from services.notifier import envelopes, metrics
from services.notifier.delivery import PartnerChannel, Timeouts
from services.notifier.offsets import OffsetTracker
from services.notifier.webhooks import NoLegalBasis, NotAWebhook, Webhook, webhook_for
from services.personal_data import disclosures
from services.personal_data.erasure_view import ErasureView
from services.personal_data.erasures import webhook_subject
from services.personal_data.person_records import (
    AccessLog,
    RecordsUnavailable,
    producer_send,
    read_person,
)
from services.runtime import lost_records, web_service
from services.runtime import metrics as common_metrics
from services.runtime.codec import AvroCodec
from services.runtime.deadletter import DeadLetter, log_dead_letter
from services.runtime.identifiers import is_valid_pesel, mask_pesel
from services.runtime.inbound import Inbound, Rejected, dead_letter, decode
from services.runtime.kafka_admin import create_topics
from services.runtime.logs import where
from services.runtime.operator_views import authenticate, ingress_user
from services.runtime.partitioning import expected_partition
from services.runtime.partners import PartnerWithKeys
from services.runtime.settings import Settings, kafka_client_kwargs, producer_kwargs
from services.runtime.topics import (
    DISCLOSURES,
    DLQ,
    ELIGIBILITY_DECISIONS,
    NOTIFIER_DLQ,
    NOTIFIER_REPLAY,
    SCHEDULER_EVENTS,
    notifier_retry,
)
from services.runtime.writes import WriteGate

SERVICE = "notifier"
GROUP = "pai-notifier"
COMMIT_EVERY_S = 1.0
MAX_PENDING = 4000
"""Deliveries in flight or waiting, over all partners, before the worker stops fetching."""
log = logging.getLogger(__name__)


class NotifierService:
    def __init__(self, settings: Settings, partners: dict[str, PartnerWithKeys]) -> None:
        self.settings = settings
        self.delays = settings.retry_delays_s
        self.retry_topics = [notifier_retry(n + 1).name for n in range(len(self.delays))]
        self.level_of = {name: n + 1 for n, name in enumerate(self.retry_topics)}
        self.level_of[NOTIFIER_REPLAY.name] = 0
        self.codecs = {
            ELIGIBILITY_DECISIONS.name: AvroCodec("eligibility-decisions"),
            SCHEDULER_EVENTS.name: AvroCodec("scheduler-events"),
        }
        self.envelopes = AvroCodec("notifier-dlq")
        self.register_codec = AvroCodec("disclosures")
        timeouts = Timeouts(settings.notifier_connect_timeout_s, settings.notifier_read_timeout_s)
        self.channels = {
            ops: PartnerChannel(p, timeouts, settings.notifier_unhealthy_after)
            for ops, p in partners.items()
        }
        for ops in self.channels:
            metrics.HEALTHY.labels(ops).set(1)
            # 0 from the start: increase() ignores a series whose first sample is already 1,
            # so PaiWebhooksDeadLettered would miss a partner's first dead-lettered webhook
            metrics.DEAD_LETTERED.labels(ops)
        self.tracker = OffsetTracker[TopicPartition]()
        self.committed: dict[TopicPartition, int] = {}  # the group's offsets, as last known
        self.consumer: AIOKafkaConsumer | None = None
        self.producer: AIOKafkaProducer | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.ready = False
        self.writes = WriteGate(SERVICE)
        self.failure: BaseException | None = None
        self._stopping = asyncio.Event()
        self._resumes: dict[TopicPartition, asyncio.TimerHandle] = {}
        self.erasure_view = ErasureView.of(settings)
        self._following: asyncio.Task[None] | None = None

    # -- running -----------------------------------------------------------------------------
    async def run(self) -> None:
        """Until :meth:`stop`. A write the broker refuses is tried again (``self.writes``);
        any other failure to make a delivery durable stops the worker (a restart resumes)."""
        client = kafka_client_kwargs(self.settings)
        specs = [notifier_retry(n + 1) for n in range(len(self.delays))] + [NOTIFIER_REPLAY]
        failed = [
            r
            for r in await create_topics(
                client,
                self.settings.topic_partitions,
                self.settings.topic_replication_factor,
                specs,
            )
            if r.error
        ]
        if failed:
            raise RuntimeError(f"cannot create the notifier's topics: {failed}")
        self._following = asyncio.create_task(self.erasure_view.run())
        self._following.add_done_callback(self._done)
        await self.erasure_view.caught_up.wait()  # no webhook before the erasures are known
        self.producer = AIOKafkaProducer(**client, **producer_kwargs(self.settings), linger_ms=2)
        self.consumer = AIOKafkaConsumer(
            **client,
            group_id=GROUP,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=int(self.settings.kafka_session_timeout_s * 1000),
            heartbeat_interval_ms=int(self.settings.kafka_heartbeat_interval_s * 1000),
            rebalance_timeout_ms=int(self.settings.kafka_rebalance_timeout_s * 1000),
            fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
            max_poll_records=1000,
        )
        await self.producer.start()
        self.consumer.subscribe(
            [
                ELIGIBILITY_DECISIONS.name,
                SCHEDULER_EVENTS.name,
                NOTIFIER_REPLAY.name,
                *self.retry_topics,
            ],
            listener=_Rebalance(self),
        )
        await self.consumer.start()
        try:
            await self._loop()
        finally:
            await self._shutdown()

    def stop(self) -> None:
        self._stopping.set()

    async def _loop(self) -> None:
        assert self.consumer is not None
        last_commit = time.monotonic()
        watch = lost_records.Watch(
            self.consumer, self.settings.embedded_broker, kafka_client_kwargs(self.settings)
        )
        while not self._stopping.is_set():
            if self.failure is not None:
                raise self.failure
            await watch.check()
            batches = await self.consumer.getmany(timeout_ms=200, max_records=1000)
            self.ready = bool(self.consumer.assignment())
            for tp, records in batches.items():
                self._take(tp, records)
            while len(self.tasks) >= MAX_PENDING and self.failure is None:
                await asyncio.sleep(0.005)  # back-pressure: the fastest partners set the pace
            if time.monotonic() - last_commit >= COMMIT_EVERY_S:
                try:
                    await self.commit()
                except KafkaError as exc:  # a rebalance, or a broker that went away
                    log.warning(
                        "offsets not committed (%s); trying again in %s s", exc, COMMIT_EVERY_S
                    )
                last_commit = time.monotonic()

    def _take(self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        assert self.consumer is not None
        level = self.level_of.get(tp.topic)
        for record in records:
            envelope: dict[str, Any] | None = None
            if level is not None:
                envelope = self._envelope(record)
                if envelope is not None and level > 0:
                    due = envelope["occurred_at"].timestamp() + self.delays[level - 1]
                    wait = due - time.time()
                    if wait > 0:  # the rest of this partition waits too: pause until due
                        self.consumer.seek(tp, record.offset)
                        self.consumer.pause(tp)
                        self._resumes[tp] = asyncio.get_running_loop().call_later(
                            wait, self._resume, tp
                        )
                        return
            self.tracker.started(tp, record.offset)
            task = asyncio.create_task(self._handle(tp, record, level, envelope))
            self.tasks.add(task)
            task.add_done_callback(self._done)

    def _resume(self, tp: TopicPartition) -> None:
        self._resumes.pop(tp, None)
        if self.consumer is not None and tp in self.consumer.assignment():
            self.consumer.resume(tp)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and self.failure is None:
            self.failure = task.exception()
            log.error("a delivery could not be made durable; stopping", exc_info=self.failure)

    async def commit(self, only: set[TopicPartition] | None = None) -> None:
        assert self.consumer is not None
        assigned = self.consumer.assignment()
        offsets = {
            tp: OffsetAndMetadata(offset, "")
            for tp, offset in self.tracker.committable().items()
            if tp in assigned and (only is None or tp in only)
        }
        if offsets:
            await self.consumer.commit(offsets)
            self.committed.update({tp: meta.offset for tp, meta in offsets.items()})

    async def drain(self, partitions: set[TopicPartition], timeout_s: float) -> None:
        """Wait (up to ``timeout_s``) until no record of ``partitions`` is in flight."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and any(self.tracker.in_flight(tp) for tp in partitions):
            await asyncio.sleep(0.05)

    async def _shutdown(self) -> None:
        assert self.consumer is not None and self.producer is not None
        for handle in self._resumes.values():
            handle.cancel()
        with contextlib.suppress(Exception):
            await self.drain(set(self.consumer.assignment()), self.settings.notifier_read_timeout_s)
            await self.commit()
        for task in list(self.tasks):
            task.cancel()
        if self._following is not None:
            self._following.cancel()
        await self.consumer.stop()
        await self.producer.stop()
        for channel in self.channels.values():
            await channel.close()

    # -- one record --------------------------------------------------------------------------
    def _envelope(self, record: ConsumerRecord[bytes, bytes]) -> dict[str, Any] | None:
        try:
            return decode(Inbound.of(record), self.envelopes).fields
        except Rejected:
            return None  # dead-lettered in _handle

    async def _handle(
        self,
        tp: TopicPartition,
        record: ConsumerRecord[bytes, bytes],
        level: int | None,
        envelope: dict[str, Any] | None,
    ) -> None:
        inbound = Inbound.of(record)
        common_metrics.EVENTS_CONSUMED.labels(SERVICE, tp.topic).inc()
        started = time.perf_counter()
        try:
            if level is None:
                found = self._webhook_of(inbound)
                if found is not None:
                    source = (tp.topic, tp.partition, record.offset)
                    await self._deliver(found, source, [])
            else:
                if envelope is None:  # unreadable: decoding again raises the reason
                    envelope = decode(inbound, self.envelopes).fields
                webhook = envelopes.webhook_of(envelope)
                if webhook.ops_code not in self.channels:
                    raise Rejected(
                        "unknown-ops-code",
                        f"ops_code {webhook.ops_code} is no longer in PAI_PARTNERS_FILE",
                    )
                source = (
                    envelope["source_topic"],
                    envelope["source_partition"],
                    envelope["source_offset"],
                )
                attempts = [] if level == 0 else list(envelope["attempts"])
                await self._deliver(webhook, source, attempts)
        except Rejected as rejected:
            await self._dead_letter(dead_letter(SERVICE, inbound, rejected))
        # Durable now: delivered, skipped by design, or its retry, dead letter or rejection
        # acknowledged by the broker. Only now may a commit pass it. While the broker refuses
        # the write, _send tries again and the record stays pending; if anything else fails
        # (the exception leaves here) it stays pending too, the commit stays below it and
        # the worker stops (_done), so a restart takes the record again.
        self.tracker.finished(tp, record.offset)
        common_metrics.PROCESSING.labels(SERVICE).observe(time.perf_counter() - started)
        if level is None:
            common_metrics.observe_latency(SERVICE, [inbound.timestamp_s])

    def _webhook_of(self, inbound: Inbound) -> Webhook | None:
        """The webhook of an input event, None when it is skipped by design; or Rejected."""
        decoded = decode(inbound, self.codecs[inbound.topic])
        try:
            webhook = webhook_for(decoded.type, decoded.fields, self.settings.ruleset)
        except NotAWebhook as exc:
            raise Rejected("no-webhook-type", str(exc)) from exc
        except NoLegalBasis as exc:
            raise Rejected(
                "no-legal-basis",
                f"{exc}: a webhook discloses a person's data only on a stated basis; this"
                " webhook is not sent (nothing replays it: re-publishing the decision would"
                " reach the scheduler too). Add the provision to"
                " services/personal_data/legal-basis.yaml so later events are sent, and tell"
                " the OPS of this person by other means",
            ) from exc
        if webhook.ops_code is None:
            metrics.SKIPPED.labels("no-ops-code", webhook.type).inc()
            return None
        channel = self.channels.get(webhook.ops_code)
        if channel is None:
            raise Rejected(
                "unknown-ops-code",
                f"no partner with ops_code {webhook.ops_code} in PAI_PARTNERS_FILE:"
                " add the OPS to the partners file; this webhook is not replayed (pai dlq"
                " replay reads only undelivered webhooks), see docs/operations.md",
            )
        if not channel.partner.subscribes(webhook.type):
            metrics.SKIPPED.labels("not-subscribed", webhook.type).inc()
            return None
        return webhook

    async def _deliver(
        self, webhook: Webhook, source: tuple[str, int, int], attempts: list[dict[str, Any]]
    ) -> None:
        assert webhook.ops_code is not None
        channel = self.channels[webhook.ops_code]
        ops = webhook.ops_code
        subject = webhook_subject(webhook.body)
        erasures = self.erasure_view.erasures
        if subject is not None and erasures.erased_at(*subject) is not None:
            metrics.SKIPPED.labels("person-erased", webhook.type).inc()
            log.warning(
                "webhook %s (%s) to %s dropped: its person (hash %s) was erased after its"
                " event occurred",
                webhook.webhook_id,
                webhook.type,
                ops,
                erasures.hash_of(subject[0]),
                extra=where(*source, webhook_id=webhook.webhook_id, ops_code=ops),
            )
            return
        number = len(attempts) + 1
        metrics.IN_FLIGHT.labels(ops).inc()
        try:
            attempt = await channel.deliver(webhook, number)
        finally:
            metrics.IN_FLIGHT.labels(ops).dec()
        metrics.DURATION.labels(ops).observe(attempt.duration_ms / 1000)
        metrics.HEALTHY.labels(ops).set(1 if channel.healthy else 0)
        metrics.ATTEMPTS.labels(ops, webhook.type, *metrics.outcome(attempt)).inc()
        if attempt.delivered:
            await self._record_disclosure(webhook, channel.partner.name, number)
            return
        attempts.append(attempt.as_record())
        failed = len(attempts)
        envelope = {
            "webhook_id": webhook.webhook_id,
            "occurred_at": dt.datetime.now(dt.UTC),
            "ops_code": ops,
            "webhook_type": webhook.type,
            "payload": webhook.body.decode(),
            "source_topic": source[0],
            "source_partition": source[1],
            "source_offset": source[2],
            "attempts": attempts,
        }
        value = self.envelopes.encode("WebhookDeadLettered", envelope)
        if failed <= len(self.delays):
            topic = self.retry_topics[failed - 1]
            metrics.RETRIED.labels(ops, str(failed)).inc()
        else:
            topic = NOTIFIER_DLQ.name
            metrics.DEAD_LETTERED.labels(ops).inc()
            log.warning(
                "webhook %s (%s) to %s dead-lettered after %d attempts, last: %s",
                webhook.webhook_id,
                webhook.type,
                ops,
                failed,
                attempt.error,
                extra=where(*source, webhook_id=webhook.webhook_id, ops_code=ops),
            )
        await self._send(topic, webhook.webhook_id.encode(), value, None)

    async def _record_disclosure(self, webhook: Webhook, recipient: str, attempt: int) -> None:
        """The delivery in the disclosure register, acknowledged before the record counts as
        done: a crash before it repeats the delivery (same webhook id, same register key)."""
        assert webhook.ops_code is not None
        fields = disclosures.disclosure_of(
            webhook.webhook_id,
            webhook.type,
            webhook.ops_code,
            webhook.body,
            recipient,
            dt.datetime.now(dt.UTC),
            attempt,
        )
        if fields is None:  # names no person: nothing of a person was disclosed
            return
        person = fields["person_id"]
        key = disclosures.record_key(person, webhook.webhook_id)
        partition = expected_partition(person.encode(), self.settings.topic_partitions)
        value = self.register_codec.encode("Disclosure", fields)
        await self._send(DISCLOSURES.name, key, value, None, partition)

    async def _dead_letter(self, letter: DeadLetter) -> None:
        log_dead_letter(log, letter)
        await self._send(DLQ.name, letter.key, letter.value, letter.headers())

    async def _send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Any,
        partition: int | None = None,
    ) -> None:
        """Write and wait for the acknowledgement; while the broker refuses, try again
        (:mod:`services.runtime.writes`): the record stays in flight, so no commit passes it."""

        async def once() -> None:
            assert self.producer is not None
            placed = {} if partition is None else {"partition": partition}
            await (await self.producer.send(topic, value=value, key=key, headers=headers, **placed))

        await self.writes.until_written(once)

    @property
    def is_ready(self) -> bool:
        return self.ready and self.writes.blocked is None

    # -- metrics -----------------------------------------------------------------------------
    async def refresh_metrics(self) -> None:
        """Readiness, consumer lag and the retry backlog, as they are now."""
        common_metrics.READY.labels(SERVICE).set(1 if self.is_ready else 0)
        consumer = self.consumer
        if consumer is None:
            return
        assigned = list(consumer.assignment())
        highwaters = {(tp.topic, tp.partition): consumer.highwater(tp) for tp in assigned}
        committed: dict[tuple[str, int], int | None] = {}
        for tp in assigned:
            if tp not in self.committed:  # asked once per assignment: a broker round trip
                with contextlib.suppress(KafkaError):
                    self.committed[tp] = await consumer.committed(tp) or 0
            committed[(tp.topic, tp.partition)] = self.committed.get(tp)
        lags = common_metrics.set_consumer_lag(SERVICE, highwaters, committed)
        for level, topic in enumerate(self.retry_topics, start=1):
            backlog = sum(lag for (t, _), lag in lags.items() if t == topic)
            metrics.RETRY_BACKLOG.labels(str(level)).set(backlog)

    # -- web ---------------------------------------------------------------------------------
    def web_app(self) -> web.Application:
        async def live(request: web.Request) -> web.Response:
            return web.json_response({"status": "live"})

        async def ready(request: web.Request) -> web.Response:
            blocked = self.writes.blocked
            body = {
                "status": "ready"
                if self.is_ready
                else ("writes refused" if blocked else "starting"),
                **({"writes_refused": blocked} if blocked else {}),
                "assigned_partitions": len(self.consumer.assignment()) if self.consumer else 0,
                "partners": {
                    ops: "healthy" if c.healthy else "unhealthy" for ops, c in self.channels.items()
                },
            }
            return web.json_response(body, status=200 if self.is_ready else 503)

        async def prometheus(request: web.Request) -> web.Response:
            await self.refresh_metrics()
            return web.Response(
                body=common_metrics.exposition(),
                headers={"Content-Type": common_metrics.CONTENT_TYPE},
            )

        async def person_disclosures(request: web.Request) -> web.Response:
            return await self.disclosures_view(request)

        app = web.Application()
        app.router.add_get("/persons/{pesel}/disclosures", person_disclosures)
        app.router.add_get("/health/live", live)
        app.router.add_get("/health/ready", ready)
        app.router.add_get("/metrics", prometheus)
        return app

    async def disclosures_view(self, request: web.Request) -> web.Response:
        """``GET /persons/{pesel}/disclosures[?since=ISO]``: the person's disclosures, oldest
        first, behind an operator token; the read is recorded in the access log before it is
        answered (under the keyed hash when the register holds nothing of the person)."""
        caller, refused = authenticate(self.settings, request)  # type: ignore[arg-type]
        if refused is not None:
            return web.json_response({"error": refused[0]}, status=refused[1])
        pesel = request.match_info["pesel"]
        if not is_valid_pesel(pesel):
            return web.json_response({"error": "not a valid PESEL"}, status=400)
        since: dt.datetime | None = None
        if "since" in request.query:
            try:
                since = dt.datetime.fromisoformat(request.query["since"])
            except ValueError:
                return web.json_response(
                    {"error": "since: expected an ISO 8601 date or time"}, status=400
                )
            since = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
        if self.producer is None:
            return web.json_response({"error": "starting; try again"}, status=503)
        access = AccessLog(producer_send(self.producer), self.settings.topic_partitions, SERVICE)
        secret = self.settings.audit_hash_secret
        try:
            records = await read_person(
                kafka_client_kwargs(self.settings), DISCLOSURES.name, self.register_codec, pesel
            )
            listed = [disclosures.as_json(e) for e in disclosures.listing(records, since)]
            await access.record_lookup(  # an empty register writes no PESEL back
                bool(listed),
                None if secret is None else secret.get_secret_value(),
                pesel,
                str(caller),
                ingress_user(self.settings, request),  # type: ignore[arg-type]
                "GET /persons/{pesel}/disclosures",
            )
        except RecordsUnavailable as exc:
            return web.json_response({"error": str(exc)}, status=503)
        log.info("disclosures of %s read by %s", mask_pesel(pesel), caller)
        return web.json_response({"person_id": pesel, "disclosures": listed})


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, service: NotifierService) -> None:
        self.service = service

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        service = self.service
        if not revoked:
            return
        partitions = set(revoked)
        await service.drain(partitions, service.settings.notifier_read_timeout_s)
        with contextlib.suppress(Exception):
            await service.commit(partitions)
        for tp in partitions:
            service.tracker.forget(tp)
            service.committed.pop(tp, None)
            handle = service._resumes.pop(tp, None)
            if handle is not None:
                handle.cancel()

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        return None


async def serve(service: NotifierService) -> None:
    """Run the service with its web app until SIGTERM or SIGINT."""
    await web_service.serve(service)
