"""The disclosure register: what one delivered webhook disclosed, and a person's list.

A webhook delivered to an OPS (a 2xx answer) that carries a person's PESEL is a
disclosure (RODO art. 15(1)(c): to whom, when, on which legal basis, for what purpose,
which data). :func:`disclosure_of` builds the record from the webhook body as it was
sent; :func:`listing` folds a person's records, as read back, into the list an office
shows: one entry per webhook id (a repeat delivery is the same disclosure: the first
delivery counts), oldest first. Pure: no Kafka, HTTP or Avro here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import orjson

from services.personal_data.declarations import declaration
from services.personal_data.legal_basis import provisions_of


def record_key(person_id: str, entry_id: str) -> bytes:
    """The Kafka key of a person's entry in the register or the access log."""
    return f"{person_id}:{entry_id}".encode()


def person_of_key(key: bytes | None) -> str | None:
    """The PESEL a register or access-log key begins with, or None."""
    if key is None or len(key) < 12 or key[11:12] != b":" or not key[:11].isdigit():
        return None
    return key[:11].decode()


def disclosure_of(
    webhook_id: str,
    webhook_type: str,
    ops_code: str,
    body: bytes,
    recipient: str,
    delivered_at: dt.datetime,
    attempt: int,
) -> dict[str, Any] | None:
    """The ``Disclosure`` fields of a delivered webhook; None when it names no person."""
    parsed = orjson.loads(body)
    data = parsed.get("data") if isinstance(parsed, dict) else None
    person_id = data.get("person_id") if isinstance(data, dict) else None
    if not isinstance(person_id, str) or not person_id:
        return None
    assert isinstance(data, dict)
    declared = declaration(webhook_type)
    basis = parsed.get("legal_basis") or []
    return {
        "webhook_id": webhook_id,
        "webhook_type": webhook_type,
        "person_id": person_id,
        "ops_code": ops_code,
        "recipient": recipient,
        "delivered_at": delivered_at,
        "attempt": attempt,
        "legal_basis": provisions_of(c for c in basis if isinstance(c, dict)),
        "purpose": str(parsed.get("purpose") or declared.purpose),
        "data_categories": list(declared.categories),
        "fields": sorted(data),
    }


def latest_per_key(
    records: Iterable[tuple[bytes, dict[str, Any] | None]],
) -> dict[bytes, dict[str, Any]]:
    """What compaction keeps of keyed records read in log order: each key's last value, a
    key whose last record is a tombstone (``None``) gone."""
    kept: dict[bytes, dict[str, Any]] = {}
    for key, fields in records:
        if fields is None:
            kept.pop(key, None)
        else:
            kept[key] = fields
    return kept


def listing(
    records: Iterable[tuple[bytes, dict[str, Any] | None]], since: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """A person's disclosures from their register records in log order (a ``None`` value
    is a tombstone: that entry was erased), one per webhook id, oldest first. A webhook
    delivered again is listed as its latest delivery: the record compaction keeps, so the
    listing is the same before and after the register is compacted."""
    kept = latest_per_key(records)
    entries = sorted(kept.values(), key=lambda f: (f["delivered_at"], f["webhook_id"]))
    return [e for e in entries if since is None or e["delivered_at"] >= since]


def rfc3339(instant: dt.datetime) -> str:
    """An instant as the listings show it: RFC 3339, UTC, milliseconds."""
    return instant.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def as_json(entry: dict[str, Any]) -> dict[str, Any]:
    """One disclosure as the CLI's ``--json`` line and the notifier's view show it."""
    return {
        "webhook_id": entry["webhook_id"],
        "type": entry["webhook_type"],
        "ops_code": entry["ops_code"],
        "recipient": entry["recipient"],
        "delivered_at": rfc3339(entry["delivered_at"]),
        "legal_basis": entry["legal_basis"],
        "purpose": entry["purpose"],
        "data_categories": entry["data_categories"],
        "fields": entry["fields"],
    }
