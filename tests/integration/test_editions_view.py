"""The program editions view: the latest per edition, live; bad input dead-lettered."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest

from services.local.embedded_broker import EmbeddedBroker
from services.runtime.deadletter import DeadLetter
from tests.integration.kafka_helpers import produce
from tests.support import events as ev
from tests.support.editions import running_editions_view

pytestmark = pytest.mark.integration
D = dt.date
TOPIC = "pai.pup.program-editions.v1"


def test_the_view_keeps_the_latest_edition_and_follows_new_ones(broker: EmbeddedBroker) -> None:
    tag = uuid.uuid4().hex[:6]
    first, second, late = f"ED-{tag}-1", f"ED-{tag}-2", f"ED-{tag}-3"

    async def scenario() -> None:
        await produce(
            broker.bootstrap,
            TOPIC,
            [
                ev.edition(first, None, D(2026, 1, 1), D(2026, 6, 30), seq=0),
                ev.edition(
                    first, D(2025, 12, 15), D(2026, 1, 1), D(2026, 6, 30), seq=1
                ),  # opinion given
                ev.edition(
                    second, D(2025, 12, 1), D(2026, 1, 1), D(2026, 12, 31), ("1465011", "1261011")
                ),
                (b"ED-bad", b"\xc3\x01 garbage!"),
                ev.edition(
                    second, D(2025, 12, 1), D(2026, 5, 1), D(2026, 4, 1), seq=9
                ),  # impossible
            ],
        )
        async with running_editions_view(broker.bootstrap) as (view, letters):
            assert view.get(first) is not None
            assert view.get(first).council_opinion_on == D(2025, 12, 15)  # type: ignore[union-attr]
            assert view.get(second).ops_codes == {"1465011", "1261011"}  # type: ignore[union-attr]
            assert view.get(second).valid_to == D(2026, 12, 31)  # type: ignore[union-attr]
            assert sorted(x.reason for x in letters if x.key in (b"ED-bad", second.encode())) == [
                "impossible-dates",
                "unknown-fingerprint",
            ]
            await produce(
                broker.bootstrap,
                TOPIC,
                [ev.edition(late, D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1))],
            )
            for _ in range(100):
                if view.get(late) is not None:
                    break
                await asyncio.sleep(0.1)
            assert view.get(late) is not None, "a new edition reaches a running view"

    asyncio.run(scenario())


def test_an_oversized_edition_or_key_is_dead_lettered_and_the_view_goes_on(
    broker: EmbeddedBroker,
) -> None:
    """The 64 KiB cap holds here too, not only for person events."""
    tag = uuid.uuid4().hex[:6]
    big, long_key, fine = f"ED-{tag}-big", f"ED-{tag}-key" * 20_000, f"ED-{tag}-ok"
    _key, good = ev.edition(big, None, D(2026, 1, 1), D(2026, 6, 30))

    async def scenario() -> list[DeadLetter]:
        await produce(
            broker.bootstrap,
            TOPIC,
            [
                (big.encode(), good + b"\x00" * 70_000),
                (long_key.encode(), ev.edition(fine, None, D(2026, 1, 1), D(2026, 6, 30))[1]),
                ev.edition(fine, None, D(2026, 1, 1), D(2026, 6, 30)),
            ],
        )
        async with running_editions_view(broker.bootstrap) as (view, letters):
            assert view.get(fine) is not None and view.get(big) is None
        return letters

    letters = asyncio.run(scenario())
    oversized = [x for x in letters if x.key == big.encode()]
    assert [x.reason for x in oversized] == ["oversized"]
    (mismatch,) = [x for x in letters if x.reason == "key-mismatch" and tag in x.message]
    assert len(mismatch.message) < 300 and len(mismatch.key or b"") <= 1024
    assert "pai.dlq.truncated" in dict(mismatch.headers())
