"""Running one worker of a service from its console script (``pai-<service>``)."""

from __future__ import annotations

import sys

import faust

from services.runtime.settings import Settings


def run_worker(service: str, app: faust.App, settings: Settings) -> None:
    """Start ``app`` as a Faust worker with the settings' log level; extra argv passes through."""
    sys.argv = [f"pai-{service}", "worker", "--loglevel", settings.log_level, *sys.argv[1:]]
    app.main()
