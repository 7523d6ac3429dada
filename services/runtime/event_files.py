"""Events written by hand as JSON or YAML, turned into Kafka records of the contract.

What ``pai send FILE`` reads: a list of records, each
``{topic, type, fields}`` (``key`` optional), in a ``.json``, ``.yaml`` or
``.yml`` file (JSON is read as YAML, so both report the line of a record).
Dates are written ``YYYY-MM-DD`` and instants in ISO 8601 (``Z`` or an
offset); ``event_id`` (a new UUID) and ``occurred_at`` (now) may be left
out. Every record is encoded with the topic's current schema, so anything the
schema refuses is an error that names the file, the line and the field; the
key is ``person_id`` on per-person topics and ``edition_id`` on editions.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from services.runtime.codec import AvroCodec, UnencodableRecord
from services.runtime.topics import BY_NAME


@dataclass(frozen=True)
class OutboundRecord:
    topic: str
    key: bytes | None
    value: bytes
    line: int


class EventFileError(ValueError):
    """The file cannot be sent; the text lists every problem with its line."""


def _record_schema(codec: AvroCodec, record_type: str) -> dict[str, Any] | None:
    raw = codec.current.raw
    for branch in raw if isinstance(raw, list) else [raw]:
        if branch["name"] == record_type:
            return branch  # type: ignore[no-any-return]
    return None


def _convert(value: Any, schema: Any) -> Any:
    """A JSON/YAML value as fastavro wants it for ``schema`` (dates and instants parsed)."""
    if isinstance(schema, list):
        if value is None:
            return None
        branches = [s for s in schema if s != "null"]
        return _convert(value, branches[0]) if len(branches) == 1 else value
    if isinstance(schema, dict):
        logical = schema.get("logicalType")
        if logical == "date" and isinstance(value, str):
            return dt.date.fromisoformat(value)
        if logical == "timestamp-millis" and isinstance(value, str | dt.datetime):
            instant = (
                dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
                if isinstance(value, str)
                else value
            )
            if instant.tzinfo is None:
                raise ValueError(f"{value!s} has no time zone: add Z or an offset")
            return instant
        if schema.get("type") == "array" and isinstance(value, list):
            return [_convert(v, schema["items"]) for v in value]
    return value


def _fields(record: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    given = dict(record.get("fields") or {})
    names = {f["name"] for f in schema["fields"]}
    if "event_id" in names:
        given.setdefault("event_id", str(uuid.uuid4()))
    if "occurred_at" in names:
        given.setdefault("occurred_at", dt.datetime.now(dt.UTC))
    unknown = sorted(set(given) - names)
    if unknown:
        raise ValueError(f"fields {unknown} are not in {schema['name']}; it has {sorted(names)}")
    out = {}
    for field in schema["fields"]:
        if field["name"] in given:
            try:
                out[field["name"]] = _convert(given[field["name"]], field["type"])
            except ValueError as exc:
                raise ValueError(f"{field['name']}: {exc}") from None
    return out


def encode_record(
    item: Any, codecs: dict[str, AvroCodec] | None = None
) -> tuple[str, bytes | None, bytes]:
    """One record as (topic, key, Avro value); ValueError saying what is wrong."""
    codecs = {} if codecs is None else codecs
    if not isinstance(item, dict) or not {"topic", "type"} <= item.keys():
        raise ValueError("a record is a mapping with topic, type and fields (key optional)")
    topic = BY_NAME.get(item["topic"])
    if topic is None or topic.schema is None:
        known = sorted(n for n, t in BY_NAME.items() if t.schema)
        raise ValueError(f"topic {item['topic']!r} is not one of {known}")
    codec = codecs.setdefault(topic.name, AvroCodec(topic.schema))
    schema = _record_schema(codec, item["type"])
    if schema is None:
        names = [n.rsplit(".", 1)[-1] for n in codec.current.record_names]
        raise ValueError(f"type {item['type']!r} is not a record of {topic.name}: {names}")
    fields = _fields(item, schema)
    try:
        value = codec.encode(item["type"], fields)
    except UnencodableRecord as exc:
        raise ValueError(str(exc)) from None
    key = item.get("key")
    if key is None and topic.key in fields:
        key = fields[topic.key]
    return topic.name, None if key is None else str(key).encode(), value


def read(path: Path, max_errors: int = 20) -> list[OutboundRecord]:
    """Every record of the file, encoded; :class:`EventFileError` listing what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text)
    except OSError as exc:
        raise EventFileError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise EventFileError(f"{path} is not valid JSON or YAML: {exc}") from None
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode):
        raise EventFileError(f"{path}:{root.start_mark.line + 1}: expected a list of records")
    items = yaml.safe_load(text)
    codecs: dict[str, AvroCodec] = {}
    records, problems = [], []
    for n, (node, item) in enumerate(zip(root.value, items, strict=True)):
        line = node.start_mark.line + 1
        try:
            topic, key, value = encode_record(item, codecs)
        except ValueError as exc:
            problems.append(f"{path}:{line}: record {n + 1}: {' '.join(str(exc).split())}")
            if len(problems) >= max_errors:
                problems.append("(stopped after the first errors)")
                break
            continue
        records.append(OutboundRecord(topic, key, value, line))
    if problems:
        raise EventFileError("\n".join(problems))
    return records
