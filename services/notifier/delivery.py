"""Sending one webhook to one partner, safely, and telling how it went.

Each partner has its own HTTP client (httpx over ``httpx-aiohttp``'s
transport, ~3 times the default transport's rate here: STACK-FACTS.md) whose
connector checks every address it resolves and connects to
(:mod:`services.notifier.guard`), bounds its connections, and never follows
redirects. At most ``max_in_flight`` requests
run at once per partner; the rest wait for a connection, at most the read
timeout. A partner whose connections are all busy with no attempt finishing
for :data:`STALL_S` is stalled: new deliveries to it are not attempted and go
straight to the retry path, so a hanging partner never holds back the others.
Timeouts: connect and read (per socket operation), and a whole-attempt limit
of both together. A 2xx answer is success; any other status (a redirect
included), a timeout, a connection error, a reply that is not HTTP, and any
other error an attempt raises (httpx-aiohttp does not translate every aiohttp
error: STACK-FACTS.md) is a failed attempt, never an exception out of
:meth:`PartnerChannel.deliver`; only cancellation propagates. At most
:data:`RESPONSE_LIMIT` bytes of an answer are read.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
from aiohttp.http_exceptions import HttpProcessingError
from httpx_aiohttp import AiohttpTransport

from services.notifier import guard
from services.notifier.webhooks import Webhook
from services.runtime import partner_urls as urls
from services.runtime import signing
from services.runtime.partners import PartnerWithKeys

RESPONSE_LIMIT = 4096
STALL_S = 1.0
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One delivery attempt, as the notifier's dead-letter record keeps it."""

    attempt: int
    attempted_at: dt.datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.error is None

    def as_record(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "attempted_at": self.attempted_at,
            "status_code": self.status_code,
            "error": self.error,
            "duration_ms": self.duration_ms,
        }


def describe(exc: BaseException) -> str:
    """What went wrong, from the aiohttp error under httpx's (which names every connection
    failure ``ConnectTimeout``): ``timeout``, ``connection failed: ...``, ``malformed
    reply: ...`` or the error's type and text. URLs in it are redacted (no userinfo or
    query), and it is at most 300 characters."""
    root = exc.__cause__ if isinstance(exc, httpx.HTTPError) and exc.__cause__ else exc
    if isinstance(root, aiohttp.ClientConnectorError):
        text = f"connection failed: {root.os_error}"
    elif isinstance(root, TimeoutError) or (
        root is exc and isinstance(exc, httpx.TimeoutException)
    ):
        text = "timeout"
    elif isinstance(root, aiohttp.ClientResponseError):  # not HTTP: httpx-aiohttp passes it on
        text = f"malformed reply: {root.message}"
    elif isinstance(root, aiohttp.ClientPayloadError | HttpProcessingError | httpx.DecodingError):
        text = f"malformed reply: {root}"
    else:
        text = f"{type(root).__name__}: {root}"
    return urls.redact_text(" ".join(text.split()))[:300]


@dataclass(frozen=True)
class Timeouts:
    connect_s: float
    read_s: float


class PartnerChannel:
    """Everything that sends to one partner: client, connection limit, queue and health."""

    def __init__(self, partner: PartnerWithKeys, timeouts: Timeouts, unhealthy_after: int) -> None:
        self.partner = partner.partner
        self.keys = list(partner.keys)
        self.timeouts = timeouts
        self.limit = self.partner.max_in_flight
        self.unhealthy_after = unhealthy_after
        self.waiting = 0
        self.in_flight = 0
        self.consecutive_failures = 0
        self.last_progress = time.monotonic()
        self._slots = asyncio.Semaphore(self.limit)
        self._client: httpx.AsyncClient | None = None

    @property
    def healthy(self) -> bool:
        return self.consecutive_failures < self.unhealthy_after

    def _session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=guard.connector(self.partner.allow_private_network, self.limit),
            auto_decompress=False,
        )

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=AiohttpTransport(client=self._session),
                timeout=httpx.Timeout(
                    connect=self.timeouts.connect_s,
                    read=self.timeouts.read_s,
                    write=self.timeouts.read_s,
                    pool=None,
                ),
                follow_redirects=False,
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def stalled(self) -> bool:
        """Every connection busy and no attempt finished for :data:`STALL_S`: hanging."""
        return self._slots.locked() and time.monotonic() - self.last_progress > STALL_S

    async def deliver(self, webhook: Webhook, number: int) -> Attempt:
        """Attempt ``webhook`` (attempt ``number``); never raises for what the partner does.

        Not attempted (a failed attempt that goes to the retry path) when the partner is
        stalled, or when no connection frees up within the read timeout.
        """
        if self.stalled():
            return self._not_attempted(number, f"partner stalled: {self.limit} requests hang")
        self.waiting += 1
        try:
            async with asyncio.timeout(self.timeouts.read_s):
                await self._slots.acquire()
        except TimeoutError:
            return self._not_attempted(
                number, f"no free connection within {self.timeouts.read_s:g} s"
            )
        finally:
            self.waiting -= 1
        if self.in_flight == 0:
            self.last_progress = time.monotonic()  # idle until now: not stalled
        self.in_flight += 1
        try:
            return await self._attempt(webhook, number)
        finally:
            self.in_flight -= 1
            self.last_progress = time.monotonic()
            self._slots.release()

    def _not_attempted(self, number: int, why: str) -> Attempt:
        self._note(why)
        return Attempt(number, dt.datetime.now(dt.UTC), None, f"not attempted: {why}", 0)

    async def _attempt(self, webhook: Webhook, number: int) -> Attempt:
        started_at = dt.datetime.now(dt.UTC)
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            headers = signing.headers(webhook.webhook_id, int(time.time()), webhook.body, self.keys)
            async with asyncio.timeout(self.timeouts.connect_s + self.timeouts.read_s):
                async with self.client().stream(
                    "POST", self.partner.url, content=webhook.body, headers=headers
                ) as response:
                    status = response.status_code
                    read = 0
                    async for chunk in response.aiter_raw():
                        read += len(chunk)
                        if read >= RESPONSE_LIMIT:
                            break
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except Exception as exc:
            # whatever the partner or the URL causes is a failed attempt (CancelledError is
            # not an Exception: a cancelled delivery stays cancelled)
            error = describe(exc)
        self._note(error)
        return Attempt(number, started_at, status, error, int((time.monotonic() - started) * 1000))

    def _note(self, error: str | None) -> None:
        was_healthy = self.healthy
        self.consecutive_failures = 0 if error is None else self.consecutive_failures + 1
        if was_healthy and not self.healthy:
            log.warning(
                "partner %s (%s) unhealthy: %d attempts failed in a row, last: %s",
                self.partner.ops_code,
                self.partner.name,
                self.consecutive_failures,
                error,
            )
        elif not was_healthy and self.healthy:
            log.info("partner %s (%s) healthy again", self.partner.ops_code, self.partner.name)
