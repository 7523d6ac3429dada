"""Entry point of one notifier worker: ``pai-notifier``.

For now the worker joins its consumer group through the shared app factory and
serves its health views; the service's agents arrive with its own issue.
"""

from __future__ import annotations

from services.runtime.faust_app import create_app
from services.runtime.settings import load_settings
from services.runtime.worker import run_worker


def main() -> None:
    settings = load_settings()
    run_worker("notifier", create_app("notifier", settings), settings)


if __name__ == "__main__":
    main()
