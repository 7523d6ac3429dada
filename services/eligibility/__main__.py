"""Entry point of one eligibility worker: ``pai-eligibility``."""

from __future__ import annotations

import sys

from services.eligibility.app import SERVICE, EligibilityService
from services.runtime.settings import load_settings


def main() -> None:
    settings = load_settings()
    service = EligibilityService(settings)
    sys.argv = [f"pai-{SERVICE}", "worker", "--loglevel", settings.log_level, *sys.argv[1:]]
    service.app.main()


if __name__ == "__main__":
    main()
