"""The due index pops what is due, once, and follows rescheduling."""

from __future__ import annotations

from services.runtime.due_index import DueIndex


def test_pops_only_what_is_due_in_order() -> None:
    index: DueIndex[str] = DueIndex()
    for key, due in [("c", 30), ("a", 10), ("b", 20), ("d", 40)]:
        index.schedule(key, due)
    assert list(index.pop_due(25)) == ["a", "b"]
    assert list(index.pop_due(25)) == []
    assert len(index) == 2


def test_rescheduling_replaces_the_due_time() -> None:
    index: DueIndex[str] = DueIndex()
    index.schedule("a", 10)
    index.schedule("a", 50)
    assert list(index.pop_due(20)) == []
    index.schedule("a", 5)
    assert list(index.pop_due(20)) == ["a"]
    index.schedule("b", 10)
    index.schedule("b", None)
    assert list(index.pop_due(100)) == []


def test_replace_all_makes_the_entries_the_whole_index() -> None:
    index: DueIndex[str] = DueIndex()
    index.schedule("old", 1)
    index.replace_all([("a", 3), ("b", None), ("c", 1), ("d", 2)])
    assert len(index) == 3
    assert list(index.pop_due(2)) == ["c", "d"]
    assert list(index.pop_due(5)) == ["a"]
