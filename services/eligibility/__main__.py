"""Entry point of one eligibility worker: ``pai-eligibility``."""

from __future__ import annotations

from services.eligibility.app import SERVICE, EligibilityService
from services.runtime.worker import run_worker


def main() -> None:
    run_worker(SERVICE, lambda settings: EligibilityService(settings).app)


if __name__ == "__main__":
    main()
