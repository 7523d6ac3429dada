"""The shared test vectors (``schemas/test-vectors/``) hold for the Python codec, byte for byte.

The Java kit checks the same files (``clients/java``, ``TestVectorsTest``). A kept
version without vectors, or vectors whose bytes differ from what the schemas give,
fails here: regenerate with ``.venv/bin/python -m tests.support.vectors --write``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import fastavro
import pytest

from services.runtime.codec import AvroCodec
from services.runtime.schemas import SchemaVersion, default_store
from tests.support.vectors import differences, vectors_dir

STORE = default_store()
VERSIONS = [v for name in STORE.names for v in STORE.versions(name)]


def test_every_kept_version_has_its_vectors_and_they_are_current() -> None:
    assert differences(STORE) == []


def _load(version: SchemaVersion) -> dict[str, Any]:
    path: Path = vectors_dir(STORE) / version.name / f"v{version.version}.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _from_json(schema: Any, datum: Any) -> dict[str, Any]:
    records = list(fastavro.json_reader(io.StringIO(json.dumps(datum)), schema))
    assert len(records) == 1
    record = records[0]
    assert isinstance(record, dict)
    return record


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"{v.name}-v{v.version}")
def test_the_codec_reads_every_form_of_every_vector(version: SchemaVersion) -> None:
    doc = _load(version)
    codec = AvroCodec(version.name)
    assert doc["cases"], "a version without cases"
    for case in doc["cases"]:
        short = case["record"].rsplit(".", 1)[-1]
        schema = version.branch(short).parsed if version.branches else version.parsed
        fields = _from_json(schema, case["datum"])
        forms = case["single_object_hex"]
        assert set(forms) == ({"union", "branch"} if version.branches else {"record"})
        for data in forms.values():
            decoded = codec.decode(bytes.fromhex(data))
            assert decoded.type == short
            assert decoded.writer_version <= STORE.current(version.name).version
            # read as the current version: the vector's fields, plus defaults of newer ones
            assert {k: decoded.fields[k] for k in fields} == fields
        if doc["current"]:
            # and the codec writes exactly these bytes
            written = {"union" if version.branches else "record": codec.encode(short, fields).hex()}
            if version.branches:
                written["branch"] = codec.encode_branch(short, fields).hex()
            assert written == forms


def test_fingerprints_in_the_vectors_are_the_stores() -> None:
    for version in VERSIONS:
        printed = _load(version)["fingerprint_hex_big_endian"]
        whole = printed.pop("union" if version.branches else "record")
        assert bytes.fromhex(whole)[::-1] == version.fingerprint
        assert printed == {b.full_name: b.fingerprint[::-1].hex() for b in version.branches}


def test_the_vectors_carry_polish_diacritics_and_negative_numbers() -> None:
    """UTF-8 string lengths and zig-zag varints of negatives are where encoders drift."""
    for name in ("profiles", "participation", "audit", "notifier-dlq"):
        datums = [c["datum"] for c in _load(STORE.current(name))["cases"]]
        text = json.dumps(datums, ensure_ascii=False)
        assert all(letter in text for letter in "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ"), name
    negatives = {
        (name, key)
        for name in STORE.names
        for case in _load(STORE.current(name))["cases"]
        for key, value in case["datum"].items()
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0
    }
    assert ("integration-activities", "hours") in negatives
    assert ("notifier-dlq", "source_offset") in negatives  # a long
    assert ("disclosures", "attempt") in negatives  # an int
