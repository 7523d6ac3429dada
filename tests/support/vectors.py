"""The shared test vectors under ``schemas/test-vectors/``: how they are made and checked.

For every record of every kept version of every schema, three sample datums (the second
with every nullable field null; the third with Polish diacritics in every free-text
string and a negative value in every int, long, float and double, for the UTF-8 lengths
and the zig-zag varints) in Avro's JSON encoding of the record alone, and the
exact single-object bytes (hex) of each writer form: ``union`` (the topic schema, as the
services write) and ``branch`` (the record's own schema, as a generated class's
``toByteBuffer()`` writes); a record schema has the one form ``record``. The Python
tests (``tests/unit/test_vectors.py``) and the Java kit's tests (``clients/java``)
check them byte for byte.

Regenerate after adding a schema version (then review the diff: bytes of kept
versions must not change)::

    .venv/bin/python -m tests.support.vectors --write
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import Any

import fastavro

from services.runtime.codec import MAGIC
from services.runtime.schemas import SchemaStore, SchemaVersion, default_store
from tests.support.samples import samples

FORMAT = 1


def vectors_dir(store: SchemaStore) -> Path:
    return store.root / "test-vectors"


def _body(schema: Any, datum: Any) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, datum)
    return buf.getvalue()


def _json_datum(schema: Any, fields: dict[str, Any]) -> Any:
    buf = io.StringIO()
    fastavro.json_writer(buf, schema, [fields])
    return json.loads(buf.getvalue())


POLISH = "Zażółć gęślą jaźń: ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ"
"""Every Polish diacritic, lower and upper case (2-byte UTF-8 each)."""

_IDENTIFIER_SUFFIXES = ("_id", "_code", "_codes", "_hash")
"""Strings that carry identifiers of a fixed shape (PESEL, TERYT, UUID, ids) stay ASCII."""


def _edge(schema: Any, value: Any, name: str, named: dict[str, Any]) -> Any:
    """``value`` (a sample of ``schema``) with diacritics in free text and numbers negated.

    These datums check the wire encoding, not the domain's ranges: the services would
    refuse, say, negative hours; Avro writes and reads them all the same.
    """
    if value is None:
        return None
    if isinstance(schema, list):
        return _edge(next(b for b in schema if b != "null"), value, name, named)
    if isinstance(schema, str):
        if schema in named:
            return _edge(named[schema], value, name, named)
        if schema == "string" and not name.endswith(_IDENTIFIER_SUFFIXES):
            return f"{POLISH} ({name})"
        if schema in ("int", "long", "float", "double"):
            return -abs(value) or -1
        return value
    if schema.get("logicalType"):
        return value
    kind = schema["type"]
    if kind in ("record", "enum", "fixed"):
        full = f"{schema.get('namespace', '')}.{schema['name']}".lstrip(".")
        named[full] = named[schema["name"]] = schema
    if kind == "record":
        return {
            f["name"]: _edge(f["type"], value[f["name"]], f["name"], named)
            for f in schema["fields"]
        }
    if kind == "array":
        return [_edge(schema["items"], v, name, named) for v in value]
    if kind == "map":
        return {k: _edge(schema["values"], v, name, named) for k, v in value.items()}
    if kind == "enum":
        return value
    return _edge(kind, value, name, named)


def datums(version: SchemaVersion) -> list[tuple[str, dict[str, Any]]]:
    """``samples`` of the version, then each record's edge datum (:func:`_edge`)."""
    found = samples(version)
    branches = version.raw if isinstance(version.raw, list) else [version.raw]
    named: dict[str, Any] = {}
    for branch, (record_type, fields) in zip(branches, found, strict=False):
        found.append((record_type, _edge(branch, fields, record_type, named)))
    return found


def cases(version: SchemaVersion) -> list[dict[str, Any]]:
    """The vectors of one version, in the order of :func:`datums`."""
    out = []
    for record_type, fields in datums(version):
        if version.branches:
            branch = version.branch(record_type)
            datum = _json_datum(branch.parsed, fields)
            forms = {
                "union": MAGIC
                + version.fingerprint
                + _body(version.parsed, (branch.full_name, fields)),
                "branch": MAGIC + branch.fingerprint + _body(branch.parsed, fields),
            }
            full_name = branch.full_name
        else:
            full_name = version.record_names[0]
            datum = _json_datum(version.parsed, fields)
            forms = {"record": MAGIC + version.fingerprint + _body(version.parsed, fields)}
        out.append(
            {
                "record": full_name,
                "datum": datum,
                "single_object_hex": {form: data.hex() for form, data in forms.items()},
            }
        )
    return out


def document(store: SchemaStore, version: SchemaVersion) -> dict[str, Any]:
    fingerprints = {"union" if version.branches else "record": version.fingerprint[::-1].hex()}
    return {
        "format": FORMAT,
        "schema": version.name,
        "version": version.version,
        "schema_file": f"{version.name}/v{version.version}.avsc",
        "current": version is store.current(version.name),
        "fingerprint_hex_big_endian": fingerprints
        | {b.full_name: b.fingerprint[::-1].hex() for b in version.branches},
        "cases": cases(version),
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def expected_files(store: SchemaStore) -> dict[Path, str]:
    """Every vector file the kept versions call for, with its exact text."""
    root = vectors_dir(store)
    return {
        root / name / f"v{version.version}.json": render(document(store, version))
        for name in store.names
        for version in store.versions(name)
    }


def differences(store: SchemaStore) -> list[str]:
    """What is missing, different or left over under ``schemas/test-vectors/``."""
    expected = expected_files(store)
    problems = []
    for path, text in expected.items():
        if not path.exists():
            problems.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path}: differs from what the schema and samples give")
    root = vectors_dir(store)
    for path in sorted(root.glob("*/*.json")) if root.is_dir() else []:
        if path not in expected:
            problems.append(f"{path}: no kept schema version has these vectors")
    return problems


def write(store: SchemaStore) -> list[Path]:
    written = []
    for path, text in expected_files(store).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write what is missing or differs")
    args = parser.parse_args(argv)
    store = default_store()
    if args.write:
        for path in write(store):
            print(f"wrote {path}")
        return 0
    problems = differences(store)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
