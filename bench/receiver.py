"""A webhook receiver for benchmarks, in a process of its own: ``POST /<path>`` answers 204
(``/hang-*`` paths wait a minute first); ``GET /stats/<path>`` tells how many requests the
path answered and when the first and last arrived (monotonic seconds); ``GET /ids/<path>``
gives the wall-clock second each ``webhook-id`` was first answered (the national replay's
input-to-webhook latency).

    .venv/bin/python bench/receiver.py PORT
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import defaultdict

from aiohttp import web

counts: dict[str, int] = defaultdict(int)
first: dict[str, float] = {}
last: dict[str, float] = {}
arrived: dict[str, dict[str, float]] = defaultdict(dict)


async def receive(request: web.Request) -> web.Response:
    path = request.match_info["path"]
    await request.read()
    if path.startswith("hang"):
        await asyncio.sleep(60)
    now = time.monotonic()
    arrived[path].setdefault(request.headers.get("webhook-id", ""), time.time())
    counts[path] += 1
    first.setdefault(path, now)
    last[path] = now
    return web.Response(status=204)


async def stats(request: web.Request) -> web.Response:
    path = request.match_info["path"]
    return web.json_response(
        {"count": counts[path], "first": first.get(path), "last": last.get(path)}
    )


async def ids(request: web.Request) -> web.Response:
    return web.json_response(arrived[request.match_info["path"]])


def main() -> None:
    app = web.Application()
    app.router.add_post("/{path}", receive)
    app.router.add_get("/stats/{path}", stats)
    app.router.add_get("/ids/{path}", ids)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
