"""An in-memory index of what falls due when: a heap of (due, key) with one live entry per key.

Rebuilt from a table when partitions are assigned; popping what is due costs
O(due items · log n), so checking the clock never scans every person.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class DueIndex(Generic[K]):
    def __init__(self) -> None:
        self._heap: list[tuple[object, K]] = []
        self._due: dict[K, object] = {}

    def __len__(self) -> int:
        return len(self._due)

    def schedule(self, key: K, due: object | None) -> None:
        """Make ``due`` the key's only due time (None: nothing due)."""
        if due is None:
            self._due.pop(key, None)
            return
        if self._due.get(key) == due:
            return
        self._due[key] = due
        heapq.heappush(self._heap, (due, key))

    def replace_all(self, entries: Iterable[tuple[K, object | None]]) -> None:
        """Make ``entries`` (key, due or None) the whole index, in one heapify."""
        self._due = {key: due for key, due in entries if due is not None}
        self._heap = [(due, key) for key, due in self._due.items()]
        heapq.heapify(self._heap)

    def pop_due(self, now: object) -> Iterator[K]:
        """Keys whose due time is at or before ``now``; they leave the index."""
        while self._heap and self._heap[0][0] <= now:  # type: ignore[operator]
            due, key = heapq.heappop(self._heap)
            if self._due.get(key) == due:
                del self._due[key]
                yield key

    def clear(self) -> None:
        self._heap.clear()
        self._due.clear()
