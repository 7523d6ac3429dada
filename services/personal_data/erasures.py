"""Who was erased and when: the erasure markers of ``pai.erasures.v1``, and what they drop.

``pai forget`` writes a person's marker (key ``erased:<hash>``, the HMAC of the PESEL under
``PAI_AUDIT_HASH_SECRET``; value: the hash and ``erased_at``, no PESEL) before it removes
anything. Whatever is still in flight for the person from before the erasure (a webhook
waiting for a retry, a dead-lettered one replayed, an event not yet consumed) is dropped
when its source event occurred at or before ``erased_at``; a later event (a new
registration years on) is a new state and passes. Pure: no Kafka, HTTP or Avro here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from services.personal_data.access_log import person_hash

PREFIX = b"erased:"


def marker(secret: str, person_id: str, now: dt.datetime) -> tuple[bytes, dict[str, Any]]:
    """The key and ``PersonErasure`` fields of a person's erasure marker: no PESEL."""
    hashed = person_hash(secret, person_id)
    return PREFIX + hashed.encode(), {"person_hash": hashed, "erased_at": now}


def webhook_subject(body: bytes) -> tuple[str, dt.datetime] | None:
    """(PESEL, when its source event occurred) of a webhook body; None when it names no
    person or has no readable timestamp."""
    try:
        parsed = orjson.loads(body)
        data = parsed.get("data") if isinstance(parsed, dict) else None
        person_id = data.get("person_id") if isinstance(data, dict) else None
        occurred = dt.datetime.fromisoformat(str(parsed["timestamp"]))
    except (orjson.JSONDecodeError, KeyError, ValueError, TypeError):
        return None
    if not isinstance(person_id, str) or not person_id:
        return None
    return person_id, occurred if occurred.tzinfo else occurred.replace(tzinfo=dt.UTC)


class Erasures:
    """The markers read so far: hash → latest ``erased_at``."""

    def __init__(self, secret: str | None) -> None:
        self.secret = secret
        self.erased: dict[str, dt.datetime] = {}

    def apply(self, key: bytes | None, fields: dict[str, Any] | None) -> None:
        """One record of the marker topic (``None``: a tombstone withdraws the marker)."""
        if key is None or not key.startswith(PREFIX):
            return
        hashed = key[len(PREFIX) :].decode(errors="replace")
        if fields is None:
            self.erased.pop(hashed, None)
        elif fields["person_hash"] == hashed:
            erased_at = fields["erased_at"]
            self.erased[hashed] = max(erased_at, self.erased.get(hashed, erased_at))

    def erased_at(self, person_id: str, occurred_at: dt.datetime) -> dt.datetime | None:
        """When ``person_id`` was erased, if an event of theirs that occurred at
        ``occurred_at`` is from before (or at) the erasure; else None. Without a secret no
        one can have been erased (``pai forget`` needs it)."""
        if self.secret is None or not self.erased:
            return None
        hashed = person_hash(self.secret, person_id)
        erased_at = self.erased.get(hashed)
        return erased_at if erased_at is not None and occurred_at <= erased_at else None

    def hash_of(self, person_id: str) -> str:
        """The keyed hash a log line may show instead of the PESEL."""
        assert self.secret is not None
        return person_hash(self.secret, person_id)
