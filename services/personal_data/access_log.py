"""The access log: who read which person's data, when and what; and erasures, without a PESEL.

Every read of a person's data through an operator view or the CLI is a
``PersonDataRead`` (key ``<PESEL>:<audit_id>``); an erasure (``pai forget``) leaves only
a ``PersonErased`` keyed by an HMAC of the PESEL (``erased:<hash>:<audit_id>``: each
erasure of a service, and ``pai forget``'s own, is kept), so the office can later tell that a
PESEL it is asked about was erased (it computes the same HMAC) while the log holds no
PESEL. A read that found nothing of the person (never seen, erased, or removed by the
retention sweep) shows no personal data and must not write the PESEL back: it is a
``PersonDataRead`` keyed ``absent:<hash>:<audit_id>`` with ``person_id`` ``absent:<hash>``
(``absent:unhashed`` when no ``PAI_AUDIT_HASH_SECRET`` is set). Pure: no Kafka, HTTP or
Avro here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable
from typing import Any

from services.personal_data.disclosures import latest_per_key, record_key, rfc3339

MAX_TEXT = 200
"""Characters kept of a caller-supplied text (a user header, a reason)."""


_PESEL_LIKE = re.compile(r"(?<!\d)\d(?:[\s.\-\u2010-\u2015]{0,3}\d){10}(?!\d)|\d{11}")
"""Eleven digits, in a row or with spaces, dashes or dots between them (440514 01359,
44-05-14-01359): what may be a PESEL in a free text."""


def _clean(text: str) -> str:
    """A caller-supplied text as the log keeps it: printable, bounded, any PESEL masked (also
    one written with separators)."""
    printable = "".join(ch if ch.isprintable() else "?" for ch in text)[:MAX_TEXT]
    return _PESEL_LIKE.sub("***********", printable)


def read_entry(
    person_id: str,
    operator: str,
    user: str | None,
    service: str,
    what: str,
    now: dt.datetime,
) -> tuple[bytes, dict[str, Any]]:
    """The key and ``PersonDataRead`` fields of one read."""
    audit_id = str(uuid.uuid4())
    return record_key(person_id, audit_id), {
        "audit_id": audit_id,
        "occurred_at": now,
        "person_id": person_id,
        "operator": operator,
        "user": _clean(user) if user else None,
        "service": service,
        "what": what,
    }


ABSENT = "absent:"
"""Prefix of the ``person_id`` (and key) of a read that found nothing of the person."""


def absent_id(secret: str | None, person_id: str) -> str:
    """What a read that found nothing records instead of the PESEL."""
    return ABSENT + (person_hash(secret, person_id) if secret is not None else "unhashed")


def person_hash(secret: str, person_id: str) -> str:
    """HMAC-SHA256 of the PESEL under ``PAI_AUDIT_HASH_SECRET``, hex."""
    return hmac.new(secret.encode(), person_id.encode(), hashlib.sha256).hexdigest()


def erasure_entry(
    secret: str, person_id: str, operator: str, reason: str, removed: list[str], now: dt.datetime
) -> tuple[bytes, dict[str, Any]]:
    """The key and ``PersonErased`` fields of one erasure: no PESEL anywhere."""
    hashed, audit_id = person_hash(secret, person_id), str(uuid.uuid4())
    return f"erased:{hashed}:{audit_id}".encode(), {
        "audit_id": audit_id,
        "occurred_at": now,
        "person_hash": hashed,
        "operator": operator,
        "reason": _clean(reason),
        "removed": removed,
    }


def reads(records: Iterable[tuple[bytes, dict[str, Any] | None]]) -> list[dict[str, Any]]:
    """A person's reads from their access-log records in log order (``None``: erased),
    oldest first."""
    kept = latest_per_key(records)
    return sorted(kept.values(), key=lambda f: (f["occurred_at"], f["audit_id"]))


def as_json(entry: dict[str, Any]) -> dict[str, Any]:
    """One read as ``pai audit --json`` shows it."""
    return {
        "at": rfc3339(entry["occurred_at"]),
        "operator": entry["operator"],
        "user": entry["user"],
        "service": entry["service"],
        "what": entry["what"],
        "audit_id": entry["audit_id"],
    }
