"""What one worker sends when it forwards an operator view to the worker that owns the
person: the forwarding proof only, never the caller's token or any other header of theirs."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from aiohttp import web
from yarl import URL

from services.runtime.operator_views import FORWARDED, _valid_forward, forward_to_owner

TOKEN = "operator-token-for-the-tests-0123456789"


def test_the_owner_receives_a_proof_it_can_check_and_no_caller_header() -> None:
    received: list[web.Request] = []

    async def owner_view(request: web.Request) -> web.Response:
        received.append(request)
        return web.json_response({"state": "of the person"})

    port = 0

    async def scenario() -> tuple[int, bytes]:
        nonlocal port
        app = web.Application()
        app.router.add_get("/persons/{pesel}", owner_view)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            async with aiohttp.ClientSession() as client:
                answer = await forward_to_owner(
                    client, URL(f"http://127.0.0.1:{port}"), "/persons/44051401359", TOKEN
                )
                return answer.status, answer.body  # type: ignore[return-value]
        finally:
            await runner.cleanup()

    status, body = asyncio.run(scenario())
    assert (status, body) == (200, b'{"state": "of the person"}')
    (request,) = received
    names = {name.lower() for name in request.headers}
    assert "authorization" not in names and "cookie" not in names
    assert names <= {FORWARDED, "accept", "host", "user-agent", "accept-encoding"}
    assert TOKEN not in str(dict(request.headers))
    proof = request.headers[FORWARDED]
    me = f"127.0.0.1:{port}"
    assert _valid_forward(TOKEN, "GET", "/persons/44051401359", proof, me)
    assert not _valid_forward(TOKEN, "GET", "/persons/44051401358", proof, me)
    assert not _valid_forward(TOKEN + "x", "GET", "/persons/44051401359", proof, me)
    assert not _valid_forward(TOKEN, "GET", "/persons/44051401359", proof, "127.0.0.1:1")


def test_an_owner_that_does_not_answer_is_a_502_not_an_exception() -> None:
    async def scenario() -> int:
        async with aiohttp.ClientSession() as client:
            started = time.monotonic()
            answer = await forward_to_owner(client, URL("http://127.0.0.1:9"), "/persons/x", TOKEN)
            assert time.monotonic() - started < 11
            return answer.status

    assert asyncio.run(scenario()) == 502


def test_odd_proofs_are_refused_without_raising() -> None:
    for value in ("\u00b2.a", "9" * 5000 + ".x", "", ".", "1.\udcff"):
        assert not _valid_forward(TOKEN, "GET", "/persons/x", value, "127.0.0.1:1")
