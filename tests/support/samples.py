"""Valid, realistic sample records for every record of every kept schema version.

Built by walking the schema, so a new record or field gets a sample without a
test change; strings that carry identifiers (PESEL, TERYT codes, UUIDs) get
values of the right shape.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from services.runtime.schemas import SchemaVersion

PESELS = ("44051401359", "02070803628", "90090515836", "85121712340")
WARSAW_DATE = dt.date(2026, 3, 2)
INSTANT = dt.datetime(2026, 3, 2, 9, 30, 15, 123000, tzinfo=dt.UTC)


def _string(name: str, variant: int) -> str:
    if name == "person_id":
        return PESELS[variant % len(PESELS)]
    if name == "pup_code":
        return "1465"
    if name in ("ops_code", "ops_codes"):
        return ("1465011", "1261011")[variant % 2]
    if name == "event_id":
        return str(uuid.UUID(int=0x5EED_0000 + variant))
    return f"{name}-{variant}"


def _value(schema: Any, name: str, variant: int, named: dict[str, Any]) -> Any:
    if isinstance(schema, list):  # union: alternate between null and the value
        branches = [b for b in schema if b != "null"]
        if "null" in schema and variant % 2 == 1:
            return None
        return _value(branches[0], name, variant, named)
    if isinstance(schema, str):
        if schema in named:
            return _value(named[schema], name, variant, named)
        primitives: dict[str, Callable[[], Any]] = {
            "string": lambda: _string(name, variant),
            "int": lambda: 3 + variant,
            "long": lambda: 1_000_000_007 + variant,
            "double": lambda: 7.5 + variant,
            "float": lambda: 1.5,
            "boolean": lambda: variant % 2 == 0,
            "bytes": lambda: b"\x00\x01",
        }
        return primitives[schema]()
    logical = schema.get("logicalType")
    if logical == "date":
        return WARSAW_DATE + dt.timedelta(days=variant)
    if logical == "timestamp-millis":
        return INSTANT + dt.timedelta(seconds=variant)
    if logical == "uuid":
        return uuid.UUID(int=0x5EED_0000 + variant)
    kind = schema["type"]
    if kind == "record":
        full = f"{schema.get('namespace', '')}.{schema['name']}".lstrip(".")
        named[full] = named[schema["name"]] = schema
        return {f["name"]: _value(f["type"], f["name"], variant, named) for f in schema["fields"]}
    if kind == "enum":
        full = f"{schema.get('namespace', '')}.{schema['name']}".lstrip(".")
        named[full] = named[schema["name"]] = schema
        return schema["symbols"][variant % len(schema["symbols"])]
    if kind == "array":
        return [_value(schema["items"], name, variant + i, named) for i in range(2)]
    if kind == "map":
        return {"k": _value(schema["values"], name, variant, named)}
    return _value(kind, name, variant, named)


def samples(version: SchemaVersion, variants: int = 2) -> list[tuple[str, dict[str, Any]]]:
    """``(record name, fields)`` for every top-level record of ``version``, ``variants`` each."""
    branches = version.raw if isinstance(version.raw, list) else [version.raw]
    found = []
    for variant in range(variants):
        named: dict[str, Any] = {}
        for branch in branches:
            found.append((branch["name"], _value(branch, branch["name"], variant, named)))
    return found
