"""Writes the broker refuses: the worker waits and tries again, stays up, and says why.

A service writes a batch's effects (decisions, scheduler events, dead letters, retries)
before it stores its state and before its offsets can be committed. When the broker
refuses those writes — fewer in-sync replicas than ``min.insync.replicas`` while brokers
are down, a leader moving, a Kafka user without the ACL for a topic — exiting would only
make the worker start again into the same refusal (a crash loop) and rebalance the group
each time. Instead :meth:`WriteGate.until_written` tries the same batch again with a
growing delay (1 s doubling to 30 s). The batch's effects carry deterministic ids, so a
repeat of a write that did reach the broker is recognised downstream. Only refusals that
waiting can cure are retried (Kafka's retriable errors, authorization, timeouts); a
record too large or an invalid topic is raised as the error it is. Meanwhile
``/health/ready`` answers 503 with :attr:`WriteGate.blocked` (the reason and what to
fix), also when a write is simply not acknowledged for :data:`SLOW_S` (the producer keeps
retrying a write to a partition that has no leader), ``pai_ready`` is 0, and every
refusal is logged once per attempt with the topic the broker named. When a write
succeeds again the gate opens by itself: no restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaError,
    KafkaTimeoutError,
    NotEnoughReplicasAfterAppendError,
    NotEnoughReplicasError,
    TopicAuthorizationFailedError,
    TransactionalIdAuthorizationFailed,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
FIRST_DELAY_S = 1.0
LONGEST_DELAY_S = 30.0
SLOW_S = 10.0
"""A write not acknowledged within this is reported as refused (readiness 503)."""


def explain(exc: BaseException) -> str:
    """What the broker refused and what would fix it, for a person reading the log."""
    if isinstance(
        exc,
        TopicAuthorizationFailedError
        | GroupAuthorizationFailedError
        | TransactionalIdAuthorizationFailed,
    ):
        return (
            f"not authorized: {exc}. The service's Kafka user lacks an ACL for this"
            " resource (deploy/k8s/base/kafka/users.yaml); it goes on once the ACL exists"
        )
    if isinstance(exc, NotEnoughReplicasError | NotEnoughReplicasAfterAppendError):
        return (
            f"not enough in-sync replicas: {exc}. Fewer brokers hold the partition than"
            " min.insync.replicas: brokers are down; writes go on once they are back"
        )
    return f"the broker refused a write: {type(exc).__name__}: {exc}"


WAIT_ON = (
    TopicAuthorizationFailedError,
    GroupAuthorizationFailedError,
    TransactionalIdAuthorizationFailed,
    KafkaTimeoutError,
)
"""Refusals worth waiting out although Kafka calls them not retriable: an ACL an operator
adds, a request no broker answered in time. Anything else not retriable (a record too
large, an invalid topic) would be refused for ever: it is raised, loudly, not retried."""


def worth_waiting(exc: KafkaError) -> bool:
    return bool(getattr(exc, "retriable", False)) or isinstance(exc, WAIT_ON)


class WriteGate:
    """Whether this worker's writes reach the broker now, and why not.

    Several writes wait at once (the notifier's deliveries, a timer beside an agent):
    the gate is blocked while any of them is refused or unacknowledged, not only until
    the next write that succeeds.
    """

    def __init__(self, service: str) -> None:
        self.service = service
        self._waiting: dict[int, str] = {}
        self._next = 0

    @property
    def blocked(self) -> str | None:
        """Why a write of this worker is waiting now (the latest reason), or None."""
        return next(reversed(self._waiting.values()), None)

    async def until_written(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """``await attempt()`` until no refusal worth waiting out escapes it; its result.

        An attempt not acknowledged within :data:`SLOW_S` marks the gate blocked too (the
        producer keeps retrying inside it: a partition without a leader, or a leader that
        cannot reach its in-sync replicas, makes a write wait rather than fail). A
        :class:`KafkaError` that no waiting can cure is raised.
        """
        self._next += 1
        me = self._next
        delay = FIRST_DELAY_S
        try:
            while True:
                slow = asyncio.get_running_loop().call_later(SLOW_S, self._slow, me)
                try:
                    result = await attempt()
                except KafkaError as exc:
                    if not worth_waiting(exc):
                        log.error(
                            "%s: a write was refused for good: %s", self.service, explain(exc)
                        )
                        raise
                    self._waiting[me] = explain(exc)
                    log.error(
                        "%s: writes refused, the batch is tried again in %.0f s: %s",
                        self.service,
                        delay,
                        self._waiting[me],
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, LONGEST_DELAY_S)
                    continue
                finally:
                    slow.cancel()
                if me in self._waiting:
                    log.warning("%s: writes reach the broker again", self.service)
                return result
        finally:
            self._waiting.pop(me, None)

    def _slow(self, me: int) -> None:
        if me not in self._waiting:
            self._waiting[me] = (
                f"no broker acknowledged this worker's writes for {SLOW_S:.0f} s: partitions"
                " without a leader or with fewer in-sync replicas than min.insync.replicas"
                " (brokers down?); the writes go on once the brokers are back"
            )
            log.error("%s: %s", self.service, self._waiting[me])
