"""Entry point of one notifier worker: ``pai-notifier``."""

from __future__ import annotations

import asyncio

from services.notifier.app import SERVICE, NotifierService, serve
from services.runtime import logs, partners
from services.runtime.settings import load_settings


def main() -> None:
    settings = load_settings()
    logs.configure(SERVICE, settings.log_format, settings.log_level)
    service = NotifierService(settings, partners.load(settings.partners_file))
    asyncio.run(serve(service))


if __name__ == "__main__":
    main()
