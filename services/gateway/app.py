"""The gateway worker: OPS systems post events over signed HTTPS; they become Kafka records.

``POST /v1/partners/{ops_code}/events`` (one event) and ``.../events:batch`` (up to
:data:`MAX_BATCH`), served by aiohttp on ``PAI_WEB_PORT`` beside ``/health/*`` and
``/metrics``. In order, a request is refused when its body is too large (413),
compressed (415), not complete within :data:`BODY_READ_TIMEOUT_S` (408), not UTF-8
``application/json`` (415), for an unknown ``ops_code`` (401, as a bad signature),
not signed with the partner's inbound secret or stale or replayed (401), over the
partner's rate (429, ``Retry-After``), unreadable JSON (400); then each event is
checked (:mod:`services.gateway.contract`: 400 with the fields at fault, 403 for
another OPS's ``ops_code``), looked up by ``event_id`` (:mod:`services.gateway.written`:
200 with the first write's coordinates, 409 for other content) and written as
single-object Avro, key the PESEL, partitioned by murmur2 (aiokafka's default, as a
Java producer), ``acks=all``. The answer (202 with topic, partition and offset) is sent
only after the broker acknowledged. A broker that does not acknowledge within
``PAI_GATEWAY_WRITE_TIMEOUT_S`` or refuses is a 503 with ``Retry-After``: nothing
escapes to stop the worker. A write that timed out goes on (the record may still reach
the topic): one write per ``event_id`` is under way at a time, and a retry waits for it
instead of writing the event again. A write that failed after its record may have left
(it may be on the topic) is kept as an attempt (:class:`~services.gateway.written.Attempt`)
in this pod's memory: a retry with the same content writes the identical record, one with
other content is a 409. So within one pod, until it restarts or forgets the attempt, an
``event_id`` does not stand for two contents; a restarted pod, or another pod before it
reads the record, does not know the attempt (docs/gateway.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiokafka.errors import BrokerResponseError, KafkaError

from services.gateway import metrics
from services.gateway.authentication import (
    BAD_SIGNATURE,
    ReplayGuard,
    Unauthorized,
    cap_for,
    verify,
)
from services.gateway.contract import ACCEPTED, Checked, FieldError, Forbidden, Invalid, check_event
from services.gateway.follower import Follower
from services.gateway.ratelimit import TokenBucket
from services.gateway.written import Attempt, Seen, Written, WrittenEvents, classify, digest
from services.runtime import metrics as common_metrics
from services.runtime import web_service
from services.runtime.codec import AvroCodec, UnencodableRecord
from services.runtime.identifiers import mask_pesel
from services.runtime.logs import where
from services.runtime.partners import PartnerWithKeys
from services.runtime.settings import Settings, kafka_client_kwargs, producer_kwargs

SERVICE = "gateway"
MAX_EVENT_BYTES = 64 * 1024
MAX_BATCH = 500
MAX_BATCH_BYTES = 1024 * 1024
RETRY_AFTER_UNAVAILABLE_S = 5
BODY_READ_TIMEOUT_S = 10.0
"""A client that sent the headers gets this long for the body, then a 408."""
log = logging.getLogger(__name__)

Answer = tuple[int, dict[str, Any]]
WEBHOOK_ID = web.RequestKey("webhook_id", str)
"""The admitted request's ``webhook-id``, for forgetting it when the request gets a 503."""


def _error(message: str, path: str = "") -> dict[str, Any]:
    return {"errors": [{"path": path, "message": message}]}


