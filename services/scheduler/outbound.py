"""Scheduler outcomes as records of ``pai.scheduler.events.v1`` (Avro, keyed by PESEL).

Adds the fields every scheduler event carries (``event_id``, ``occurred_at``,
``person_id``, and the ``pup_code``, ``ops_code`` and ``referral_id`` of the
cycle, so the notifier can route it) to the kind-specific fields the domain
decided.
"""

from __future__ import annotations

import datetime as dt

from services.runtime.codec import AvroCodec
from services.scheduler.domain import Outgoing

CODEC = AvroCodec("scheduler-events")


def encode(person_id: str, event: Outgoing, now: dt.datetime) -> bytes:
    fields = dict(event.fields)
    if event.cycle is not None:
        cycle = event.cycle
        fields |= {
            "cycle_id": cycle.cycle_id,
            "pup_code": cycle.pup_code,
            "ops_code": cycle.ops_code,
            "referral_id": cycle.referral_id,
        }
    fields |= {"event_id": event.event_id, "occurred_at": now, "person_id": person_id}
    return CODEC.encode(event.kind.value, fields)
