"""The write gate: refusals that waiting cures are tried again with the worker saying why;
a refusal that no waiting cures is raised; several writes waiting at once all count."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.errors import (
    MessageSizeTooLargeError,
    NotEnoughReplicasError,
    TopicAuthorizationFailedError,
)

from services.runtime import writes
from services.runtime.writes import WriteGate


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writes, "FIRST_DELAY_S", 0.01)
    monkeypatch.setattr(writes, "SLOW_S", 0.05)


def refused_then_written(times: int, error: Exception) -> tuple[list[int], object]:
    calls: list[int] = []

    async def attempt() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error
        return "written"

    return calls, attempt


def test_a_refusal_worth_waiting_out_is_tried_again_and_the_gate_opens() -> None:
    gate = WriteGate("eligibility")
    for error in (NotEnoughReplicasError(), TopicAuthorizationFailedError("pai.dlq.v1")):
        calls, attempt = refused_then_written(3, error)
        assert asyncio.run(gate.until_written(attempt)) == "written"  # type: ignore[arg-type]
        assert len(calls) == 4 and gate.blocked is None


def test_a_refusal_no_waiting_cures_is_raised_not_retried_for_ever() -> None:
    gate = WriteGate("eligibility")
    calls, attempt = refused_then_written(100, MessageSizeTooLargeError())
    with pytest.raises(MessageSizeTooLargeError):
        asyncio.run(gate.until_written(attempt))  # type: ignore[arg-type]
    assert len(calls) == 1 and gate.blocked is None


def test_the_gate_stays_blocked_while_any_write_waits() -> None:
    gate = WriteGate("notifier")

    async def scenario() -> tuple[str | None, str | None]:
        stuck = asyncio.Event()

        async def refused() -> None:
            if not stuck.is_set():
                raise NotEnoughReplicasError()

        async def fine() -> None:
            return None

        waiting = asyncio.create_task(gate.until_written(refused))
        await asyncio.sleep(0.02)
        await gate.until_written(fine)  # another write succeeds meanwhile
        during = gate.blocked
        stuck.set()
        await asyncio.wait_for(waiting, 5)
        return during, gate.blocked

    during, after = asyncio.run(scenario())
    assert during is not None and "not enough in-sync replicas" in during
    assert after is None


def test_a_write_nobody_acknowledges_marks_the_gate_blocked_until_it_is() -> None:
    gate = WriteGate("scheduler")

    async def scenario() -> tuple[str | None, str | None]:
        release = asyncio.Event()

        async def hangs() -> None:
            await release.wait()

        task = asyncio.create_task(gate.until_written(hangs))
        await asyncio.sleep(0.1)
        during = gate.blocked
        release.set()
        await task
        return during, gate.blocked

    during, after = asyncio.run(scenario())
    assert during is not None and "no broker acknowledged" in during
    assert after is None
