"""A real HTTP server on loopback that receives webhooks, as an OPS partner would.

Runs aiohttp in a thread of its own. Each path behaves as told: answer 2xx,
fail a number of times per webhook-id first, be down (503), or hang. Every
request is recorded with its headers, body and arrival time.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from aiohttp import web

from services.local.embedded_broker import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    status: int


@dataclass
class Behaviour:
    fail_first: int = 0
    """Answer 500 to the first N attempts of every webhook-id."""
    down: bool = False
    """Answer 503 to everything."""
    hang_s: float = 0.0
    """Wait this long before answering."""
    redirect_to: str | None = None
    """Answer 307 with this Location."""
    seen: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class Receiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.behaviours: dict[str, Behaviour] = {}
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def start(self) -> Receiver:
        self._thread.start()
        assert self._ready.wait(10), "the receiver did not start"
        return self

    def stop(self) -> None:
        async def cleanup() -> None:
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def requests(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/{path}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        self._loop.run_until_complete(site.start())
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        body = await request.read()
        behaviour = self.behaviours.setdefault(path, Behaviour())
        webhook_id = request.headers.get("webhook-id", "")
        behaviour.seen[webhook_id] += 1
        if behaviour.hang_s:
            await asyncio.sleep(behaviour.hang_s)
        if behaviour.redirect_to:
            status = 307
        elif behaviour.down:
            status = 503
        elif behaviour.seen[webhook_id] <= behaviour.fail_first:
            status = 500
        else:
            status = 204
        with self._lock:
            self.received.append(
                Received(path, dict(request.headers), body, time.monotonic(), status)
            )
        headers = {"Location": behaviour.redirect_to} if behaviour.redirect_to else {}
        return web.Response(status=status, headers=headers)


def delivered(receiver: Receiver, path: str) -> dict[str, Received]:
    """The requests ``path`` answered with 2xx, by webhook-id."""
    return {r.headers["webhook-id"]: r for r in receiver.requests(path) if 200 <= r.status < 300}


def loopback_partner(ops_code: str, url: str, secret: str, **extra: object) -> dict[str, object]:
    """A partners-file entry for a receiver on loopback over plain HTTP, every event type."""
    return {
        "ops_code": ops_code,
        "name": f"OPS {ops_code}",
        "url": url,
        "secret": secret,
        "events": ["*"],
        "allow_http": True,
        "allow_private_network": True,
        **extra,
    }


def write_partners(path: Path, *entries: dict[str, object]) -> Path:
    """The notifier's partners file (``PAI_PARTNERS_FILE``) with ``entries``."""
    path.write_text(yaml.safe_dump({"partners": list(entries)}), encoding="utf-8")
    return path
