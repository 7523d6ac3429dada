"""Running one worker of a service from its console script (``pai-<service>``)."""

from __future__ import annotations

import sys
from collections.abc import Callable

import faust
import mode.loop

from services.runtime.settings import Settings, load_settings


def run_worker(service: str, build: Callable[[Settings], faust.App]) -> None:
    """Build the app of ``service`` from the settings and start it as a Faust worker; extra
    argv passes through to ``faust worker``.

    The worker runs on uvloop: Faust's worker takes its loop from the event loop policy,
    set here before the app is built (nothing of it may hold a loop of another kind).
    What it changes is measured in docs/benchmarks.md (2026-12-02).

    Logging is configured by the app (``logging_config``, :mod:`services.runtime.logs`);
    with JSON logs Faust's banner and progress lines on standard output are off
    (``--quiet``), so every line a collector reads is a JSON object.
    """
    settings = load_settings()
    mode.loop.use("uvloop")
    app = build(settings)
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
