"""What an OPS may post to the gateway, and every reason a posted event is refused.

Pure: no HTTP, no Kafka. An event is ``{"type": <record name>, "data": {...}}``
where ``data`` holds the record's fields as in the Avro schema (UUIDs as
strings, dates ``YYYY-MM-DD``, timestamps RFC 3339). :func:`check_event`
converts it to the fields the codec writes and applies the checks the services
apply before they would dead-letter the record: the schema's types and enum
symbols, the PESEL checksum (:mod:`services.runtime.identifiers`), the TERYT
code, dates and timestamps outside :mod:`services.runtime.date_range` and impossible
dates (:func:`services.eligibility.rules.check_dates`), hours
and the week's Monday (:mod:`services.scheduler.handling`). Each problem is a
:class:`FieldError` naming its path (``data.hours``), so the 400 answer lists
them all at once. An ``ops_code`` other than the caller's is :class:`Forbidden`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

from services.eligibility.rules import PERIODS, InvalidEvent, check_dates
from services.runtime import date_range
from services.runtime.identifiers import is_ops_code, is_valid_pesel
from services.runtime.schemas import SchemaStore, default_store
from services.runtime.topics import INTEGRATION_ACTIVITIES, SOCIAL_ASSISTANCE, TopicSpec
from services.scheduler.handling import (
    MAX_WEEKLY_HOURS,
    InvalidInput,
    check_week_start,
    checked_hours,
)

ACCEPTED: dict[str, TopicSpec] = {
    "BenefitsGranted": SOCIAL_ASSISTANCE,
    "BenefitsEnded": SOCIAL_ASSISTANCE,
    "SocialContractSigned": SOCIAL_ASSISTANCE,
    "SocialContractEnded": SOCIAL_ASSISTANCE,
    "IntegrationHoursReported": INTEGRATION_ACTIVITIES,
}
"""The record types an OPS may post, and the topic each is written to."""
MAX_STRING = 200
"""No string field of these records needs more (ids, codes); longer is refused."""
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LOCAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?")
_RFC_3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")
"""RFC 3339's date-time (section 5.6): calendar dates only, seconds and an offset required."""
CLOCK_SKEW = dt.timedelta(minutes=5)
"""How far past the gateway's clock an ``occurred_at`` may lie: an OPS server's clock
may run a little ahead (NTP keeps them within seconds; 5 minutes is the tolerance of
the signature's ``webhook-timestamp`` too), an event cannot have happened later."""
_INT_RANGE = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


