"""Running a service that is not a Faust app (the notifier, the gateway) beside its aiohttp
web app: bind the port, stop on SIGTERM or SIGINT, answer the requests in flight before the
service's own resources close."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web


class WebService(Protocol):
    settings: Any

    def web_app(self) -> web.Application: ...

    def stop(self) -> None: ...

    async def run(self) -> None: ...


async def serve(service: WebService, close: Callable[[], Awaitable[None]] | None = None) -> None:
    """Run ``service`` with its web app until SIGTERM or SIGINT; then ``close``, if given,
    after the web app stopped (no new requests; those in flight are answered first)."""
    runner = web.AppRunner(service.web_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, service.settings.web_bind, service.settings.web_port)
    await site.start()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, service.stop)
    try:
        await service.run()
    finally:
        await runner.cleanup()
        if close is not None:
            await close()