class GatewayService:
    def __init__(self, settings: Settings, partners: Mapping[str, PartnerWithKeys]) -> None:
        self.settings = settings
        self.partners = dict(partners)
        self.codecs = {
            spec.name: AvroCodec(spec.schema)
            for spec in ACCEPTED.values()
            if spec.schema is not None
        }
        self.written = WrittenEvents(settings.gateway_dedup_retention_days * 86400)
        client = kafka_client_kwargs(settings)
        self.follower = Follower(client, self.codecs, self.written, settings.embedded_broker)
        self.producer: AIOKafkaProducer | None = None
        self.replays = ReplayGuard(
            caps={
                ops: cap_for(p.partner.inbound_rate_per_s, p.partner.inbound_burst)
                for ops, p in self.partners.items()
            }
        )
        self.buckets = {
            ops: TokenBucket(p.partner.inbound_rate_per_s, p.partner.inbound_burst)
            for ops, p in self.partners.items()
        }
        self._locks: dict[str, asyncio.Lock] = {}
        self._decoy_keys = (os.urandom(32),)
        """What an unknown ops_code's request is checked with: it fails as a bad signature
        does, with the same message, at the same cost."""
        self._deliveries: dict[str, asyncio.Future[Written]] = {}
        """Writes not yet acknowledged nor failed, by event_id: a retry waits for its
        event's write instead of writing the event a second time."""
        self._stopping = asyncio.Event()
        self._following: asyncio.Task[None] | None = None
        self.last_write_error: str | None = None

    @property
    def is_ready(self) -> bool:
        return self.producer is not None and self.follower.caught_up

    # -- running -----------------------------------------------------------------------------
    async def run(self) -> None:
        """Until :meth:`stop`: the producer, and the follower of the written events."""
        client = kafka_client_kwargs(self.settings)
        producer = AIOKafkaProducer(**client, **producer_kwargs(self.settings), linger_ms=2)
        while not self._stopping.is_set():  # a broker not there yet: try again, stay up
            try:
                await producer.start()
                break
            except KafkaError as exc:
                log.warning("cannot reach Kafka yet (%s); trying again in 2 s", exc)
                await asyncio.sleep(2)
        self.producer = producer
        self._following = asyncio.create_task(self._follow())
        await self._stopping.wait()

    async def close(self) -> None:
        """After the web server has answered every request in flight: the follower and the
        producer (whose writes those requests waited for)."""
        if self._following is not None:
            self._following.cancel()
            with contextlib.suppress(BaseException):
                await self._following
        if self.producer is not None:
            await self.producer.stop()

    async def _follow(self) -> None:
        while True:
            try:
                await self.follower.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reading the written events stopped; starting again in 2 s")
                self.follower.caught_up = False
                await asyncio.sleep(2)

    def stop(self) -> None:
        self._stopping.set()

    # -- one event ---------------------------------------------------------------------------
    async def _write(self, ops_code: str, item: Any) -> Answer:
        """Check, de-duplicate and write one event; the status and body of its answer."""
        try:
            checked = check_event(item, ops_code, dt.datetime.now(dt.UTC))
        except Invalid as exc:
            return 400, {"errors": [e.as_json() for e in exc.errors]}
        except Forbidden as exc:
            return 403, _error(str(exc), "data.ops_code")
        codec = self.codecs[checked.topic.name]
        try:
            value = codec.encode(checked.type, checked.fields)
        except UnencodableRecord as exc:
            return 400, _error(str(exc), "data")
        if len(value) > MAX_EVENT_BYTES:
            return 413, _error(f"the record has {len(value):,} bytes; at most {MAX_EVENT_BYTES:,}")
        event_id = checked.event_id
        lock = self._locks.setdefault(event_id, asyncio.Lock())
        try:
            async with lock:
                return await self._write_once(ops_code, checked, value)
        finally:
            if not lock.locked() and self._locks.get(event_id) is lock:
                del self._locks[event_id]

    async def _write_answered(self, ops_code: str, item: Any) -> Answer:
        """:meth:`_write`, with an unexpected error as this item's 500 (a batch's other items
        keep their answers: some of them may be written)."""
        try:
            return await self._write(ops_code, item)
        except Exception:
            log.exception("an event for %s failed unexpectedly", ops_code)
            return 500, _error(_INTERNAL)

    async def _write_once(self, ops_code: str, checked: Checked, value: bytes) -> Answer:
        event_id = checked.event_id
        waited = await self._delivered_before(ops_code, checked)
        if waited is not None:
            return waited
        now = time.time()
        found = self.written.get(event_id, now)
        seen = classify(found, ops_code, digest(value), self.written.attempt(event_id, now))
        if found is not None and seen is Seen.REPEAT:
            return 200, found.coordinates(event_id)
        if seen is Seen.CONFLICT:
            earlier = _WRITTEN_BEFORE if found is not None else _SENT_UNANSWERED
            return 409, _error(
                f"event_id {event_id} was {earlier}: a new event needs a new event_id; a"
                " repeat must be byte for byte the same event",
                "data.event_id",
            )
        delivery = asyncio.ensure_future(self._deliver(ops_code, checked, value))
        self._deliveries[event_id] = delivery
        delivery.add_done_callback(_retrieved)  # logged by _deliver; nobody may wait for it
        try:
            written = await asyncio.wait_for(
                asyncio.shield(delivery), self.settings.gateway_write_timeout_s
            )
        except (KafkaError, TimeoutError, OSError) as exc:
            return self._unacknowledged(ops_code, checked, exc)
        return 202, written.coordinates(event_id)

    def _remember_attempt(self, event_id: str, attempt: Attempt) -> None:
        dropped = self.written.add_attempt(event_id, attempt, attempt.timestamp_s)
        if dropped:
            log.warning(
                "%d unanswered write(s) forgotten: at most %d are kept (a retry of one with"
                " other content is no longer refused)",
                dropped,
                self.written.max_attempts,
            )

    async def _delivered_before(self, ops_code: str, checked: Checked) -> Answer | None:
        """Wait for a write of this event_id still under way (an earlier request timed out
        on it: the record may reach the topic any moment); a 503 if it still does not end
        in time, None once it ended (the store then knows whether it was written)."""
        delivery = self._deliveries.get(checked.event_id)
        if delivery is None:
            return None
        try:
            await asyncio.wait_for(asyncio.shield(delivery), self.settings.gateway_write_timeout_s)
        except TimeoutError as exc:
            return self._unacknowledged(ops_code, checked, exc)
        except (KafkaError, OSError):
            pass  # that write failed; unless refused outright, the store has its attempt
        return None

    async def _deliver(self, ops_code: str, checked: Checked, value: bytes) -> Written:
        """One write to the end, whoever waits for it: the broker's acknowledgement
        recorded under the event_id (or its failure raised); never cancelled by a timeout.
        A failure after the record was queued is recorded as an attempt (the record may be
        on the topic, or reach it later) unless the broker refused it outright
        (:func:`_refused_outright`)."""
        assert self.producer is not None
        event_id = checked.event_id
        started = time.perf_counter()
        try:
            sent = await self.producer.send(  # queued, or raises: then nothing left
                checked.topic.name, value=value, key=checked.person_id.encode()
            )
            try:
                meta = await sent
            except Exception as exc:
                if not _refused_outright(exc):
                    self._remember_attempt(event_id, Attempt(ops_code, digest(value), time.time()))
                raise
            self.last_write_error = None
            metrics.WRITE_SECONDS.observe(time.perf_counter() - started)
            written = Written(
                ops_code, digest(value), meta.topic, meta.partition, meta.offset, time.time()
            )
            self.written.add(event_id, written, time.time())
            log.info(
                "event %s (%s) written for %s",
                event_id,
                checked.type,
                mask_pesel(checked.person_id),
                extra=where(meta.topic, meta.partition, meta.offset, event_id, ops_code=ops_code),
            )
            return written
        except Exception as exc:
            self.last_write_error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self._deliveries.pop(event_id, None)

    def _unacknowledged(self, ops_code: str, checked: Checked, exc: BaseException) -> Answer:
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        self.last_write_error = reason
        log.error(
            "write of event %s for %s not acknowledged: %s",
            checked.event_id,
            mask_pesel(checked.person_id),
            reason,
            extra=where(checked.topic.name, event_id=checked.event_id, ops_code=ops_code),
        )
        return 503, _error(_REFUSED if _refused_outright(exc) else _UNACKNOWLEDGED)

    # -- a request ---------------------------------------------------------------------------
    async def _admit(self, request: web.Request, limit: int) -> tuple[str, Any] | web.Response:
        """The partner and parsed body of a request, or the response refusing it."""
        ops_code = request.match_info["ops_code"]
        partner = self.partners.get(ops_code)
        label = ops_code if partner is not None else "unknown"

        def refuse(status: int, reason: str, message: str, **headers: str) -> web.Response:
            metrics.REJECTED.labels(label, reason).inc()
            return web.json_response(_error(message), status=status, headers=headers or None)

        if request.content_length is not None and request.content_length > limit:
            return refuse(413, "too-large", f"the body is over {limit:,} bytes")
        if request.headers.get("Content-Encoding", "identity").lower() != "identity":
            # the signature is over the bytes sent; and no decompression bomb
            return refuse(415, "encoded", "send the body uncompressed: no Content-Encoding")
        try:
            body = await asyncio.wait_for(_read_at_most(request, limit + 1), BODY_READ_TIMEOUT_S)
        except TimeoutError:
            return refuse(
                408, "body-timeout", f"the body did not arrive within {BODY_READ_TIMEOUT_S:g} s"
            )
        except (OSError, ValueError, web.HTTPException) as exc:
            return refuse(400, "unreadable-body", f"the body could not be read: {exc}")
        if len(body) > limit:
            return refuse(413, "too-large", f"the body is over {limit:,} bytes")
        if request.content_type != "application/json":
            return refuse(415, "not-json", "send Content-Type: application/json")
        if (request.charset or "utf-8").lower() != "utf-8":
            return refuse(415, "not-utf-8", "send the body in UTF-8 (charset=utf-8 or none)")
        headers = {k.lower(): v for k, v in request.headers.items()}
        now = time.time()
        if partner is None:  # answered as a bad signature: the URL tells nobody who is a partner
            try:
                verify(headers, body, self._decoy_keys, now)
            except Unauthorized as exc:
                return refuse(401, "unknown-partner", str(exc))
            return refuse(401, "unknown-partner", BAD_SIGNATURE)  # a 2**-256 chance
        try:
            webhook_id = verify(headers, body, partner.inbound_keys, now)
            self.replays.check_and_remember(ops_code, webhook_id, now)
        except Unauthorized as exc:
            return refuse(401, exc.reason, str(exc))
        wait = self.buckets[ops_code].take(time.monotonic())
        if wait:
            self.replays.forget(ops_code, webhook_id)
            return refuse(
                429,
                "rate-limited",
                f"over {partner.partner.inbound_rate_per_s:g} requests a second: wait {wait} s",
                **{"Retry-After": str(wait)},
            )
        if not self.is_ready:
            self.replays.forget(ops_code, webhook_id)
            return refuse(
                503,
                "not-ready",
                "the gateway is starting: try again",
                **{"Retry-After": str(RETRY_AFTER_UNAVAILABLE_S)},
            )
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return refuse(400, "bad-json", f"the body is not JSON: {exc}")
        request[WEBHOOK_ID] = webhook_id
        return ops_code, parsed

    def _forget_on_503(self, request: web.Request, ops_code: str, status: int) -> None:
        if status == 503 and WEBHOOK_ID in request:
            self.replays.forget(ops_code, request[WEBHOOK_ID])

    async def post_event(self, request: web.Request) -> web.Response:
        admitted = await self._admit(request, MAX_EVENT_BYTES)
        if isinstance(admitted, web.Response):
            return admitted
        ops_code, item = admitted
        status, body = await self._write(ops_code, item)
        metrics.EVENTS.labels(ops_code, _OUTCOMES[status]).inc()
        self._forget_on_503(request, ops_code, status)
        headers = {"Retry-After": str(RETRY_AFTER_UNAVAILABLE_S)} if status == 503 else None
        return web.json_response(body, status=status, headers=headers)

    async def post_batch(self, request: web.Request) -> web.Response:
        admitted = await self._admit(request, MAX_BATCH_BYTES)
        if isinstance(admitted, web.Response):
            return admitted
        ops_code, parsed = admitted
        items = parsed.get("events") if isinstance(parsed, dict) else None
        if not isinstance(items, list) or set(parsed) != {"events"}:
            return web.json_response(_error('expected {"events": [...]}', "events"), status=400)
        if not 1 <= len(items) <= MAX_BATCH:
            return web.json_response(
                _error(f"{len(items)} events; a batch holds 1 to {MAX_BATCH}", "events"),
                status=400,
            )
        answers = await asyncio.gather(*(self._write_answered(ops_code, item) for item in items))
        results = []
        for n, (status, body) in enumerate(answers):
            metrics.EVENTS.labels(ops_code, _OUTCOMES[status]).inc()
            if "errors" in body:
                body = {
                    "errors": [
                        FieldError(f"events[{n}].{e['path']}".rstrip("."), e["message"]).as_json()
                        for e in body["errors"]
                    ]
                }
            results.append({"index": n, "status": status, **body})
        if any(status == 503 for status, _ in answers):
            self._forget_on_503(request, ops_code, 503)
        return web.json_response({"results": results}, status=200)

    # -- web ---------------------------------------------------------------------------------
    def web_app(self) -> web.Application:
        async def live(request: web.Request) -> web.Response:
            return web.json_response({"status": "live"})

        async def ready(request: web.Request) -> web.Response:
            body = {
                "status": "ready" if self.is_ready else "starting",
                "events_known": len(self.written),
                **({"last_write_error": self.last_write_error} if self.last_write_error else {}),
            }
            return web.json_response(body, status=200 if self.is_ready else 503)

        async def prometheus(request: web.Request) -> web.Response:
            common_metrics.READY.labels(SERVICE).set(1 if self.is_ready else 0)
            return web.Response(
                body=common_metrics.exposition(),
                headers={"Content-Type": common_metrics.CONTENT_TYPE},
            )

        @web.middleware
        async def count(request: web.Request, handler: Any) -> web.StreamResponse:
            route = "batch" if request.path.endswith(":batch") else "event"
            try:
                response: web.StreamResponse = await handler(request)
            except web.HTTPException as exc:
                response = web.json_response(_error(exc.reason), status=exc.status)
            except Exception:  # a bug: a counted JSON 500, never a bare one the alert misses
                log.exception("%s %s failed unexpectedly", request.method, request.path)
                response = web.json_response(_error(_INTERNAL), status=500)
            if request.path.startswith("/v1/"):
                ops = request.match_info.get("ops_code", "")
                label = ops if ops in self.partners else "unknown"
                metrics.REQUESTS.labels(label, route, str(response.status)).inc()
            return response

        app = web.Application(middlewares=[count], client_max_size=MAX_BATCH_BYTES + 1)
        app.router.add_get("/health/live", live)
        app.router.add_get("/health/ready", ready)
        app.router.add_get("/metrics", prometheus)
        app.router.add_post("/v1/partners/{ops_code}/events", self.post_event)
        app.router.add_post("/v1/partners/{ops_code}/events:batch", self.post_batch)
        return app


