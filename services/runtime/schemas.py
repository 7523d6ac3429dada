"""The Avro contract on disk: every version of every schema under ``schemas/<name>/vN.avsc``.

A :class:`SchemaStore` loads them all once, computes each version's CRC-64-AVRO
fingerprint of the Parsing Canonical Form (the value Apache Avro Java's
``SchemaNormalization.parsingFingerprint64`` gives) and answers two questions:
which schema wrote these bytes (by fingerprint), and which version is current.

A topic schema that is a union (``[RecordA, RecordB, ...]``) has two writer forms:
the union itself, and each record branch on its own, which is what a class
generated from the schema writes (Apache Avro Java's ``toByteBuffer()``, or a
``BinaryMessageEncoder`` given the record's schema). Both fingerprints are known:
a :class:`Writer` names the version and, for a branch, the record.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from fastavro import parse_schema
from fastavro.schema import fingerprint, to_parsing_canonical_form

_VERSION_FILE = re.compile(r"^v(\d+)\.avsc$")
_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


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


def _full_name(name: str, namespace: str | None) -> str:
    return name if "." in name or not namespace else f"{namespace}.{name}"


def _named_definitions(schema: Any, namespace: str | None, found: dict[str, Any]) -> None:
    """Every named type (record, enum, fixed) defined anywhere in ``schema``, by full name."""
    if isinstance(schema, list):
        for branch in schema:
            _named_definitions(branch, namespace, found)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in ("record", "error", "enum", "fixed"):
            namespace = schema.get("namespace", namespace)
            full = _full_name(schema["name"], namespace)
            found[full] = {**schema, "name": full.rsplit(".", 1)[-1]}
            found[full]["namespace"] = full.rpartition(".")[0]
            namespace = full.rpartition(".")[0]
        for fld in schema.get("fields", []):
            _named_definitions(fld["type"], namespace, found)
        for key in ("items", "values"):
            if key in schema:
                _named_definitions(schema[key], namespace, found)
        if isinstance(kind, (dict, list)):
            _named_definitions(kind, namespace, found)


def named_types(schema: Any) -> dict[str, Any]:
    """Every named type (record, enum, fixed) a schema defines, by full name, each with its
    ``name`` and ``namespace`` made explicit."""
    found: dict[str, Any] = {}
    _named_definitions(schema, None, found)
    return found


def standalone(branch: Any, union: list[Any]) -> Any:
    """The branch as a schema of its own: as Apache Avro Java prints a record of a union.

    A named type the branch uses but another branch defines is written out in full at
    its first use, as ``Schema.toString()`` of the branch (and so a generated class's
    ``SCHEMA$``) does; later uses stay references.
    """
    definitions: dict[str, Any] = {}
    _named_definitions(union, None, definitions)
    defined: set[str] = set()

    def inline(schema: Any, namespace: str | None) -> Any:
        if isinstance(schema, str):
            if schema in _PRIMITIVES:
                return schema
            full = _full_name(schema, namespace)
            if full in defined:
                return full
            if full not in definitions:
                return schema  # unknown: fastavro's parse names it
            return inline(copy.deepcopy(definitions[full]), namespace)
        if isinstance(schema, list):
            return [inline(b, namespace) for b in schema]
        if not isinstance(schema, dict):
            return schema
        out = dict(schema)
        kind = schema.get("type")
        if kind in ("record", "error", "enum", "fixed"):
            namespace = schema.get("namespace", namespace)
            full = _full_name(schema["name"], namespace)
            defined.add(full)
            namespace = full.rpartition(".")[0]
        if "fields" in schema:
            out["fields"] = [{**f, "type": inline(f["type"], namespace)} for f in schema["fields"]]
        for key in ("items", "values"):
            if key in schema:
                out[key] = inline(schema[key], namespace)
        if isinstance(kind, (str, dict, list)) and kind not in (
            "record",
            "error",
            "enum",
            "fixed",
            "array",
            "map",
        ):
            out["type"] = inline(kind, namespace)
        return out

    return inline(copy.deepcopy(branch), None)


@dataclass(frozen=True)
class Branch:
    """One record of a union schema, as a schema of its own (the generated class's form)."""

    full_name: str
    raw: Any = field(repr=False)
    parsed: Any = field(repr=False)
    fingerprint: bytes


@dataclass(frozen=True)
class Writer:
    """What wrote some bytes: a version, and the branch when it was written alone."""

    version: SchemaVersion
    branch: Branch | None = None

    @property
    def parsed(self) -> Any:
        return self.branch.parsed if self.branch else self.version.parsed

    @property
    def fingerprint(self) -> bytes:
        return self.branch.fingerprint if self.branch else self.version.fingerprint

    @property
    def form(self) -> str:
        """``union`` (or ``record`` for a record schema) or ``branch``."""
        if self.branch is not None:
            return "branch"
        return "union" if isinstance(self.version.raw, list) else "record"


@dataclass(frozen=True)
class SchemaVersion:
    """One published version of one schema."""

    name: str
    version: int
    path: Path
    raw: Any = field(repr=False)
    parsed: Any = field(repr=False)
    fingerprint: bytes

    branches: tuple[Branch, ...] = field(default=(), repr=False)
    """The records of a union, each as a schema of its own; empty for a record schema."""

    @property
    def record_names(self) -> list[str]:
        """Full names of the top-level records (one for a record, several for a union)."""
        branches = self.raw if isinstance(self.raw, list) else [self.raw]
        return [f"{b['namespace']}.{b['name']}" for b in branches]

    def branch(self, record_type: str) -> Branch:
        """The branch whose record is named ``record_type`` (short or full name)."""
        for branch in self.branches:
            if record_type in (branch.full_name, branch.full_name.rsplit(".", 1)[-1]):
                return branch
        raise KeyError(f"{self.name} v{self.version} has no union branch {record_type!r}")


class SchemaStore:
    """All schemas and versions found in one directory.

    Fingerprints are looked up per topic first (:meth:`writer`): a topic's codec knows
    its own writers, so a record shared by two topics' unions, or a record schema
    whose next version is a union holding the unchanged record, is one writer of each
    topic. The table over all topics (:meth:`writers_with`) only words ``wrong-schema``.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_schema_dir()
        self._versions: dict[str, list[SchemaVersion]] = {}
        self._by_topic: dict[str, dict[bytes, Writer]] = {}
        self._everywhere: dict[bytes, list[Writer]] = {}
        if not self.root.is_dir():
            raise FileNotFoundError(f"schema directory {self.root} does not exist")
        for directory in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for path in sorted(directory.iterdir()):
                match = _VERSION_FILE.match(path.name)
                if match:
                    self._add(directory.name, int(match.group(1)), path)
        for versions in self._versions.values():
            versions.sort(key=lambda v: v.version)

    def _add(self, name: str, version: int, path: Path) -> None:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            parsed = parse_schema(raw)
            branches: list[Branch] = []
            if isinstance(raw, list):
                for record in raw:
                    alone = standalone(record, raw)
                    full = f"{alone['namespace']}.{alone['name']}"
                    branches.append(Branch(full, alone, parse_schema(alone), fingerprint64(alone)))
        except Exception as exc:  # json, fastavro and shape errors: say which file
            raise SchemaLoadError(f"{path}: {type(exc).__name__}: {exc}") from exc
        schema = SchemaVersion(
            name, version, path, raw, parsed, fingerprint64(raw), tuple(branches)
        )
        self._versions.setdefault(name, []).append(schema)
        self._index(Writer(schema))
        for branch in branches:
            self._index(Writer(schema, branch))

    def _index(self, writer: Writer) -> None:
        fp = writer.fingerprint
        self._everywhere.setdefault(fp, []).append(writer)
        own = self._by_topic.setdefault(writer.version.name, {})
        clash = own.get(fp)
        # One fingerprint is one Parsing Canonical Form: the same record (unchanged between
        # two versions, or record v(n) and the same branch in v(n+1)) reads the same with
        # either; the latest version names it.
        if clash is None or writer.version.version > clash.version.version:
            own[fp] = writer

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

    def writer(self, name: str, fp: bytes) -> Writer | None:
        """The writer of schema ``name`` with fingerprint ``fp`` (the latest version naming it)."""
        return self._by_topic.get(name, {}).get(fp)

    def writers_with(self, fp: bytes) -> list[Writer]:
        """Every writer of every schema with fingerprint ``fp`` (to word ``wrong-schema``)."""
        return list(self._everywhere.get(fp, ()))


class SchemaLoadError(ValueError):
    """A schema file that cannot be read or parsed (the message names the file)."""


@cache
def default_store() -> SchemaStore:
    """The store of the installed contract, loaded once per process."""
    return SchemaStore()
