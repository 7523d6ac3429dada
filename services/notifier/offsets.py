"""Which offsets may be committed when records finish out of order.

Deliveries run concurrently and finish in any order; a partition's committable
offset is its lowest record still in flight (or one past the last record taken
when none is), so a commit never passes a webhook that is not yet delivered,
retried or dead-lettered. Pure: no Kafka here.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable
from typing import Generic, TypeVar

P = TypeVar("P", bound=Hashable)


class OffsetTracker(Generic[P]):
    def __init__(self) -> None:
        self._pending: dict[P, list[int]] = {}
        self._finished: dict[P, set[int]] = {}
        self._next: dict[P, int] = {}

    def started(self, partition: P, offset: int) -> None:
        heapq.heappush(self._pending.setdefault(partition, []), offset)
        self._next[partition] = max(self._next.get(partition, 0), offset + 1)

    def finished(self, partition: P, offset: int) -> None:
        self._finished.setdefault(partition, set()).add(offset)

    def in_flight(self, partition: P) -> int:
        return len(self._pending.get(partition, ())) - len(self._finished.get(partition, ()))

    def committable(self) -> dict[P, int]:
        """Per partition, the offset to commit (the next record to read after a restart)."""
        out = {}
        for partition, pending in self._pending.items():
            finished = self._finished.get(partition, set())
            while pending and pending[0] in finished:
                finished.discard(heapq.heappop(pending))
            out[partition] = pending[0] if pending else self._next[partition]
        return out

    def forget(self, partition: P) -> None:
        """The partition was revoked: its records are another consumer's now."""
        self._pending.pop(partition, None)
        self._finished.pop(partition, None)
        self._next.pop(partition, None)
