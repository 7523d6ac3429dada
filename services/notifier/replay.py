"""``pai dlq replay``: dead-lettered webhooks sent again, with the same ``webhook-id``.

Reads ``pai.notifier.dlq.v1`` from the start (no consumer group, so nothing is
marked as read), keeps the records that match the filters, and writes them to
``pai.notifier.replay.v1``, which the notifier delivers at once with a fresh
retry schedule. A replayed webhook that fails again is retried and, after the
whole schedule, dead-lettered again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer

from services.personal_data.erasure_view import read_erasures
from services.personal_data.erasures import webhook_subject
from services.runtime.codec import AvroCodec, UndecodableRecord
from services.runtime.topic_reader import read_until_now
from services.runtime.topics import NOTIFIER_DLQ, NOTIFIER_REPLAY


@dataclass(frozen=True)
class Filters:
    partner: str | None = None
    webhook_type: str | None = None
    webhook_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def match(self, fields: dict[str, Any]) -> bool:
        at: dt.datetime = fields["occurred_at"]
        return (
            (self.partner is None or fields["ops_code"] == self.partner)
            and (self.webhook_type is None or fields["webhook_type"] == self.webhook_type)
            and (self.webhook_id is None or fields["webhook_id"] == self.webhook_id)
            and (self.since is None or at >= self.since)
            and (self.until is None or at < self.until)
        )


async def dead_lettered(
    client: Mapping[str, Any],
) -> list[tuple[bytes | None, bytes, dict[str, Any]]]:
    """Every readable record on the notifier's dead-letter topic now, with its fields."""
    codec = AvroCodec("notifier-dlq")
    found = []
    for record in await read_until_now(client, NOTIFIER_DLQ.name):
        if record.value is None:
            continue
        try:
            fields = codec.decode(record.value).fields
        except UndecodableRecord:
            continue
        found.append((record.key, record.value, fields))
    return found


async def replay(
    client: Mapping[str, Any],
    filters: Filters,
    dry_run: bool,
    producer_options: Mapping[str, Any] | None = None,
    secret: str | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Write the matching dead letters to the replay topic, except those of a person erased
    after their event (``pai.erasures.v1``, hashed under ``secret``): the fields of those
    chosen, and of those skipped as erased.

    ``client``: aiokafka connection arguments (``settings.kafka_client_kwargs``);
    ``producer_options``: ``settings.producer_kwargs`` (acks=all by default).
    """
    matching = [(k, v, f) for k, v, f in await dead_lettered(client) if filters.match(f)]
    erased = await read_erasures(client, secret) if matching and secret is not None else None
    chosen, skipped = [], []
    for key, value, fields in matching:
        subject = webhook_subject(fields["payload"].encode())
        if erased is not None and subject is not None and erased.erased_at(*subject):
            skipped.append(fields)
        else:
            chosen.append((key, value, fields))
    if chosen and not dry_run:
        producer = AIOKafkaProducer(**client, **(producer_options or {"acks": "all"}))
        await producer.start()
        try:
            sent = [
                await producer.send(NOTIFIER_REPLAY.name, value=value, key=key)
                for key, value, _ in chosen
            ]
            for future in sent:
                await future
        finally:
            await producer.stop()
    return [fields for _, _, fields in chosen], skipped
