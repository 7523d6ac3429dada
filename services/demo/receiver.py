"""The demo's OPS side: one webhook endpoint per OPS that verifies every signature.

What an OPS developer would write: ``POST /ops/{ops_code}`` checks the Standard
Webhooks signature with the off-the-shelf ``standardwebhooks`` library and the
OPS's secret, answers 401 to anything that does not verify, and keeps each
webhook once by its ``webhook-id`` (a repeat is acknowledged and counted).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiohttp import web
from standardwebhooks import Webhook, WebhookVerificationError

Listener = Callable[[str, dict[str, Any]], None]


class DemoReceiver:
    """Endpoints for the OPS in ``secrets`` (ops_code → ``whsec_…``), on loopback."""

    def __init__(self, secrets: dict[str, str]) -> None:
        self.verifiers = {ops: Webhook(secret) for ops, secret in secrets.items()}
        self.received: dict[str, dict[str, dict[str, Any]]] = {ops: {} for ops in secrets}
        self.repeats: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()  # bad signature, or a person of another OPS
        self.listeners: list[Listener] = []
        self.changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    def url(self, ops_code: str) -> str:
        return f"http://127.0.0.1:{self.port}/ops/{ops_code}"

    async def start(self, port: int = 0) -> DemoReceiver:
        app = web.Application()
        app.router.add_post("/ops/{ops}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def counts(self) -> Counter[tuple[str, str]]:
        """Webhooks kept, per (ops_code, type)."""
        return Counter(
            (ops, body["type"]) for ops, by_id in self.received.items() for body in by_id.values()
        )

    async def _handle(self, request: web.Request) -> web.Response:
        ops = request.match_info["ops"]
        verifier = self.verifiers.get(ops)
        if verifier is None:
            return web.Response(status=404, text="no such OPS")
        body = await request.read()
        try:
            payload = verifier.verify(body, dict(request.headers))
        except WebhookVerificationError as exc:
            self.refused[ops] += 1
            return web.Response(status=401, text=f"signature: {exc}")
        if payload.get("data", {}).get("ops_code") != ops:
            self.refused[ops] += 1  # personal data of another OPS's client: never accepted
            return web.Response(status=400, text="not a person of this OPS")
        webhook_id = request.headers["webhook-id"]
        if webhook_id in self.received[ops]:
            self.repeats[ops] += 1
        else:
            self.received[ops][webhook_id] = payload
            for listener in self.listeners:
                listener(ops, payload)
            self.changed.set()
        return web.Response(status=204)
