"""The demo's OPS side: one webhook endpoint per OPS that verifies every signature.

What an OPS developer would write: ``POST /ops/{ops_code}`` checks the Standard
Webhooks signature with the off-the-shelf ``standardwebhooks`` library and the
OPS's secret, answers 401 to anything that does not verify, and keeps each
webhook once by its ``webhook-id`` (a repeat is acknowledged and counted).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from standardwebhooks import Webhook, WebhookVerificationError

from services.runtime.identifiers import mask_pesel
from services.runtime.partners import PartnerWithKeys

Listener = Callable[[str, dict[str, Any]], None]


class DemoReceiver:
    """Endpoints for the OPS in ``secrets`` (ops_code → ``whsec_…`` or the key's bytes).

    On loopback unless started with another ``host`` (``pai receiver --bind``).
    """

    def __init__(self, secrets: Mapping[str, str | bytes]) -> None:
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

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> DemoReceiver:
        app = web.Application()
        app.router.add_post("/ops/{ops}", self._handle)
        app.router.add_get("/health", self._health)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
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

    async def _health(self, request: web.Request) -> web.Response:
        kept = sum(len(by_id) for by_id in self.received.values())
        return web.json_response({"status": "live", "kept": kept, "ops": sorted(self.verifiers)})

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


async def serve_partners(partners: Mapping[str, PartnerWithKeys], host: str, port: int) -> None:
    """``pai receiver``: an endpoint for every partner of a partners file, until cancelled.

    Each received webhook is printed on one line, the person's PESEL masked.
    """
    receiver = DemoReceiver({ops: p.keys[0] for ops, p in partners.items()})

    def show(ops: str, payload: dict[str, Any]) -> None:
        data = payload.get("data", {})
        person = mask_pesel(str(data.get("person_id", "")))
        print(f"{ops} {payload.get('type')} {person}", flush=True)

    receiver.listeners.append(show)
    await receiver.start(port, host)
    print(f"receiving webhooks for {', '.join(sorted(partners))} on {host}:{receiver.port}")
    try:
        await asyncio.Event().wait()
    finally:
        await receiver.stop()
