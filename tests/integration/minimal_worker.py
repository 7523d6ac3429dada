"""A minimal Faust worker built by the shared app factory: one agent, one RocksDB table.

Run as ``python -m tests.integration.minimal_worker`` with PAI_ settings in the
environment. It counts events per key in a table and shows the table at
``GET /seen``, so tests can check what a restarted worker recovered.
"""

from __future__ import annotations

import sys

from faust.web import Request, Response, View

from services.runtime.faust_app import create_app
from services.runtime.settings import load_settings
from services.runtime.topics import PROFILES

settings = load_settings()
app = create_app("readiness-probe", settings)
events = app.topic(PROFILES.name)
seen = app.Table("events-seen", default=int, key_type=bytes, value_type=int)


@app.agent(events)
async def count(stream):
    async for key, _value in stream.items():
        seen[key] += 1


@app.page("/seen")
class Seen(View):
    async def get(self, request: Request) -> Response:
        return self.json({key.decode(): value for key, value in seen.items()})


if __name__ == "__main__":
    sys.argv = ["minimal-worker", "worker", "--loglevel", "info"]
    app.main()
