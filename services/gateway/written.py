"""Which events are already on the topics: the gateway's de-duplication by ``event_id``.

Pure. The state lives in Kafka, in the topics the gateway writes: every worker
reads ``pai.ops.social-assistance.v1`` and ``pai.ops.integration-activities.v1``
from the beginning (:mod:`services.gateway.follower`) and records each event's
id, OPS, a digest of its Avro value and its coordinates here. So the
de-duplication survives restarts, is shared by every gateway worker (each sees
the others' writes, and native producers' too), and is bounded by the topics'
retention and ``PAI_GATEWAY_DEDUP_RETENTION_DAYS``. The same content is the same
Avro bytes: the encoding is deterministic for a schema version.

A write whose acknowledgement never came (the request timed out, the connection
dropped) may still be on the topic, or reach it later: it is kept as an
:class:`Attempt` until the record is read (then it is :class:`Written`), the
retention passes or :data:`MAX_ATTEMPTS` newer attempts push it out. A retry of
that event with the same content may be written again, as the identical record
(same key, value and ``event_id``: the services take it as a repeat); one with
other content is a conflict. The attempts live in this worker's memory only: a
restarted worker, or another one before it reads the record, does not know them,
so the guarantee that one ``event_id`` does not stand for two contents holds
within one worker's memory. (A write the broker refused outright, such as a
record too large or a denied authorization, is not on the topic and is no
attempt: the gateway's adapter does not record it.)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar


class Seen(StrEnum):
    """What a posted event is, given what is written: to write, a repeat, or a conflict."""

    NEW = "new"
    REPEAT = "repeat"
    """the same event_id, OPS and content: answered 200 with the first coordinates"""
    CONFLICT = "conflict"
    """the same event_id with another content (or from another OPS) than its write, or than
    an unanswered attempt of it: answered 409"""


def classify(
    found: Written | None, ops_code: str, value_digest: bytes, attempt: Attempt | None = None
) -> Seen:
    """What a post is, given the first write of its event_id (``found``) and, when none is
    known, an attempt whose fate is unknown (a repeat of the attempt's content is NEW:
    written again, it is the identical record)."""
    if found is None:
        if attempt is None or (attempt.ops_code, attempt.digest) == (ops_code, value_digest):
            return Seen.NEW
        return Seen.CONFLICT
    if found.ops_code == ops_code and found.digest == value_digest:
        return Seen.REPEAT
    return Seen.CONFLICT


@dataclass(frozen=True, slots=True)
class Attempt:
    """A write that may be on the topic: its record left for the broker, no answer came."""

    ops_code: str
    digest: bytes
    timestamp_s: float


@dataclass(frozen=True, slots=True)
class Written:
    """Where an event was written, and what it was."""

    ops_code: str
    digest: bytes
    topic: str
    partition: int
    offset: int
    timestamp_s: float

    def coordinates(self, event_id: str) -> dict[str, str | int]:
        return {
            "event_id": event_id,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
        }


def digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()


_Entry = TypeVar("_Entry", Written, Attempt)

MAX_ATTEMPTS = 100_000
"""The most unanswered writes kept (about 270 bytes each: ~27 MB). In a long partial
outage every failed write is one; beyond this the oldest is forgotten (a retry of it with
other content would then be written, not refused), so a pod's memory stays bounded."""


class WrittenEvents:
    """``event_id`` → :class:`Written` (and, until its record is read, :class:`Attempt`),
    for events no older than ``retention_s``."""

    def __init__(self, retention_s: float, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.retention_s = retention_s
        self.max_attempts = max_attempts
        self._by_id: dict[str, Written] = {}
        self._attempts: dict[str, Attempt] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, event_id: str, now: float) -> Written | None:
        """The first write of ``event_id`` within the retention, else None."""
        found = self._by_id.get(event_id)
        if found is not None and found.timestamp_s < now - self.retention_s:
            return None  # forgotten: a repeat now is written again
        return found

    def add(self, event_id: str, written: Written, now: float) -> None:
        """Record an event; the first write of an id within the retention is the one that
        counts (an expired one is replaced, and moves to the end of the arrival order)."""
        if self.get(event_id, now) is None:
            self._by_id.pop(event_id, None)
            self._by_id[event_id] = written
        self._attempts.pop(event_id, None)  # what is on the topic is known now
        self._prune(now)

    def attempt(self, event_id: str, now: float) -> Attempt | None:
        """The unanswered write of ``event_id`` within the retention, else None."""
        found = self._attempts.get(event_id)
        if found is not None and found.timestamp_s < now - self.retention_s:
            return None
        return found

    def attempts(self) -> int:
        """How many unanswered writes are kept."""
        return len(self._attempts)

    def add_attempt(self, event_id: str, attempt: Attempt, now: float) -> int:
        """Record a write that may be on the topic (unless its record is known already; the
        first attempt within the retention is the one that counts, as for writes). Returns
        how many of the oldest attempts were forgotten to stay within ``max_attempts``."""
        if self.get(event_id, now) is None and self.attempt(event_id, now) is None:
            self._attempts.pop(event_id, None)
            self._attempts[event_id] = attempt
        self._prune(now)
        dropped = 0
        while len(self._attempts) > self.max_attempts:
            del self._attempts[next(iter(self._attempts))]
            dropped += 1
        return dropped

    def _prune(self, now: float) -> None:
        """Forget the oldest entries beyond the retention (ids are kept in arrival order)."""
        _drop_older(self._by_id, now - self.retention_s)
        _drop_older(self._attempts, now - self.retention_s)


def _drop_older(entries: dict[str, _Entry], oldest: float) -> None:
    while entries:
        event_id, first = next(iter(entries.items()))
        if first.timestamp_s >= oldest:
            return
        del entries[event_id]
