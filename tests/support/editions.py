"""A program-editions view running against a broker in a test, with the dead letters it sent."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from services.runtime.deadletter import DeadLetter
from services.scheduler.editions import EditionsView


@contextlib.asynccontextmanager
async def running_editions_view(
    bootstrap: str,
) -> AsyncIterator[tuple[EditionsView, list[DeadLetter]]]:
    """An :class:`EditionsView` that has read the topic to its end; stopped on leaving."""
    letters: list[DeadLetter] = []

    async def keep(letter: DeadLetter) -> None:
        letters.append(letter)

    view = EditionsView({"bootstrap_servers": bootstrap}, "scheduler", keep)
    task = asyncio.create_task(view.run())
    try:
        await asyncio.wait_for(view.caught_up.wait(), 20)
        yield view, letters
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
