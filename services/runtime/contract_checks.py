"""Checks of the Avro contract under ``schemas/``: evolution and documentation.

- BACKWARD_TRANSITIVE: every version, as reader, can read data written with
  every earlier version (Apache Avro's own schema-resolution checker).
- Nothing taken away between consecutive versions (the SPEC names the records, fields
  and symbols producers and consumers rely on; Avro's checker alone allows these): no
  record, enum or fixed type removed or renamed (an alias rename, a namespace move), no
  field removed or renamed, no enum symbol removed (old data would read as the default).
- One fingerprint per whole schema: no version identical to another (of its topic or
  of another topic).
- Documentation: every record, enum and field has a ``doc``; every enum has a
  default symbol; every named type has a namespace.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import avro.errors
import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from services.runtime.schemas import SchemaStore, SchemaVersion, named_types


@dataclass(frozen=True)
class Problem:
    schema: str
    version: int
    message: str

    def __str__(self) -> str:
        return f"{self.schema} v{self.version}: {self.message}"


def _parse(raw: Any) -> avro.schema.Schema:
    return avro.schema.parse(json.dumps(raw))


def _branches(raw: Any) -> dict[str, Any]:
    branches = raw if isinstance(raw, list) else [raw]
    return {f"{b.get('namespace', '')}.{b['name']}": b for b in branches if isinstance(b, dict)}


def incompatibilities(reader: Any, writer: Any) -> list[str]:
    """Why data written with ``writer`` cannot be read with ``reader`` (empty when it can)."""
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    result = checker.get_compatibility(_parse(reader), _parse(writer))
    if result.compatibility is SchemaCompatibilityType.compatible:
        return []
    found = [
        f"at {loc}: {msg}" for loc, msg in zip(result.locations, result.messages, strict=False)
    ]
    # A union's verdict names only the branch type; say which record and why.
    reader_branches = _branches(reader)
    for name, writer_branch in _branches(writer).items():
        reader_branch = reader_branches.get(name)
        if reader_branch is None:
            found.append(f"record {name} was removed: data written as it cannot be read")
            continue
        try:
            sub = checker.get_compatibility(_parse(reader_branch), _parse(writer_branch))
        except avro.errors.SchemaParseException:
            continue  # the branch refers to a type named in another branch
        if sub.compatibility is not SchemaCompatibilityType.compatible:
            found.extend(f"record {name}: {msg}" for msg in sorted(sub.messages))
    return found


def backward_transitive_problems(versions: list[SchemaVersion]) -> list[Problem]:
    """Problems of each version read against every earlier one."""
    problems = []
    for i, reader in enumerate(versions):
        for writer in versions[:i]:
            for message in incompatibilities(reader.raw, writer.raw):
                problems.append(
                    Problem(
                        reader.name, reader.version, f"cannot read v{writer.version} data {message}"
                    )
                )
    return problems


def _aliases(definition: Any) -> set[str]:
    namespace = definition.get("namespace", "")
    return {
        alias if "." in alias or not namespace else f"{namespace}.{alias}"
        for alias in definition.get("aliases", [])
    }


def removal_problems(earlier: SchemaVersion, later: SchemaVersion) -> list[Problem]:
    """What ``later`` takes away from ``earlier``: named types, fields, enum symbols."""
    before, after = named_types(earlier.raw), named_types(later.raw)
    problems: list[str] = []
    since = f"(in v{earlier.version})"
    for full, old in before.items():
        new = after.get(full)
        if new is None:
            short = full.rsplit(".", 1)[-1]
            renamed = sorted(name for name, d in after.items() if full in _aliases(d)) or sorted(
                name
                for name in after
                if name.rsplit(".", 1)[-1] == short  # a namespace move
            )
            if renamed:
                problems.append(
                    f"{old['type']} {full} {since} was renamed to {renamed[0]}: producers and"
                    " consumers rely on its name (generated classes, the services' record"
                    " types); a rename would be a new topic"
                )
            else:
                problems.append(f"{old['type']} {full} {since} was removed")
            continue
        if old["type"] == "enum" and new.get("type") == "enum":
            gone = [s for s in old["symbols"] if s not in new["symbols"]]
            if gone:
                problems.append(
                    f"enum {full} lost symbol(s) {', '.join(gone)} {since}: data written with"
                    f" them would read as the default {new.get('default')!r}"
                )
        if old["type"] in ("record", "error") and new.get("type") in ("record", "error"):
            kept = {f["name"]: f for f in new.get("fields", [])}
            for fld in old.get("fields", []):
                if fld["name"] in kept:
                    continue
                to = [f["name"] for f in kept.values() if fld["name"] in f.get("aliases", [])]
                how = f"renamed to {to[0]}" if to else "removed"
                problems.append(
                    f"field {full}.{fld['name']} {since} was {how}: producers and consumers"
                    " rely on it (the SPEC's minimum fields among them)"
                )
    return [Problem(later.name, later.version, p) for p in problems]


def documentation_problems(version: SchemaVersion) -> list[Problem]:
    """Missing docs, namespaces and enum defaults."""
    problems: list[str] = []

    def visit(node: Any, where: str) -> None:
        if isinstance(node, list):
            for branch in node:
                visit(branch, where)
        elif isinstance(node, dict):
            kind = node.get("type")
            if kind in ("record", "enum", "fixed"):
                name = f"{node.get('namespace', '')}.{node['name']}".lstrip(".")
                if "namespace" not in node and "." not in node["name"] and where == "":
                    problems.append(f"{name} has no namespace")
                if not node.get("doc"):
                    problems.append(f"{name} has no doc")
                if kind == "enum" and "default" not in node:
                    problems.append(f"enum {name} has no default symbol")
                for fld in node.get("fields", []):
                    if not fld.get("doc"):
                        problems.append(f"field {name}.{fld['name']} has no doc")
                    visit(fld["type"], name)
            elif kind == "array":
                visit(node["items"], where)
            elif kind == "map":
                visit(node["values"], where)

    visit(version.raw, "")
    return [Problem(version.name, version.version, p) for p in problems]


def fingerprint_problems(store: SchemaStore) -> list[Problem]:
    """Whole schemas with one fingerprint: a version identical to an earlier one of its
    topic (it changes nothing), or to another topic's (then a value written for one topic
    cannot be refused as ``wrong-schema`` on the other). Records shared by two topics'
    unions, or unchanged between versions, are fine: each topic reads them as its own."""
    problems: list[Problem] = []
    for name in store.names:
        for version in store.versions(name):
            for other in store.writers_with(version.fingerprint):
                if other.branch is not None or other.version is version:
                    continue
                earlier = (other.version.name, other.version.version) < (name, version.version)
                if not earlier:
                    continue
                if other.version.name == name:
                    message = f"identical to v{other.version.version}: it changes nothing"
                else:
                    message = (
                        f"the same schema as {other.version.name} v{other.version.version}:"
                        " a value written for one topic cannot be refused on the other"
                    )
                problems.append(Problem(name, version.version, message))
    return problems


def _apache_avro_refusal(version: SchemaVersion) -> Problem | None:
    """Apache Avro's own verdict on a file fastavro parsed (it is stricter: empty records,
    duplicate field names); the other checks need the schema Apache Avro parses."""
    try:
        _parse(version.raw)
    except avro.errors.AvroException as refused:
        return Problem(version.name, version.version, f"Apache Avro refuses the schema: {refused}")
    return None


def check_store(store: SchemaStore) -> list[Problem]:
    """Every problem of every schema in the store."""
    problems: list[Problem] = fingerprint_problems(store)
    for name in store.names:
        refusals = [_apache_avro_refusal(v) for v in store.versions(name)]
        problems.extend(p for p in refusals if p is not None)
        if any(refusals):
            continue  # which check of the rest would hold is not known
        versions = store.versions(name)
        problems.extend(backward_transitive_problems(versions))
        for earlier, later in pairwise(versions):
            problems.extend(removal_problems(earlier, later))
        for version in versions:
            problems.extend(documentation_problems(version))
    return problems
