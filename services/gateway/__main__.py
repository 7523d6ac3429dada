"""Entry point of one gateway worker: ``pai-gateway``."""

from __future__ import annotations

import asyncio

from services.gateway.app import SERVICE, GatewayService, serve
from services.runtime import logs, partners
from services.runtime.settings import load_settings


def main() -> None:
    settings = load_settings()
    logs.configure(SERVICE, settings.log_format, settings.log_level)
    service = GatewayService(settings, partners.load(settings.partners_file, purpose="inbound"))
    asyncio.run(serve(service))


if __name__ == "__main__":
    main()
