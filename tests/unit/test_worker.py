"""A service's worker is built and run on uvloop (services/runtime/worker.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import faust
import pytest
import uvloop

from services.runtime.settings import Settings
from services.runtime.worker import run_worker


class Built(Exception):
    """Stops run_worker once the app would be built."""


@pytest.fixture
def default_policy() -> Iterator[None]:
    yield
    asyncio.set_event_loop_policy(None)


@pytest.mark.usefixtures("default_policy")
def test_the_app_is_built_once_the_event_loop_policy_is_uvloop() -> None:
    policies = []

    def build(settings: Settings) -> faust.App:
        policies.append(type(asyncio.get_event_loop_policy()))
        raise Built

    with pytest.raises(Built):
        run_worker("eligibility", build)
    assert policies == [uvloop.EventLoopPolicy]
