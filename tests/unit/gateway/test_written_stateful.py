"""The de-duplication by event_id as a state machine: posts of a few ids, contents and OPS
in any order, repeated, some of them unanswered by the broker (their record may be on the
topic or reach it later), with time passing beyond the retention, checked after every step
against a model: the first write of an id counts, a repeat of it is recognised with its
coordinates, other content or another OPS conflicts, and an id is forgotten only once its
first write is older than the retention. Whatever the order, the gateway never sends two
contents under one event_id within the retention: a retry after an unanswered write is
the identical record or a conflict."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from services.gateway.written import Attempt, Seen, Written, WrittenEvents, classify, digest

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
        self.unanswered: dict[str, tuple[str, bytes, float]] = {}  # id -> ops, content, at
        self.sent: list[tuple[str, str, bytes, float]] = []  # what the gateway sent: id, ops, ...

    def _forget_old(self) -> None:
        oldest = self.now - RETENTION_S
        self.model = {k: v for k, v in self.model.items() if v[3] >= oldest}
        self.unanswered = {
            k: v for k, v in self.unanswered.items() if v[2] >= oldest and k not in self.model
        }
        self.sent = [s for s in self.sent if s[3] >= oldest]

    def _decide(self, event_id: str, content: bytes, ops: str) -> tuple[Seen, Written | None]:
        found = self.written.get(event_id, self.now)
        attempt = self.written.attempt(event_id, self.now)
        seen = classify(found, ops, digest(content), attempt)
        expected = self.model.get(event_id)
        unanswered = self.unanswered.get(event_id)
        if expected is not None:
            assert seen is (Seen.REPEAT if expected[:2] == (ops, content) else Seen.CONFLICT)
        elif unanswered is not None and unanswered[:2] != (ops, content):
            assert seen is Seen.CONFLICT  # that write may be on the topic
        else:
            assert seen is Seen.NEW
        if seen is Seen.NEW:
            self.sent.append((event_id, ops, content, self.now))
        return seen, found

    @rule(event_id=IDS, content=CONTENTS, ops=OPS)
    def post(self, event_id: str, content: bytes, ops: str) -> None:
        seen, found = self._decide(event_id, content, ops)
        if seen is Seen.NEW:
            self.offset += 1
            at = Written(ops, digest(content), "t", 0, self.offset, self.now)
            self.written.add(event_id, at, self.now)
            self.model[event_id] = (ops, content, self.offset, self.now)
        elif seen is Seen.REPEAT:
            assert found is not None and found.offset == self.model[event_id][2]
        self._forget_old()

    @rule(event_id=IDS, content=CONTENTS, ops=OPS)
    def post_unanswered(self, event_id: str, content: bytes, ops: str) -> None:
        """A post whose record left for the broker and no acknowledgement came (a 503)."""
        seen, _ = self._decide(event_id, content, ops)
        if seen is Seen.NEW:
            self.written.add_attempt(event_id, Attempt(ops, digest(content), self.now), self.now)
            self.unanswered.setdefault(event_id, (ops, content, self.now))
        self._forget_old()

    @rule(event_id=IDS)
    def unanswered_write_lands(self, event_id: str) -> None:
        """The record of an unanswered write reaches the topic; the follower reads it."""
        if event_id not in self.unanswered:
            return
        ops, content, _ = self.unanswered.pop(event_id)
        self.read_from_the_topic(event_id, content, ops)

    @rule(event_id=IDS, content=CONTENTS, ops=OPS)
    def read_from_the_topic(self, event_id: str, content: bytes, ops: str) -> None:
        """The follower adds what any worker wrote; a later copy never replaces the first."""
        self.offset += 1
        self.written.add(
            event_id, Written(ops, digest(content), "t", 0, self.offset, self.now), self.now
        )
        self.model.setdefault(event_id, (ops, content, self.offset, self.now))
        self.unanswered.pop(event_id, None)
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

    @invariant()
    def one_content_per_event_id_sent_within_the_retention(self) -> None:
        contents: dict[str, set[tuple[str, bytes]]] = {}
        for event_id, ops, content, _at in self.sent:
            contents.setdefault(event_id, set()).add((ops, content))
        assert all(len(c) == 1 for c in contents.values()), contents


TestDedup = Dedup.TestCase
