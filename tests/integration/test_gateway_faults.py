"""The gateway in this process, over real HTTP and the session's broker, where a test must
reach inside it: an unexpected error in a handler (a bug) is a counted JSON 500 and, in a
batch, that item's answer only; a write whose answer was lost is retried as the same
record; dates and timestamps past the services' range are a 400.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiokafka.errors import KafkaTimeoutError

from services.gateway import app as gateway_app
from services.gateway import contract
from services.gateway.app import GatewayService
from services.runtime import partners
from services.runtime.metrics import exposition
from services.runtime.settings import load_settings
from tests.support.gateway import (
    benefits_granted,
    gateway_partners,
    hours_reported,
    on_topics,
    post,
)
from tests.support.workers import BROKER_KIND

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def serving(bootstrap: str, directory: Path) -> AsyncIterator[tuple[GatewayService, int]]:
    """A ready gateway (its service and HTTP port) on the broker at ``bootstrap``."""
    path = gateway_partners(
        directory / "partners.yaml", inbound_rate_per_s=10_000, inbound_burst=100_000
    )
    settings = load_settings(
        kafka_bootstrap=bootstrap,
        kafka_broker=BROKER_KIND.get(bootstrap, "kafka"),
        data_dir=directory / "data",
        partners_file=path,
    )
    service = GatewayService(settings, partners.load(path, purpose="inbound"))
    runner = web.AppRunner(service.web_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    running = asyncio.create_task(service.run())
    try:
        for _ in range(600):
            if service.is_ready:
                break
            await asyncio.sleep(0.1)
        assert service.is_ready, "the gateway did not become ready in 60 s"
        yield service, port
    finally:
        service.stop()
        await running
        await runner.cleanup()
        await service.close()


def run(bootstrap: str, directory: Path, test: Callable[[int], Any]) -> None:
    """``test(port)`` in a thread (blocking HTTP) while the gateway serves in this loop."""

    async def main() -> None:
        async with serving(bootstrap, directory) as (_, port):
            await asyncio.to_thread(test, port)

    asyncio.run(main())


def requests_counted(status: int) -> float:
    """``pai_gateway_requests_total`` of ``status``, summed over partners and routes."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in exposition().decode().splitlines()
        if line.startswith("pai_gateway_requests_total{") and f'status="{status}"' in line
    )


PAST_THE_RANGE = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:30:00+01:00",
    "1899-12-31T23:59:59Z",
    "3000-01-01T00:00:00Z",
    "9999-01-01T00:00:00Z",
    "9999-12-31T23:00:00-05:00",
]
"""Instants the services would dead-letter (date-out-of-range): years 1 and 9999, just
past either end of 1900-01-01..2999-12-31, and past Python's dates once in UTC."""


def test_an_occurred_at_or_a_day_past_the_services_range_is_a_400_alone_or_in_a_batch(
    broker, tmp_path: Path
) -> None:
    def test(port: int) -> None:
        with httpx.Client(timeout=10) as client:
            for n, instant in enumerate(PAST_THE_RANGE):
                response = post(client, port, benefits_granted(n, occurred_at=instant))
                assert response.status_code == 400, (instant, response.text)
                [error] = response.json()["errors"]
                assert error["path"] == "data.occurred_at", instant
                assert "1900-01-01..2999-12-31" in error["message"], error
            batch = {
                "events": [
                    benefits_granted(20),
                    benefits_granted(21, occurred_at=PAST_THE_RANGE[4]),
                    benefits_granted(22, occurred_at="2999-12-31T23:59:59Z"),  # in the future
                    hours_reported(23, occurred_at=PAST_THE_RANGE[0]),
                    benefits_granted(24, granted_on="1850-01-01"),  # a day far in the past
                ]
            }
            response = post(client, port, batch, batch=True)
            assert response.status_code == 200, response.text
            results = response.json()["results"]
            assert [r["status"] for r in results] == [202, 400, 400, 400, 400]
            assert results[1]["errors"][0]["path"] == "events[1].data.occurred_at"
            assert results[2]["errors"][0]["path"] == "events[2].data.occurred_at"
            assert "later than the gateway's clock" in results[2]["errors"][0]["message"]
            assert results[3]["errors"][0]["path"] == "events[3].data.occurred_at"
            assert results[4]["errors"][0]["path"] == "events[4].data.granted_on"
            assert all("1900-01-01..2999-12-31" in r["errors"][0]["message"] for r in results[3:])

    run(broker.bootstrap, tmp_path, test)


@pytest.mark.parametrize(
    ("field", "day"), [("valid_until", "9999-12-31"), ("granted_on", "0001-01-01")]
)
def test_a_date_past_the_services_range_is_a_400_naming_it(
    broker, tmp_path: Path, field: str, day: str
) -> None:
    """What eligibility would dead-letter (:mod:`services.runtime.date_range`)."""

    def test(port: int) -> None:
        with httpx.Client(timeout=10) as client:
            response = post(client, port, benefits_granted(4, **{field: day}))
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["path"] == f"data.{field}"
        assert "1900-01-01..2999-12-31" in response.json()["errors"][0]["message"]

    run(broker.bootstrap, tmp_path, test)


