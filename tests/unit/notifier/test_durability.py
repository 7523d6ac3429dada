"""A record is finished (its offset may be committed past) only once its effect is durable:
delivered, or its retry, dead letter or rejection acknowledged by the broker."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from typing import Any

import orjson
import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaTimeoutError
from aiokafka.structs import ConsumerRecord

from services.notifier import app as notifier_app
from services.notifier.delivery import Attempt
from services.runtime.codec import AvroCodec
from services.runtime.deadletter import read_error_headers
from services.runtime.partners import parse
from services.runtime.settings import load_settings
from tests.support import events as ev

SECRET = "whsec_" + base64.b64encode(b"durability test secret, 32 bytes").decode()
OPS = "1465011"


class Producer:
    """Stands in for aiokafka's producer: every send is acknowledged, or every send fails."""

    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.sent: list[tuple[str, bytes | None]] = []
        self.headers: list[Any] = []

    async def send(self, topic: str, value: bytes | None, key: Any, headers: Any) -> Any:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.fail:
            future.set_exception(KafkaTimeoutError("no broker acknowledged the send"))
        else:
            self.sent.append((topic, value))
            self.headers.append(headers)
            future.set_result(None)
        return future


def service(fail_sends: bool) -> tuple[notifier_app.NotifierService, Producer]:
    partners = parse(
        {
            "partners": [
                {
                    "ops_code": OPS,
                    "name": "OPS",
                    "url": "https://ops.example.pl/hook",
                    "secret": SECRET,
                    "events": ["*"],
                }
            ]
        },
        {},
        "test",
    )
    made = notifier_app.NotifierService(load_settings(notifier_retry_schedule="1,2"), partners)
    producer = Producer(fail_sends)
    made.producer = producer  # a stand-in
    return made, producer


def record(
    topic: str, offset: int, value: bytes, key: bytes = b"k"
) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(topic, 0, offset, 0, 0, key, value, None, len(key), len(value), ())


async def failed_attempt(webhook: Any, number: int) -> Attempt:
    return Attempt(number, dt.datetime.now(dt.UTC), None, "malformed reply: bad status line", 3)


@pytest.mark.parametrize("fail_sends", [False, True])
def test_a_failed_attempt_is_finished_only_once_its_retry_is_acknowledged(
    fail_sends: bool,
) -> None:
    made, producer = service(fail_sends)
    made.channels[OPS].deliver = failed_attempt  # type: ignore[method-assign]
    key, value = ev.outbound("CycleStarted", ev.pesel_from(1), OPS)
    tp = TopicPartition("pai.scheduler.events.v1", 0)

    async def run() -> None:
        made.tracker.started(tp, 7)
        await made._handle(tp, record(tp.topic, 7, value, key), None, None)

    if fail_sends:
        asyncio.run(refused_then_acknowledged(made, producer, run))
        assert made.tracker.committable() == {tp: 8}
        assert [topic for topic, _ in producer.sent] == ["pai.notifier.retry.1"]
    else:
        asyncio.run(run())
        assert made.tracker.committable() == {tp: 8}
        assert [topic for topic, _ in producer.sent] == ["pai.notifier.retry.1"]


def test_a_rejected_record_is_finished_only_once_its_dead_letter_is_acknowledged() -> None:
    made, _ = service(fail_sends=True)
    tp = TopicPartition("pai.scheduler.events.v1", 0)

    async def run() -> None:
        made.tracker.started(tp, 3)
        await made._handle(tp, record(tp.topic, 3, b"not avro"), None, None)

    asyncio.run(refused_then_acknowledged(made, made.producer, run, offset=3))  # type: ignore[arg-type]
    assert made.tracker.committable() == {tp: 4}


async def refused_then_acknowledged(
    made: notifier_app.NotifierService, producer: Producer, run: Any, offset: int = 7
) -> None:
    """While the broker refuses the write the record stays pending (a commit stays below it),
    the worker says why it is not ready, and nothing escapes; then the broker takes it."""
    tp = TopicPartition("pai.scheduler.events.v1", 0)
    task = asyncio.create_task(run())
    await asyncio.sleep(0.3)
    assert not task.done(), "a refused write must not end the delivery (or the worker)"
    assert made.tracker.committable() == {tp: offset}, "a commit would pass the record"
    assert made.writes.blocked is not None and not made.is_ready
    producer.fail = False
    await asyncio.wait_for(task, 10)
    assert made.writes.blocked is None


def envelope(ops_code: str, payload_ops: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "type": "pai.cycle.started",
        "timestamp": "2026-03-02T05:00:00.000Z",
        "data": {"event_id": "wh-9", "ops_code": payload_ops, "person_id": "44051401359"},
    }
    return {
        "webhook_id": "wh-9",
        "occurred_at": dt.datetime(2026, 3, 2, 5, tzinfo=dt.UTC),
        "ops_code": ops_code,
        "webhook_type": "pai.cycle.started",
        "payload": orjson.dumps(body).decode(),
        "source_topic": "pai.scheduler.events.v1",
        "source_partition": 0,
        "source_offset": 1,
        "attempts": [],
    } | overrides


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (envelope(OPS, "0201011"), "envelope-ops-code-mismatch"),
        (envelope(OPS, OPS, webhook_type="pai.cycle.ended"), "envelope-payload-mismatch"),
        (envelope(OPS, OPS, webhook_id="wh-other"), "envelope-payload-mismatch"),
        (envelope(OPS, OPS, payload="{not json"), "envelope-payload-invalid"),
        (envelope(OPS, OPS, payload="[1, 2]"), "envelope-payload-invalid"),
    ],
)
def test_a_replayed_envelope_that_disagrees_with_its_payload_is_dead_lettered_not_sent(
    fields: dict[str, Any], reason: str
) -> None:
    made, producer = service(fail_sends=False)
    sent: list[Any] = []

    async def deliver(webhook: Any, number: int) -> Attempt:
        sent.append(webhook)
        return Attempt(number, dt.datetime.now(dt.UTC), 204, None, 1)

    made.channels[OPS].deliver = deliver  # type: ignore[method-assign]
    value = AvroCodec("notifier-dlq").encode("WebhookDeadLettered", fields)
    tp = TopicPartition("pai.notifier.replay.v1", 0)

    async def run() -> None:
        made.tracker.started(tp, 0)
        rec = record(tp.topic, 0, value, b"wh-9")
        await made._handle(tp, rec, 0, made._envelope(rec))

    asyncio.run(run())
    assert sent == []
    [(topic, _)] = producer.sent
    assert topic == "pai.dlq.v1"
    assert made.tracker.committable() == {tp: 1}
    [headers] = producer.headers
    error = read_error_headers(headers)
    assert error["reason"] == reason
    assert fields["webhook_id"] in error["exception.message"]
