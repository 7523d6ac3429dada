"""Scheduler outcomes as records of ``pai.scheduler.events.v1`` (Avro, keyed by PESEL).

Adds the fields every scheduler event carries (``event_id``, ``occurred_at``,
``person_id``, and the ``pup_code``, ``ops_code`` and ``referral_id`` of the
cycle, so the notifier can route it) to the kind-specific fields the domain
decided, and the provisions the event applies (``legal_basis``, data beside the rule
set: :mod:`services.personal_data.legal_basis`).
"""

from __future__ import annotations

import datetime as dt

from services.personal_data import legal_basis
from services.runtime.codec import AvroCodec
from services.scheduler.domain import Outgoing

CODEC = AvroCodec("scheduler-events")


def encode(person_id: str, event: Outgoing, now: dt.datetime, ruleset: str = "seed") -> bytes:
    """The record of ``event``, with the provisions it applies (``legal_basis``)."""
    fields = dict(event.fields)
    if event.cycle is not None:
        cycle = event.cycle
        fields |= {
            "cycle_id": cycle.cycle_id,
            "pup_code": cycle.pup_code,
            "ops_code": cycle.ops_code,
            "referral_id": cycle.referral_id,
        }
    fields |= {
        "event_id": event.event_id,
        "occurred_at": now,
        "person_id": person_id,
        "legal_basis": legal_basis.for_scheduler_event(
            ruleset, event.kind.value, fields.get("reasons", ())
        ),
        "legal_basis_version": legal_basis.current().version,
    }
    return CODEC.encode(event.kind.value, fields)
