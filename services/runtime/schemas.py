"""The Avro contract on disk: every version of every schema under ``schemas/<name>/vN.avsc``.

A :class:`SchemaStore` loads them all once, computes each version's CRC-64-AVRO
fingerprint of the Parsing Canonical Form (the value Apache Avro Java's
``SchemaNormalization.parsingFingerprint64`` gives) and answers two questions:
which schema wrote these bytes (by fingerprint), and which version is current.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from fastavro import parse_schema
from fastavro.schema import fingerprint, to_parsing_canonical_form

_VERSION_FILE = re.compile(r"^v(\d+)\.avsc$")


def default_schema_dir() -> Path:
    """``services/schemas`` in an installed wheel, else ``schemas/`` of the source checkout."""
    here = Path(__file__).resolve()
    packaged = here.parent.parent / "schemas"
    return packaged if packaged.is_dir() else here.parents[2] / "schemas"


def fingerprint64(schema: Any) -> bytes:
    """CRC-64-AVRO fingerprint of the schema's Parsing Canonical Form, little-endian (8 bytes).

    This is the order single-object encoding puts on the wire, and the order of
    fastavro's hex digest; Java's ``parsingFingerprint64`` long is its reverse.
    """
    return bytes.fromhex(fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO"))


@dataclass(frozen=True)
class SchemaVersion:
    """One published version of one schema."""

    name: str
    version: int
    path: Path
    raw: Any = field(repr=False)
    parsed: Any = field(repr=False)
    fingerprint: bytes

    @property
    def record_names(self) -> list[str]:
        """Full names of the top-level records (one for a record, several for a union)."""
        branches = self.raw if isinstance(self.raw, list) else [self.raw]
        return [f"{b['namespace']}.{b['name']}" for b in branches]


class SchemaStore:
    """All schemas and versions found in one directory."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_schema_dir()
        self._versions: dict[str, list[SchemaVersion]] = {}
        self._by_fingerprint: dict[bytes, SchemaVersion] = {}
        if not self.root.is_dir():
            raise FileNotFoundError(f"schema directory {self.root} does not exist")
        for directory in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for path in directory.iterdir():
                match = _VERSION_FILE.match(path.name)
                if match:
                    self._add(directory.name, int(match.group(1)), path)
        for versions in self._versions.values():
            versions.sort(key=lambda v: v.version)

    def _add(self, name: str, version: int, path: Path) -> None:
        raw = json.loads(path.read_text(encoding="utf-8"))
        parsed = parse_schema(raw)
        schema = SchemaVersion(name, version, path, raw, parsed, fingerprint64(raw))
        clash = self._by_fingerprint.get(schema.fingerprint)
        if clash is not None:
            raise ValueError(f"{path} has the same fingerprint as {clash.path}")
        self._versions.setdefault(name, []).append(schema)
        self._by_fingerprint[schema.fingerprint] = schema

    @property
    def names(self) -> list[str]:
        return sorted(self._versions)

    def versions(self, name: str) -> list[SchemaVersion]:
        """Every kept version of ``name``, oldest first."""
        try:
            return list(self._versions[name])
        except KeyError:
            raise KeyError(f"no schema named {name!r} under {self.root}") from None

    def current(self, name: str) -> SchemaVersion:
        return self.versions(name)[-1]

    def by_fingerprint(self, fp: bytes) -> SchemaVersion | None:
        return self._by_fingerprint.get(fp)


@cache
def default_store() -> SchemaStore:
    """The store of the installed contract, loaded once per process."""
    return SchemaStore()