def test_an_event_id_in_upper_case_is_the_same_event_id(broker, tmp_path: Path) -> None:
    event = benefits_granted(5)
    lower = event["data"]["event_id"]
    shouted = {**event, "data": {**event["data"], "event_id": lower.upper()}}

    def test(port: int) -> None:
        with httpx.Client(timeout=10) as client:
            first = post(client, port, shouted)
            again = post(client, port, event)
        assert first.status_code == 202, first.text
        assert first.json()["event_id"] == lower
        assert (again.status_code, again.json()) == (200, first.json())

    run(broker.bootstrap, tmp_path, test)


def test_a_client_that_stalls_after_the_headers_gets_a_408(
    broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway_app, "BODY_READ_TIMEOUT_S", 0.5)

    def test(port: int) -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(
                b"POST /v1/partners/1465011/events HTTP/1.1\r\nHost: gateway\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
            )
            answer = conn.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert b"did not arrive within" in answer

    run(broker.bootstrap, tmp_path, test)


def test_a_bug_is_a_counted_json_500_and_in_a_batch_only_its_items(
    broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``check_event`` made to raise for one PESEL: what any unforeseen error would do."""
    faulty = benefits_granted(66)
    checked = contract.check_event

    def check_event(item: Any, ops_code: str, now: Any = None) -> Any:
        if item == faulty:
            raise RuntimeError("a bug")
        return checked(item, ops_code, now)

    monkeypatch.setattr(gateway_app, "check_event", check_event)

    def test(port: int) -> None:
        before = requests_counted(500)
        with httpx.Client(timeout=10) as client:
            response = post(client, port, faulty)
            assert response.status_code == 500
            assert response.headers["content-type"].startswith("application/json")
            assert "same event_id" in response.json()["errors"][0]["message"]
            assert requests_counted(500) == before + 1
            batch = {"events": [benefits_granted(67), faulty, benefits_granted(68)]}
            response = post(client, port, batch, batch=True)
            assert response.status_code == 200, response.text
            assert [r["status"] for r in response.json()["results"]] == [202, 500, 202]

    run(broker.bootstrap, tmp_path, test)


def test_a_retry_after_a_write_whose_answer_was_lost_is_the_same_record_or_a_409(
    broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broker's answer to one write is lost (the producer reports a timeout) and its
    record reaches the topic later, as a request that outlived its timeout does: 503; a
    retry with other content under that event_id is a 409 and writes nothing; a retry with
    the same content is written, and once the late record lands both copies on the topic
    are the same record (key, value, so event_id); a further repeat is a 200."""
    event = hours_reported(71_000)
    event_id = event["data"]["event_id"]
    changed = {**event, "data": {**event["data"], "hours": 12}}

    def send_one(port: int, payload: Any) -> httpx.Response:
        with httpx.Client(timeout=10) as client:
            return post(client, port, payload)

    async def main() -> None:
        async with serving(broker.bootstrap, tmp_path) as (service, port):
            producer = service.producer
            assert producer is not None
            real_send = producer.send
            release = asyncio.Event()
            late: list[asyncio.Task[Any]] = []

            async def send(topic: str, **record: Any) -> asyncio.Future[Any]:
                if late:
                    sent: asyncio.Future[Any] = await real_send(topic, **record)
                    return sent

                async def lands_later() -> None:
                    await release.wait()
                    await (await real_send(topic, **record))

                late.append(asyncio.create_task(lands_later()))
                lost: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
                lost.set_exception(KafkaTimeoutError("no answer from the broker"))
                return lost

            monkeypatch.setattr(producer, "send", send)
            first = await asyncio.to_thread(send_one, port, event)
            assert first.status_code == 503, first.text
            assert "may have been written" in first.json()["errors"][0]["message"]
            other = await asyncio.to_thread(send_one, port, changed)
            assert other.status_code == 409, other.text
            refusal = other.json()["errors"][0]["message"]
            assert "may be on the topic" in refusal
            assert refusal.count("with other content") == 1, refusal  # one sentence
            again = await asyncio.to_thread(send_one, port, event)
            assert again.status_code == 202, again.text
            release.set()
            await late[0]
            found = await asyncio.to_thread(on_topics, broker.bootstrap, {event_id})
            copies = found[event_id]
            assert len(copies) == 2
            assert {(record.key, record.value) for record, _ in copies} == {
                (copies[0][0].key, copies[0][0].value)
            }
            assert copies[0][0].key == event["data"]["person_id"].encode()
            repeat = await asyncio.to_thread(send_one, port, event)
            assert (repeat.status_code, repeat.json()) == (200, again.json())

    asyncio.run(main())
