"""Dead letters: input a service could not read or accept, kept whole on ``pai.dlq.v1``.

The dead letter carries the original key, value and headers, plus error headers
named as Kafka Connect names them (``__connect.errors.topic``, ``.partition``,
``.offset``, ``.exception.message``, ...) so existing Kafka tools show them,
and ``pai.dlq.reason``, a stable code for metrics and replay filters.
Messages must not contain an unmasked PESEL; the value itself may (the DLQ is
personal data, like the topics it comes from).

Kept whole up to a bound: a value over 64 KiB (refused as ``oversized``), a key
over 1 KiB, or original headers past 16 KiB (as encoded) or past the 100th are cut, and the header
``pai.dlq.truncated`` says what was cut. Otherwise a record near the broker's
size limit, plus the error headers, would be too large to dead-letter, and the
service would fail on it at every restart; the whole record stays on its source
topic at the offset the headers name.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from services.runtime.logs import where
from services.runtime.metrics import DEAD_LETTERS
from services.runtime.topics import DLQ

CONNECT = "__connect.errors."
REASON_HEADER = "pai.dlq.reason"
TRUNCATED_HEADER = "pai.dlq.truncated"
MAX_KEPT_VALUE = 64 * 1024
MAX_KEPT_KEY = 1024
MAX_KEPT_HEADERS = 16 * 1024
MAX_KEPT_HEADER_COUNT = 100

Headers = Sequence[tuple[str, bytes]]
SendFn = Callable[[str, bytes | None, bytes | None, list[tuple[str, bytes]]], Awaitable[Any]]
"""``send(topic, key, value, headers)`` that returns once the broker acknowledged the record."""


class Stage(StrEnum):
    """Where the record failed, with Kafka Connect's stage names."""

    KEY_CONVERTER = "KEY_CONVERTER"
    VALUE_CONVERTER = "VALUE_CONVERTER"
    TASK_PUT = "TASK_PUT"
    """Read fine, but the service does not accept it (a rule of the contract is broken)."""


@dataclass(frozen=True)
class DeadLetter:
    """One record that could not be read or accepted, with where it came from and why."""

    service: str
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    reason: str
    """Stable code, e.g. ``unknown-fingerprint`` or ``invalid-pesel``."""
    message: str
    """What is wrong and what the producer should fix, for a person."""
    exception_class: str = "services.runtime.deadletter.Rejected"
    stage: Stage = Stage.TASK_PUT
    original_headers: Headers = field(default_factory=tuple)
    truncated: str = field(default="", init=False)
    """What was cut to keep the dead letter within bounds (see the module docstring)."""

    def __post_init__(self) -> None:
        cut = []
        if self.value is not None and len(self.value) > MAX_KEPT_VALUE:
            cut.append(f"value: {len(self.value)} bytes, first {MAX_KEPT_VALUE} kept")
            object.__setattr__(self, "value", self.value[:MAX_KEPT_VALUE])
        if self.key is not None and len(self.key) > MAX_KEPT_KEY:
            cut.append(f"key: {len(self.key)} bytes, first {MAX_KEPT_KEY} kept")
            object.__setattr__(self, "key", self.key[:MAX_KEPT_KEY])
        kept: list[tuple[str, bytes]] = []
        size = 0
        for name, value in self.original_headers:
            # as encoded: the name's UTF-8 bytes, the value, and each header's framing
            size += len(name.encode("utf-8", "surrogateescape")) + len(value or b"") + 8
            if size > MAX_KEPT_HEADERS or len(kept) >= MAX_KEPT_HEADER_COUNT:
                cut.append(f"headers: {len(self.original_headers) - len(kept)} not kept")
                break
            kept.append((name, value))
        object.__setattr__(self, "original_headers", tuple(kept))
        if cut:
            where = f"{self.topic}[{self.partition}]@{self.offset}"
            object.__setattr__(self, "truncated", "; ".join(cut) + f"; the whole record is {where}")

    def headers(self) -> list[tuple[str, bytes]]:
        """Original headers, then the error headers."""
        error_headers = {
            "topic": self.topic,
            "partition": str(self.partition),
            "offset": str(self.offset),
            "connector.name": self.service,
            "stage": self.stage.value,
            "class.name": f"services.{self.service}",
            "exception.class.name": self.exception_class,
            "exception.message": self.message,
        }
        return [
            *self.original_headers,
            *((CONNECT + name, value.encode()) for name, value in error_headers.items()),
            (REASON_HEADER, self.reason.encode()),
            *([(TRUNCATED_HEADER, self.truncated.encode())] if self.truncated else []),
        ]


def read_error_headers(headers: Sequence[tuple[str, bytes | None]]) -> dict[str, str]:
    """The error headers of a dead letter as ``{"topic": ..., "offset": ..., "reason": ...}``."""
    found = {}
    for name, value in headers:
        # any producer's headers come first (ours, written last, win): never trust them as UTF-8
        if name.startswith(CONNECT):
            found[name.removeprefix(CONNECT)] = (value or b"").decode(errors="replace")
        elif name == REASON_HEADER:
            found["reason"] = (value or b"").decode(errors="replace")
    return found


def log_dead_letter(log: logging.Logger, letter: DeadLetter) -> None:
    """The warning every service writes for a dead letter, and the dead-letter metric."""
    DEAD_LETTERS.labels(letter.service, letter.reason).inc()
    log.warning(
        "dead letter %s from %s[%d]@%d: %s",
        letter.reason,
        letter.topic,
        letter.partition,
        letter.offset,
        letter.message,
        extra=where(letter.topic, letter.partition, letter.offset, reason=letter.reason),
    )


async def send_dead_letter(send: SendFn, letter: DeadLetter, topic: str = DLQ.name) -> None:
    """Write ``letter`` to the dead-letter topic; returns once the broker acknowledged it.

    The caller commits the source offset only after this returns.
    """
    await send(topic, letter.key, letter.value, letter.headers())
