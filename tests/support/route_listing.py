"""Run a service's console entry point and write down every route its web server serves.

``python -m tests.support.route_listing services.eligibility.__main__`` runs that
module's ``main()`` unchanged, except that when an aiohttp site starts (Faust's
web server and the notifier's both use ``aiohttp.web.TCPSite``) the routes of the
application behind it are written as JSON to ``$PAI_TEST_ROUTES_FILE``: what the
running web app serves, from its own router, not from our code's declarations.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any

from aiohttp import web

_start = web.TCPSite.start


async def _start_and_list(site: web.TCPSite) -> None:
    await _start(site)
    app: Any = site._runner.app  # type: ignore[attr-defined]
    routes = sorted(
        {
            (route.method, route.resource.canonical)
            for route in app.router.routes()
            if route.resource is not None
        }
    )
    with open(os.environ["PAI_TEST_ROUTES_FILE"], "w", encoding="utf-8") as out:
        json.dump(routes, out)


web.TCPSite.start = _start_and_list  # type: ignore[method-assign,assignment]

if __name__ == "__main__":
    module = importlib.import_module(sys.argv[1])
    sys.argv = [sys.argv[0]]
    module.main()
