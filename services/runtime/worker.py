"""Running one worker of a service from its console script (``pai-<service>``)."""

from __future__ import annotations

import sys

import faust

from services.runtime.settings import Settings


def run_worker(service: str, app: faust.App, settings: Settings) -> None:
    """Start ``app`` as a Faust worker; extra argv passes through to ``faust worker``.

    Logging is configured by the app (``logging_config``, :mod:`services.runtime.logs`);
    with JSON logs Faust's banner and progress lines on standard output are off
    (``--quiet``), so every line a collector reads is a JSON object.
    """
    quiet = ["--quiet"] if settings.log_format == "json" else []
    sys.argv = [
        f"pai-{service}",
        *quiet,
        "worker",
        "--loglevel",
        settings.log_level,
        *sys.argv[1:],
    ]
    app.main()