def _retrieved(delivery: asyncio.Future[Written]) -> None:
    if not delivery.cancelled():
        delivery.exception()


def _refused_outright(exc: BaseException) -> bool:
    """Whether the broker answered that it did not append the record: an error response
    it would give again (record too large, topic or cluster authorization denied, a
    policy, an invalid timestamp). A timeout, a lost connection or an error aiokafka
    would retry (the batch may have been appended by an earlier try) is no such answer."""
    return isinstance(exc, BrokerResponseError) and not exc.retriable


async def _read_at_most(request: web.Request, most: int) -> bytes:
    """The body, or its first ``most`` bytes if longer (one ``read`` may return less than
    asked: chunks arrive as the client sends them)."""
    chunks: list[bytes] = []
    size = 0
    while size < most:
        chunk = await request.content.read(most - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


_UNACKNOWLEDGED = (
    "Kafka did not acknowledge the event in time: it may have been written. Send the same"
    " event again after Retry-After (same event_id, same content): that is safe, it is"
    " written once (200 with its coordinates if it had been) or, should the first write"
    " reach Kafka after the gateway gave up on it, twice as the identical record, which the"
    " services take as one event. Other content under this event_id is then refused (409)"
)
_REFUSED = (
    "Kafka refused the event: it was not written. The gateway's operator sees why in its"
    " log; send the same event again after Retry-After"
)
_WRITTEN_BEFORE = "written before with other content"
_SENT_UNANSWERED = (
    "sent before with other content in a write Kafka did not acknowledge (the gateway"
    " answered 503), and that write may be on the topic"
)
_INTERNAL = (
    "internal error: this event may or may not have been written; send it again later (same"
    " event_id: it is written once) and tell the operator"
)
_OUTCOMES = {
    200: "duplicate",
    202: "accepted",
    400: "invalid",
    403: "forbidden",
    409: "conflict",
    413: "invalid",
    500: "internal-error",
    503: "unavailable",
}


async def serve(service: GatewayService) -> None:
    """Run the service with its web app until SIGTERM or SIGINT."""
    await web_service.serve(service, service.close)
