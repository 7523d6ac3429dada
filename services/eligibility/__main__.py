"""Entry point of one eligibility worker: ``pai-eligibility``."""

from __future__ import annotations

from services.eligibility.app import SERVICE, EligibilityService
from services.runtime.settings import load_settings
from services.runtime.worker import run_worker


def main() -> None:
    settings = load_settings()
    run_worker(SERVICE, EligibilityService(settings).app, settings)


if __name__ == "__main__":
    main()
