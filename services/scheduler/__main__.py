"""Entry point of one scheduler worker: `pai-scheduler` (or `python -m services.scheduler`).

For now the worker joins its consumer group through the shared app factory and
serves its health views; the service's agents arrive with its own issue.
"""

from __future__ import annotations

import sys

from services.runtime.faust_app import create_app
from services.runtime.settings import load_settings

SERVICE = "scheduler"


def main() -> None:
    settings = load_settings()
    app = create_app(SERVICE, settings)
    sys.argv = [f"pai-{SERVICE}", "worker", "--loglevel", settings.log_level, *sys.argv[1:]]
    app.main()


if __name__ == "__main__":
    main()
