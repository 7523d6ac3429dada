"""Reading one inbound record as the contract requires, or saying why it is refused.

Shared by every service that consumes per-person topics: the record must sit on
the partition murmur2 of its key gives, decode with the topic's schema, carry a
valid PESEL as ``person_id`` and have that PESEL as its key. Any failure is a
:class:`Rejected` that becomes a dead letter; messages never show a full PESEL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.runtime.codec import AvroCodec, Decoded, UndecodableRecord, check_size
from services.runtime.deadletter import DeadLetter, Stage
from services.runtime.identifiers import is_valid_pesel, mask_pesel
from services.runtime.partitioning import MISPLACED_REASON, expected_partition, misplaced_message

UNDECODABLE_CLASS = "services.runtime.codec.UndecodableRecord"


@dataclass(frozen=True, slots=True)
class Inbound:
    """A consumed record, whatever client consumed it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] = ()
    timestamp_s: float | None = None
    """The record's Kafka timestamp in seconds since the epoch (metrics: event latency)."""

    @classmethod
    def of(cls, message: Any) -> Inbound:
        """From an aiokafka ``ConsumerRecord`` or a Faust ``Message`` (same attribute names).

        Only the timestamp differs: milliseconds in aiokafka, seconds in Faust
        (whose messages have a ``tp``).
        """
        timestamp = getattr(message, "timestamp", None)
        if timestamp is not None and not hasattr(message, "tp"):
            timestamp = timestamp / 1000
        return cls(
            message.topic,
            message.partition,
            message.offset,
            message.key,
            message.value,
            headers_of(message.headers),
            timestamp,
        )


class Rejected(Exception):
    """A record the service cannot read or accept."""

    def __init__(
        self,
        reason: str,
        message: str,
        stage: Stage = Stage.TASK_PUT,
        exception_class: str = "services.runtime.inbound.Rejected",
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.stage = stage
        self.exception_class = exception_class


def decode(record: Inbound, codec: AvroCodec) -> Decoded:
    """The record's value read with ``codec``; a :class:`Rejected` when it cannot be."""
    try:
        return codec.decode(record.value)
    except UndecodableRecord as exc:
        raise Rejected(
            exc.reason.value, str(exc), Stage.VALUE_CONVERTER, UNDECODABLE_CLASS
        ) from exc


def read_person_event(record: Inbound, codec: AvroCodec, partitions: int) -> Decoded:
    """Decode a per-person record and check its size, key, partition and PESEL."""
    if record.value is not None:
        try:
            check_size(record.value)  # first: before the key or the partition is looked at
        except UndecodableRecord as exc:
            raise Rejected(
                exc.reason.value, str(exc), Stage.VALUE_CONVERTER, UNDECODABLE_CLASS
            ) from exc
    if not record.key:
        raise Rejected(
            "missing-key",
            "per-person topics are keyed by person_id (PESEL); the key is empty",
            Stage.KEY_CONVERTER,
        )
    expected = expected_partition(record.key, partitions)
    if expected != record.partition:
        raise Rejected(MISPLACED_REASON, misplaced_message(record.partition, expected))
    decoded = decode(record, codec)
    person_id: str = decoded.fields["person_id"]
    if not is_valid_pesel(person_id):
        raise Rejected(
            "invalid-pesel",
            f"person_id {mask_pesel(person_id)} is not a valid PESEL (11 digits, checksum)",
        )
    if record.key != person_id.encode():
        shown = mask_pesel(record.key[:32].decode(errors="replace"))
        raise Rejected(
            "key-mismatch",
            f"the key {shown} differs from person_id {mask_pesel(person_id)}:"
            " key every record by its person_id",
        )
    return decoded


def dead_letter(service: str, record: Inbound, rejected: Rejected) -> DeadLetter:
    return DeadLetter(
        service=service,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value,
        reason=rejected.reason,
        message=str(rejected),
        exception_class=rejected.exception_class,
        stage=rejected.stage,
        original_headers=tuple(record.headers),
    )


def headers_of(raw: Any) -> tuple[tuple[str, bytes], ...]:
    """Kafka headers as a tuple of pairs, from a list of pairs or a mapping."""
    if not raw:
        return ()
    items = raw.items() if hasattr(raw, "items") else raw
    return tuple((str(k), bytes(v) if v is not None else b"") for k, v in items)
