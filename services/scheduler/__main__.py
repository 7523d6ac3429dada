"""Entry point of one scheduler worker: ``pai-scheduler``."""

from __future__ import annotations

from services.runtime.settings import load_settings
from services.runtime.worker import run_worker
from services.scheduler.app import SERVICE, SchedulerService


def main() -> None:
    settings = load_settings()
    run_worker(SERVICE, SchedulerService(settings).app, settings)


if __name__ == "__main__":
    main()