@dataclass(frozen=True, slots=True)
class FieldError:
    path: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class Invalid(ValueError):
    """The event would be dead-lettered; ``errors`` says where and why."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors))
        self.errors = errors


class Forbidden(ValueError):
    """The event names another OPS than the caller."""


@dataclass(frozen=True, slots=True)
class Checked:
    """An event fit to write: its record type, topic, fields (as the codec wants them)."""

    type: str
    topic: TopicSpec
    fields: dict[str, Any]

    @property
    def event_id(self) -> str:
        return str(self.fields["event_id"])

    @property
    def person_id(self) -> str:
        return str(self.fields["person_id"])


def record_schemas(store: SchemaStore | None = None) -> dict[str, dict[str, Any]]:
    """The current Avro record schema (raw JSON) of every accepted type."""
    store = store or default_store()
    found: dict[str, dict[str, Any]] = {}
    for name, spec in ACCEPTED.items():
        assert spec.schema is not None
        raw = store.current(spec.schema).raw
        for branch in raw if isinstance(raw, list) else [raw]:
            if branch["name"] == name:
                found[name] = branch
    return found


_SCHEMAS = record_schemas()


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(
        type(value), "array" if isinstance(value, list) else "object"
    )


def convert(value: Any, schema: Any, path: str, errors: list[FieldError]) -> Any:
    """``value`` (parsed JSON) as the codec wants it for Avro type ``schema``; problems are
    appended to ``errors`` (the return value is then meaningless)."""
    if isinstance(schema, list):  # a union: null or one other type here
        if value is None and "null" in schema:
            return None
        others = [s for s in schema if s != "null"]
        if len(others) == 1:
            return convert(value, others[0], path, errors)
        errors.append(FieldError(path, "unions of several types are not accepted here"))
        return None
    kind = schema.get("type") if isinstance(schema, dict) else schema
    logical = schema.get("logicalType") if isinstance(schema, dict) else None
    wrong = FieldError(path, f"expected {logical or kind}, got {_type_name(value)}")
    if kind == "string":
        if not isinstance(value, str):
            errors.append(wrong)
        elif len(value) > MAX_STRING:
            errors.append(FieldError(path, f"{len(value)} characters; at most {MAX_STRING}"))
        elif logical == "uuid":  # either case (RFC 9562); written in lower case, so that
            try:  # 0B7F... and 0b7f... are one event_id, de-duplicated as one
                normal = str(uuid.UUID(value))
                if normal != value.lower():
                    raise ValueError(value)
                return normal
            except ValueError:
                errors.append(FieldError(path, "expected a UUID (8-4-4-4-12 hex digits)"))
        return value
    if logical == "date":
        if not isinstance(value, str):
            errors.append(FieldError(path, f"expected a date YYYY-MM-DD, got {_type_name(value)}"))
            return None
        try:
            if not _DATE.fullmatch(value):  # fromisoformat takes 2026-W10-1 and 20260302
                raise ValueError(value)
            return dt.date.fromisoformat(value)
        except ValueError:
            errors.append(FieldError(path, f"{value[:40]!r} is not a date YYYY-MM-DD"))
            return None
    if logical == "timestamp-millis":
        return _instant(value, path, errors)
    if kind == "enum":
        if not isinstance(value, str) or value not in schema["symbols"]:
            errors.append(FieldError(path, f"expected one of {', '.join(schema['symbols'])}"))
        return value
    if kind in ("int", "long"):
        low, high = _INT_RANGE[kind]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors.append(FieldError(path, f"expected an integer ({kind})"))
        return value
    if kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.append(wrong)
            return None
        if not math.isfinite(value):
            errors.append(FieldError(path, "expected a finite number"))
        return float(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            errors.append(wrong)
        return value
    errors.append(FieldError(path, f"the type {kind} is not accepted by the gateway"))
    return None


def _instant(value: Any, path: str, errors: list[FieldError]) -> dt.datetime | None:
    if not isinstance(value, str):
        errors.append(FieldError(path, f"expected an RFC 3339 timestamp, got {_type_name(value)}"))
        return None
    if len(value) <= 40 and _LOCAL_TIME.fullmatch(value):
        errors.append(FieldError(path, "the timestamp has no offset: add Z or +01:00"))
        return None
    try:
        if len(value) > 40 or not _RFC_3339.fullmatch(value):  # not any ISO 8601 form
            raise ValueError(value)
        instant = dt.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        errors.append(
            FieldError(path, f"{value[:40]!r} is not an RFC 3339 timestamp (2026-03-02T10:00:00Z)")
        )
        return None
    if instant.tzinfo is None:
        errors.append(FieldError(path, "the timestamp has no offset: add Z or +01:00"))
        return None
    return instant  # its range is the services' (date_range, in _domain_checks)


def check_event(body: Any, ops_code: str, now: dt.datetime | None = None) -> Checked:
    """The event of a request body posted for ``ops_code`` at ``now`` (an ``occurred_at``
    later than ``now`` plus :data:`CLOCK_SKEW` is refused; None: not checked);
    :class:`Invalid` (every field at fault) or :class:`Forbidden` otherwise."""
    if not isinstance(body, dict):
        raise Invalid([FieldError("", 'expected an object {"type": ..., "data": {...}}')])
    errors: list[FieldError] = []
    extra = sorted(set(body) - {"type", "data"})
    if extra:
        errors.append(FieldError(extra[0], "unknown member; an event has type and data only"))
    kind = body.get("type")
    if kind not in ACCEPTED:
        errors.append(FieldError("type", f"expected one of {', '.join(ACCEPTED)}"))
    data = body.get("data")
    if not isinstance(data, dict):
        errors.append(FieldError("data", "expected an object with the record's fields"))
    if errors or not isinstance(data, dict) or not isinstance(kind, str):
        raise Invalid(errors)
    schema = _SCHEMAS[kind]
    names = [f["name"] for f in schema["fields"]]
    for name in sorted(set(data) - set(names)):
        errors.append(FieldError(f"data.{name}"[:80], f"not a field of {kind}"))
    fields: dict[str, Any] = {}
    for field in schema["fields"]:
        name = field["name"]
        path = f"data.{name}"
        if name not in data:
            if "default" in field:
                continue  # the codec writes the default
            errors.append(FieldError(path, "required"))
            continue
        before = len(errors)
        value = convert(data[name], field["type"], path, errors)
        if len(errors) == before and isinstance(value, dt.date):
            _check_day(kind, name, value, now, errors)
        if len(errors) == before:
            fields[name] = value  # only fields that passed reach the domain checks
    _domain_checks(kind, fields, errors)
    if errors:
        raise Invalid(errors)
    if fields["ops_code"] != ops_code:
        raise Forbidden(
            f"data.ops_code {fields['ops_code']} is not the OPS of this URL ({ops_code}):"
            " an OPS posts only its own events"
        )
    return Checked(kind, ACCEPTED[kind], fields)


def _check_day(
    kind: str, name: str, value: dt.date, now: dt.datetime | None, errors: list[FieldError]
) -> None:
    """A date or timestamp outside :mod:`services.runtime.date_range`, or an
    ``occurred_at`` in the future."""
    path = f"data.{name}"
    if date_range.out_of_range({name: value}) is not None:
        errors.append(FieldError(path, date_range.describe(kind, name, value)))
    elif name == "occurred_at" and now is not None and isinstance(value, dt.datetime):
        latest = now + CLOCK_SKEW
        if value > latest:
            errors.append(
                FieldError(
                    path,
                    f"{value.isoformat()} is later than the gateway's clock"
                    f" ({now.isoformat(timespec='seconds')}) plus"
                    f" {CLOCK_SKEW.total_seconds() / 60:.0f} minutes: occurred_at is when the"
                    " event happened, not a date it takes effect (that is a date field)",
                )
            )


def _domain_checks(kind: str, fields: dict[str, Any], errors: list[FieldError]) -> None:
    """What eligibility and the scheduler would dead-letter without looking at any state,
    for the fields that converted (``fields`` holds only those)."""
    if "person_id" in fields and not is_valid_pesel(fields["person_id"]):
        errors.append(
            FieldError("data.person_id", "not a valid PESEL (11 digits, checksum 1-3-7-9)")
        )
    if "ops_code" in fields and not is_ops_code(fields["ops_code"]):
        errors.append(FieldError("data.ops_code", "not a TERYT gmina code (7 digits)"))
    if all(name in fields for name in PERIODS.get(kind, ())):
        try:
            check_dates(kind, fields)  # an end before its start (the range is checked)
        except InvalidEvent as exc:
            errors.append(FieldError(f"data.{exc.field}", str(exc)))
    if kind == "IntegrationHoursReported":
        if "week_start" in fields:
            try:
                check_week_start(fields["week_start"])
            except InvalidInput as exc:
                errors.append(FieldError("data.week_start", str(exc)))
        if "hours" in fields:
            try:
                checked_hours(fields["hours"], MAX_WEEKLY_HOURS)
            except InvalidInput as exc:
                errors.append(FieldError("data.hours", str(exc)))
