"""Entry point of one notifier worker: ``pai-notifier``."""

from __future__ import annotations

import asyncio
import logging

from services.notifier import partners
from services.notifier.app import NotifierService, serve
from services.runtime.settings import load_settings

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
}


def main() -> None:
    settings = load_settings()
    logging.basicConfig(
        level=LEVELS[settings.log_level],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, LEVELS[settings.log_level]))
    service = NotifierService(settings, partners.load(settings.partners_file))
    asyncio.run(serve(service))


if __name__ == "__main__":
    main()
