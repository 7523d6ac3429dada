"""Records written with their own schema (a generated class's ``toByteBuffer()``) are read.

The topic schemas of inbound events are unions; a producer with classes generated from
them writes one record with that record's schema: the header carries the fingerprint of
the branch alone and the body has no union index. The codec knows every branch of every
kept version and resolves such a record to the current union's branch of that name.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastavro import schemaless_writer
from hypothesis import given
from hypothesis import strategies as st

from services.runtime.codec import MAGIC, AvroCodec, DecodeFailure, UndecodableRecord
from services.runtime.schemas import SchemaStore, SchemaVersion, default_store, standalone
from tests.support.samples import samples

STORE = default_store()
UNION_VERSIONS = [v for name in STORE.names for v in STORE.versions(name) if v.branches]


def branch_bytes(version: SchemaVersion, record_type: str, fields: dict[str, Any]) -> bytes:
    """What a class generated from ``version`` writes for this record (built here by hand)."""
    branch = version.branch(record_type)
    buf = io.BytesIO(MAGIC + branch.fingerprint)
    buf.seek(len(MAGIC) + 8)
    schemaless_writer(buf, branch.parsed, fields)
    return buf.getvalue()


def test_every_inbound_union_has_a_branch_per_record() -> None:
    names = {v.name for v in UNION_VERSIONS}
    assert {"profiles", "social-assistance", "participation", "scheduler-events"} <= names
    for version in UNION_VERSIONS:
        assert [b.full_name for b in version.branches] == version.record_names
        for branch in version.branches:
            assert branch.fingerprint != version.fingerprint


@pytest.mark.parametrize("version", UNION_VERSIONS, ids=lambda v: f"{v.name}-v{v.version}")
def test_a_record_written_alone_with_any_kept_version_is_read_as_the_current_union(
    version: SchemaVersion, tmp_path: Path
) -> None:
    (tmp_path / version.name).mkdir()
    for older in STORE.versions(version.name)[: version.version]:
        shutil.copy(older.path, tmp_path / version.name / older.path.name)
    codec = AvroCodec(version.name)
    union_codec_of_that_version = AvroCodec(version.name, SchemaStore(tmp_path))
    for record_type, fields in samples(version):
        alone = branch_bytes(version, record_type, fields)
        decoded = codec.decode(alone)
        as_union = codec.decode(union_codec_of_that_version.encode(record_type, fields))
        assert decoded.type == record_type
        assert decoded.fields == as_union.fields  # the same record, whichever form wrote it


def test_encode_branch_writes_the_generated_class_form() -> None:
    codec = AvroCodec("profiles")
    record_type, fields = samples(STORE.current("profiles"))[1]
    data = codec.encode_branch(record_type, fields)
    assert data == branch_bytes(STORE.current("profiles"), record_type, fields)
    assert data[2:10] == STORE.current("profiles").branch(record_type).fingerprint
    # one byte shorter than the union form: no union index in the body
    assert len(data) == len(codec.encode(record_type, fields)) - 1


def test_a_record_of_another_topics_union_is_still_wrong_schema() -> None:
    version = STORE.current("scheduler-events")
    record_type, fields = samples(version)[0]
    data = branch_bytes(version, record_type, fields)
    with pytest.raises(UndecodableRecord) as caught:
        AvroCodec("participation").decode(data)
    assert caught.value.reason is DecodeFailure.WRONG_SCHEMA
    assert "pl.pai.scheduler.ReferralAccepted (a record of scheduler-events v" in str(caught.value)


@given(st.sampled_from([(v, b) for v in UNION_VERSIONS for b in v.branches]), st.binary())
def test_a_cut_or_garbled_branch_body_is_a_dead_letter_reason_never_a_crash(
    version_branch: Any, body: bytes
) -> None:
    version, branch = version_branch
    try:
        decoded = AvroCodec(version.name).decode(MAGIC + branch.fingerprint + body)
    except UndecodableRecord as refused:
        assert refused.reason in (
            DecodeFailure.TRUNCATED_BODY,
            DecodeFailure.INVALID_BODY,
            DecodeFailure.TRAILING_BYTES,
            DecodeFailure.OVERSIZED,
        )
    else:
        assert decoded.type == branch.full_name.rsplit(".", 1)[-1]


def test_a_branch_that_uses_a_type_another_branch_defines_is_written_out_in_full() -> None:
    """As Apache Avro Java prints a union's record (so a generated class's SCHEMA$)."""
    union: list[Any] = [
        {
            "type": "record",
            "name": "A",
            "namespace": "x",
            "fields": [{"name": "p", "type": {"type": "enum", "name": "P", "symbols": ["I"]}}],
        },
        {"type": "record", "name": "B", "namespace": "x", "fields": [{"name": "p", "type": "P"}]},
    ]
    alone = standalone(union[1], union)
    assert alone["fields"][0]["type"]["type"] == "enum"
    assert alone["fields"][0]["type"]["symbols"] == ["I"]
    assert json.loads(json.dumps(union[1]))["fields"][0]["type"] == "P"  # input untouched


def test_pai_schemas_list_prints_the_fingerprint_of_each_record_alone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from services.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["schemas", "list"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    branch = STORE.current("profiles").branch("ProfileEstablished")
    assert f"{branch.fingerprint[::-1].hex()}  pl.pai.pup.profiles.ProfileEstablished" in shown
