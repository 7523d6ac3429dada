"""One partner's delivery path against a real HTTP server: what counts as delivered, and
where a webhook may not go."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from services.notifier.delivery import Attempt, PartnerChannel, Timeouts
from services.notifier.webhooks import Webhook
from services.runtime.partners import Partner, PartnerWithKeys, parse
from tests.support.raw_listener import GARBAGE, RawListener
from tests.support.receiver import Behaviour, Receiver

pytestmark = pytest.mark.integration
SECRET = "whsec_" + base64.b64encode(b"delivery test secret, 32 bytes..").decode()
WEBHOOK = Webhook("wh-1", "pai.cycle.started", "1465011", b'{"type":"pai.cycle.started"}')


@pytest.fixture(scope="module")
def receiver() -> Any:
    running = Receiver().start()
    yield running
    running.stop()


def attempt(url: str, private: bool = True, read_s: float = 2.0) -> Attempt:
    partners = parse(
        {
            "partners": [
                {
                    "ops_code": "1465011",
                    "name": "OPS",
                    "url": url,
                    "secret": SECRET,
                    "events": ["*"],
                    "allow_http": True,
                    "allow_private_network": private,
                }
            ]
        },
        {},
        "test",
    )

    async def run() -> Attempt:
        channel = PartnerChannel(partners["1465011"], Timeouts(1.0, read_s), 3)
        try:
            return await channel.deliver(WEBHOOK, 1)
        finally:
            await channel.close()

    return asyncio.run(run())


def test_a_2xx_answer_is_delivered(receiver: Receiver) -> None:
    result = attempt(receiver.url("fine"))
    assert (result.delivered, result.status_code, result.error) == (True, 204, None)
    [request] = receiver.requests("fine")
    assert request.headers["webhook-id"] == "wh-1"
    assert request.headers["webhook-signature"].startswith("v1,")


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(receiver: Receiver) -> None:
    receiver.behaviours["moved"] = Behaviour(redirect_to=receiver.url("elsewhere"))
    result = attempt(receiver.url("moved"))
    assert (result.delivered, result.status_code, result.error) == (False, 307, "HTTP 307")
    assert receiver.requests("elsewhere") == []


def test_no_answer_within_the_read_timeout_is_a_failed_attempt(receiver: Receiver) -> None:
    receiver.behaviours["slow"] = Behaviour(hang_s=3)
    result = attempt(receiver.url("slow"), read_s=0.5)
    assert (result.delivered, result.error) == (False, "timeout")
    assert result.duration_ms < 2000


def test_a_name_resolving_to_loopback_is_refused_unless_the_entry_allows_it(
    receiver: Receiver,
) -> None:
    url = f"http://localhost:{receiver.port}/inward"
    refused = attempt(url, private=False)
    assert not refused.delivered and refused.status_code is None
    assert "refused: localhost resolves to" in (refused.error or "")
    assert receiver.requests("inward") == []
    assert attempt(url, private=True).delivered


def test_nothing_listening_is_a_failed_attempt() -> None:
    from services.local.embedded_broker import free_port

    result = attempt(f"http://127.0.0.1:{free_port()}/none")
    assert not result.delivered and result.status_code is None
    assert (result.error or "").startswith("connection failed:")


def channel_for(partner: Partner, read_s: float = 2.0) -> PartnerChannel:
    keys = PartnerWithKeys.model_construct(partner=partner, keys=(b"k" * 32,))
    return PartnerChannel(keys, Timeouts(1.0, read_s), 3)


def unchecked(url: str, private: bool = False) -> Partner:
    """A partner entry as if it had passed the load-time check: the connect-time guard alone."""
    return Partner.model_construct(
        ops_code="1465011",
        name="OPS",
        url=url,
        secret=SECRET,
        secret_env=None,
        events=["*"],
        allow_http=True,
        allow_private_network=private,
        max_in_flight=4,
    )


def deliver_once(partner: Partner, read_s: float = 2.0) -> Attempt:
    async def run() -> Attempt:
        channel = channel_for(partner, read_s)
        try:
            return await channel.deliver(WEBHOOK, 1)
        finally:
            await channel.close()

    return asyncio.run(run())


def test_an_answer_that_is_not_http_is_a_failed_attempt_without_the_urls_query() -> None:
    garbage = RawListener(GARBAGE).start()
    try:
        result = deliver_once(unchecked(garbage.url("hook?token=s3cr3t-query"), private=True))
    finally:
        garbage.stop()
    assert garbage.connections == 1
    assert not result.delivered and result.status_code is None
    assert (result.error or "").startswith("malformed reply:"), result.error
    assert "s3cr3t-query" not in (result.error or "")


@pytest.mark.parametrize(
    "url",
    [
        "http://user:pass@127.0.0.1:{port}/",  # ValueError from httpx-aiohttp
        "http://0177.0.0.1:{port}/",  # httpx.InvalidURL
        "http://%31%32%37.0.0.1:{port}/",
    ],
)
def test_a_url_the_client_cannot_use_is_a_failed_attempt_not_an_exception(url: str) -> None:
    listener = RawListener().start()
    try:
        result = deliver_once(unchecked(url.format(port=listener.port), private=True))
    finally:
        listener.stop()
    assert not result.delivered and result.error
    assert "pass" not in result.error


@pytest.mark.parametrize(
    "host",
    [
        "127。0。0。1",
        "127\uff0e0\uff0e0\uff0e1",
        "127\uff610\uff610\uff611",
        "127.0.0.1",
        "[::ffff:127.0.0.1]",
        "[::1]",
        "[0:0:0:0:0:0:0:1]",
    ],
)
def test_an_inward_ip_literal_is_refused_at_connect_time(host: str) -> None:
    """The partners file refuses these; the connector refuses them too, should one slip by."""
    listener = RawListener(GARBAGE).start()
    try:
        result = deliver_once(unchecked(f"http://{host}:{listener.port}/inward"))
    finally:
        listener.stop()
    assert listener.connections == 0
    assert not result.delivered
    assert "refused:" in (result.error or ""), result.error
