"""Entry point of one scheduler worker: ``pai-scheduler``."""

from __future__ import annotations

from services.runtime.worker import run_worker
from services.scheduler.app import SERVICE, SchedulerService


def main() -> None:
    run_worker(SERVICE, lambda settings: SchedulerService(settings).app)


if __name__ == "__main__":
    main()
