"""Our single-object bytes against Apache Avro Java, the reference implementation.

For every record of every schema: Java's fingerprint equals ours, bytes our codec
writes decode with Java's ``BinaryMessageDecoder`` to the same datum, and bytes
Java's ``BinaryMessageEncoder`` writes are byte-for-byte ours and decode with our
codec. Schema resolution across versions is checked both ways on a v2 of a schema.
Runs Apache Avro Java 1.12 from Maven Central, the version of the Java kit
(``clients/java``), on the kit's classpath that ``scripts/ensure-java-client.sh`` (part of
``make test``) writes; generated classes and both writer forms of every kept version are
checked by the kit's own tests against the shared vectors (``schemas/test-vectors/``).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fastavro
import pytest

from services.runtime.codec import AvroCodec
from services.runtime.schemas import SchemaStore, SchemaVersion, default_store
from tests.support.samples import samples

pytestmark = pytest.mark.interop

ROOT = Path(__file__).resolve().parents[2]
CLASSPATH = ROOT / ".tools" / "java-client" / "classpath.txt"
PROGRAM = Path(__file__).with_name("AvroInterop.java")


def avro_json(version: SchemaVersion, record_type: str, fields: dict[str, Any]) -> str:
    datum: Any = fields
    if isinstance(version.raw, list):
        datum = (next(n for n in version.record_names if n.endswith("." + record_type)), fields)
    buf = io.StringIO()
    fastavro.json_writer(buf, version.parsed, [datum])
    return buf.getvalue().strip()


def run_java(root: Path) -> None:
    if shutil.which("java") is None or not CLASSPATH.is_file():
        pytest.fail(
            f"Apache Avro Java 1.12 is not set up (java: {shutil.which('java')},"
            f" {CLASSPATH} exists: {CLASSPATH.is_file()});"
            " run scripts/ensure-java-client.sh (make test does)"
        )
    classpath = CLASSPATH.read_text().strip()
    assert "avro-1.12." in classpath, classpath
    result = subprocess.run(
        ["java", "-cp", classpath, str(PROGRAM), str(root)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def cases() -> Iterator[tuple[str, SchemaVersion, str, dict[str, Any]]]:
    store = default_store()
    for name in store.names:
        version = store.current(name)
        for index, (record_type, fields) in enumerate(samples(version)):
            yield f"{name}-{index}-{record_type}", version, record_type, fields


@pytest.fixture(scope="module")
def java_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("interop")
    for case_id, version, record_type, fields in cases():
        case = root / case_id
        case.mkdir()
        shutil.copy(version.path, case / "schema.avsc")
        (case / "datum.json").write_text(avro_json(version, record_type, fields))
        (case / "python.bin").write_bytes(AvroCodec(version.name).encode(record_type, fields))
    run_java(root)
    return root


CASES = list(cases())


@pytest.mark.parametrize(
    ("case_id", "version", "record_type", "fields"), CASES, ids=[c[0] for c in CASES]
)
def test_java_and_we_agree(
    java_results: Path,
    case_id: str,
    version: SchemaVersion,
    record_type: str,
    fields: dict[str, Any],
) -> None:
    case = java_results / case_id
    # the fingerprint: Java's parsingFingerprint64 (a long, printed big-endian) is ours
    assert bytes.fromhex((case / "fingerprint.txt").read_text())[::-1] == version.fingerprint
    # Java encodes the datum to exactly the bytes we write ...
    ours = (case / "python.bin").read_bytes()
    java = (case / "java.bin").read_bytes()
    assert java == ours
    # ... which our codec reads back to the datum
    decoded = AvroCodec(version.name).decode(java)
    assert (decoded.type, decoded.fields) == (record_type, fields)
    # and Java's decoder reads our bytes to the same datum
    java_json = json.loads((case / "java-decoded.json").read_text())
    assert java_json == json.loads((case / "datum.json").read_text())


def test_schema_resolution_across_versions_both_ways(tmp_path: Path) -> None:
    """A v2 of the clock schema adds a field with a default; v1 bytes are read as v2."""
    store_dir = tmp_path / "schemas"
    shutil.copytree(default_store().root / "clock", store_dir / "clock")
    v2_raw = json.loads((store_dir / "clock" / "v1.avsc").read_text())
    v2_raw["fields"].append(
        {"name": "source", "type": "string", "default": "simulation", "doc": "Who moved it."}
    )
    (store_dir / "clock" / "v2.avsc").write_text(json.dumps(v2_raw))
    v1_store, v2_store = SchemaStore(default_store().root), SchemaStore(store_dir)
    v1, v2 = v1_store.current("clock"), v2_store.current("clock")
    now = dt.datetime(2026, 7, 1, 12, tzinfo=dt.UTC)

    case = tmp_path / "cases" / "clock-v2"
    (case / "older").mkdir(parents=True)
    shutil.copy(v2.path, case / "schema.avsc")
    shutil.copy(v1.path, case / "older" / "v1.avsc")
    shutil.copy(v1.path, case / "writer.avsc")
    (case / "datum.json").write_text(avro_json(v2, "ClockTick", {"now": now, "source": "x"}))
    (case / "writer.json").write_text(avro_json(v1, "ClockTick", {"now": now}))
    # bytes our codec writes with v1, for Java's v2 decoder
    (case / "python.bin").write_bytes(
        AvroCodec("clock", v1_store).encode("ClockTick", {"now": now})
    )
    run_java(tmp_path / "cases")

    java_read = json.loads((case / "java-decoded.json").read_text())
    assert java_read == {"now": int(now.timestamp() * 1000), "source": "simulation"}
    ours_read = AvroCodec("clock", v2_store).decode((case / "java-old.bin").read_bytes())
    assert ours_read.writer_version == 1
    assert ours_read.fields == {"now": now, "source": "simulation"}
