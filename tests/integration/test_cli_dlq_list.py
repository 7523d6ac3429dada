"""``pai dlq list``: an operator sees where each dead-lettered input came from and why."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from services.local.embedded_broker import EmbeddedBroker
from services.runtime.deadletter import DeadLetter
from tests.integration.kafka_helpers import produce_with_headers
from tests.integration.test_cli_send import pai
from tests.support.events import pesel_from

pytestmark = pytest.mark.integration


def test_dead_letters_are_listed_with_origin_and_reason_and_filtered(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    pesel = pesel_from(960_001)
    reason = f"test-reason-{uuid.uuid4().hex[:8]}"  # this test's letters only
    letters = [
        DeadLetter(
            "scheduler",
            "pai.pup.participation.v1",
            2,
            41,
            pesel.encode(),
            b"\x00",
            reason,
            f"hours outside 0-168 for {pesel}",
        ),
        DeadLetter(
            "eligibility",
            "pai.pup.profiles.v1",
            1,
            7,
            pesel.encode(),
            b"\x01",
            reason,
            "profile UNKNOWN",
        ),
    ]
    asyncio.run(
        produce_with_headers(
            broker.bootstrap,
            "pai.dlq.v1",
            [(x.key, x.value, x.headers()) for x in letters],
        )
    )
    listed = pai("dlq", "list", "--reason", reason, bootstrap=broker.bootstrap)
    assert listed.returncode == 0, listed.stderr
    lines = [line for line in listed.stdout.splitlines() if reason in line]
    assert len(lines) == 2
    assert "pai.pup.participation.v1[2]@41" in lines[0] and "scheduler" in lines[0]
    assert "pai.pup.profiles.v1[1]@7" in lines[1] and "profile UNKNOWN" in lines[1]
    assert pesel not in listed.stdout  # a PESEL in a message is masked
    assert listed.stdout.rstrip().endswith("2 dead letter(s) on pai.dlq.v1")

    only = pai(
        "dlq", "list", "--reason", reason, "--service", "eligibility", bootstrap=broker.bootstrap
    )
    assert [line for line in only.stdout.splitlines() if reason in line] == [lines[1]]


def test_control_characters_in_headers_reach_the_terminal_escaped(
    broker: EmbeddedBroker,
) -> None:
    """Whoever wrote the bad record wrote its headers: they must not drive the terminal."""
    reason = f"test-reason-{uuid.uuid4().hex[:8]}"
    hostile = DeadLetter(
        "eligibility",
        "pai.pup.profiles.v1\x1b[2J",
        0,
        1,
        b"k",
        b"\x00",
        reason,
        "fine\r\x1b[31mFAKE: 0 dead letters\x1b[0m \u202eevil\x07",
    )
    asyncio.run(
        produce_with_headers(
            broker.bootstrap, "pai.dlq.v1", [(hostile.key, hostile.value, hostile.headers())]
        )
    )
    listed = pai("dlq", "list", "--reason", reason, bootstrap=broker.bootstrap)
    assert listed.returncode == 0, listed.stderr
    (line,) = [line for line in listed.stdout.splitlines() if reason in line]
    assert not any(ord(c) < 32 or c in "\x7f\u202e" for c in listed.stdout.replace("\n", ""))
    assert "pai.pup.profiles.v1\\x1b[2J[0]@1" in line
    assert "fine\\x0d\\x1b[31mFAKE: 0 dead letters\\x1b[0m \\u202eevil\\x07" in line
