"""The gateway's memory of unanswered writes is bounded, and a refusal is not one of them."""

from __future__ import annotations

from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    RequestTimedOutError,
    TopicAuthorizationFailedError,
)

from services.gateway.app import _refused_outright
from services.gateway.written import Attempt, Seen, WrittenEvents, classify, digest


def test_past_the_cap_the_oldest_unanswered_writes_are_forgotten_first() -> None:
    written = WrittenEvents(retention_s=1000.0, max_attempts=3)
    dropped = [
        written.add_attempt(f"e{n}", Attempt("1465011", digest(b"a"), float(n)), float(n))
        for n in range(5)
    ]
    assert dropped == [0, 0, 0, 1, 1]
    assert written.attempts() == 3
    assert written.attempt("e0", 5.0) is None and written.attempt("e1", 5.0) is None
    kept = written.attempt("e4", 5.0)
    assert kept is not None
    # the kept ones still refuse other content; a forgotten one no longer can
    assert classify(None, "1465011", digest(b"b"), kept) is Seen.CONFLICT
    assert classify(None, "1465011", digest(b"b"), written.attempt("e0", 5.0)) is Seen.NEW


def test_a_repeated_attempt_takes_no_second_place() -> None:
    written = WrittenEvents(retention_s=1000.0, max_attempts=2)
    for _ in range(10):
        assert written.add_attempt("e1", Attempt("1465011", digest(b"a"), 1.0), 1.0) == 0
    assert written.attempts() == 1


def test_only_a_refusal_the_broker_would_repeat_means_the_record_is_not_on_the_topic() -> None:
    assert _refused_outright(MessageSizeTooLargeError())
    assert _refused_outright(TopicAuthorizationFailedError("pai.ops.social-assistance.v1"))
    for unknown in (
        KafkaTimeoutError(),  # no answer: it may have been appended
        RequestTimedOutError(),
        NotLeaderForPartitionError(),  # retried by aiokafka: an earlier try may be appended
        KafkaConnectionError(),
        OSError("connection reset"),
    ):
        assert not _refused_outright(unknown), unknown
