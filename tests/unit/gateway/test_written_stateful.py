"""The de-duplication by event_id as a state machine: posts of a few ids, contents and OPS
in any order, repeated, with time passing beyond the retention, checked after every step
against a model: the first write of an id counts, a repeat of it is recognised with its
coordinates, other content or another OPS conflicts, and an id is forgotten only once its
first write is older than the retention."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from services.gateway.written import Seen, Written, WrittenEvents, classify, digest

RETENTION_S = 100.0
IDS = st.sampled_from(["e1", "e2", "e3", "e4"])
CONTENTS = st.sampled_from([b"a", b"b"])
OPS = st.sampled_from(["1465011", "0261011"])


class Dedup(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.written = WrittenEvents(RETENTION_S)
        self.now = 0.0
        self.offset = 0
        self.model: dict[str, tuple[str, bytes, int, float]] = {}  # id -> ops, content, offset, at

    def _forget_old(self) -> None:
        self.model = {k: v for k, v in self.model.items() if v[3] >= self.now - RETENTION_S}

    @rule(event_id=IDS, content=CONTENTS, ops=OPS)
    def post(self, event_id: str, content: bytes, ops: str) -> None:
        found = self.written.get(event_id, self.now)
        seen = classify(found, ops, digest(content))
        expected = self.model.get(event_id)
        if expected is None:
            assert seen is Seen.NEW
            self.offset += 1
            at = Written(ops, digest(content), "t", 0, self.offset, self.now)
            self.written.add(event_id, at, self.now)
            self.model[event_id] = (ops, content, self.offset, self.now)
        elif (expected[0], expected[1]) == (ops, content):
            assert seen is Seen.REPEAT
            assert found is not None and found.offset == expected[2]  # the first coordinates
        else:
            assert seen is Seen.CONFLICT
        self._forget_old()

    @rule(event_id=IDS, content=CONTENTS, ops=OPS)
    def read_from_the_topic(self, event_id: str, content: bytes, ops: str) -> None:
        """The follower adds what any worker wrote; a later copy never replaces the first."""
        self.offset += 1
        self.written.add(
            event_id, Written(ops, digest(content), "t", 0, self.offset, self.now), self.now
        )
        self.model.setdefault(event_id, (ops, content, self.offset, self.now))
        self._forget_old()

    @rule(seconds=st.floats(0, 80))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds
        self._forget_old()

    @invariant()
    def remembered_exactly_within_the_retention(self) -> None:
        for event_id, (_ops, _content, offset, _at) in self.model.items():
            found = self.written.get(event_id, self.now)
            assert found is not None and found.offset == offset
        for event_id in ("e1", "e2", "e3", "e4"):
            if event_id not in self.model:  # forgotten by the model: forgotten here too
                assert self.written.get(event_id, self.now) is None


TestDedup = Dedup.TestCase
