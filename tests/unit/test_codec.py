"""The single-object codec: what a producer's bytes look like and what a bad value is told."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from services.runtime.codec import (
    MAGIC,
    AvroCodec,
    DecodeFailure,
    UndecodableRecord,
    UnencodableRecord,
)
from services.runtime.schemas import SchemaStore, default_store, fingerprint64
from tests.support.samples import samples

STORE = default_store()


def benefits_granted() -> dict[str, object]:
    return {
        "event_id": uuid.UUID("0b6c59de-7d57-4c5e-9a57-4d5f3fb0e1a2"),
        "occurred_at": dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC),
        "person_id": "44051401359",
        "ops_code": "1465011",
        "granted_on": dt.date(2026, 1, 1),
        "valid_until": dt.date(2026, 6, 30),
    }


@pytest.mark.parametrize("name", STORE.names)
def test_every_record_of_every_schema_round_trips(name: str) -> None:
    codec = AvroCodec(name)
    for record_type, fields in samples(STORE.current(name)):
        data = codec.encode(record_type, fields)
        assert data[:2] == MAGIC
        assert data[2:10] == STORE.current(name).fingerprint
        decoded = codec.decode(data)
        assert (decoded.type, decoded.fields) == (record_type, fields)


def test_header_is_magic_then_little_endian_crc64_of_the_canonical_form() -> None:
    codec = AvroCodec("social-assistance")
    data = codec.encode("BenefitsGranted", benefits_granted())
    raw = json.loads((STORE.root / "social-assistance" / "v1.avsc").read_text())
    assert data[:10] == b"\xc3\x01" + fingerprint64(raw)
    # values printed by Apache Avro Java 1.8.2: SchemaNormalization.parsingFingerprint64
    assert fingerprint64("int") == bytes.fromhex("7275d51a3f395c8f")[::-1]
    record: dict[str, Any] = {
        "type": "record",
        "name": "T",
        "namespace": "x",
        "fields": [{"name": "d"}],
    }
    with_date = json.loads(json.dumps(record))
    with_date["fields"][0]["type"] = {"type": "int", "logicalType": "date"}
    record["fields"][0]["type"] = "int"
    # logical types do not enter the canonical form (the [PRIMITIVES] rule)
    assert (
        fingerprint64(with_date) == fingerprint64(record) == bytes.fromhex("c3bac6a3125a1b6f")[::-1]
    )


def test_decoded_fields_have_python_types() -> None:
    codec = AvroCodec("social-assistance")
    decoded = codec.decode(codec.encode("BenefitsGranted", benefits_granted()))
    assert decoded.type == "BenefitsGranted"
    assert decoded.fields["granted_on"] == dt.date(2026, 1, 1)
    assert decoded.fields["occurred_at"] == dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)
    assert decoded.writer_version == 1


def test_an_unknown_record_type_is_refused_with_the_known_ones() -> None:
    with pytest.raises(UnencodableRecord, match="BenefitsGranted"):
        AvroCodec("social-assistance").encode("BenefitsPaused", benefits_granted())


def test_a_missing_field_is_named() -> None:
    fields = benefits_granted()
    del fields["granted_on"]
    with pytest.raises(UnencodableRecord, match="granted_on"):
        AvroCodec("social-assistance").encode("BenefitsGranted", fields)


def _good() -> bytes:
    return AvroCodec("social-assistance").encode("BenefitsGranted", benefits_granted())


@pytest.mark.parametrize(
    ("data", "reason", "hint"),
    [
        (b"", DecodeFailure.EMPTY, "empty"),
        (None, DecodeFailure.EMPTY, "tombstone"),
        (b'{"person_id": "44051401359"}', DecodeFailure.BAD_MAGIC, "not C3 01"),
        (b"\x00" + b"\x00" * 20, DecodeFailure.BAD_MAGIC, "schema-registry"),
        (b"\xc3\x01\x01\x02", DecodeFailure.TRUNCATED_HEADER, "10-byte"),
        (
            b"\xc3\x01" + b"\x11" * 8 + b"\x00",
            DecodeFailure.UNKNOWN_FINGERPRINT,
            "1111111111111111",
        ),
        (_good()[:-5], DecodeFailure.TRUNCATED_BODY, "cut"),
        (_good() + b"\x00", DecodeFailure.TRAILING_BYTES, "one record per Kafka value"),
    ],
)
def test_bad_values_raise_one_exception_with_an_actionable_reason(
    data: bytes | None, reason: DecodeFailure, hint: str
) -> None:
    with pytest.raises(UndecodableRecord) as caught:
        AvroCodec("social-assistance").decode(data)
    assert caught.value.reason is reason
    assert hint in str(caught.value)


def test_a_value_of_another_topics_schema_is_refused() -> None:
    data = AvroCodec("clock").encode("ClockTick", {"now": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)})
    with pytest.raises(UndecodableRecord) as caught:
        AvroCodec("social-assistance").decode(data)
    assert caught.value.reason is DecodeFailure.WRONG_SCHEMA
    assert "clock v1" in str(caught.value)


def test_a_corrupt_union_index_is_an_invalid_body() -> None:
    data = bytearray(_good())
    data[10] = 0x7F  # union branch 63 of 4
    with pytest.raises(UndecodableRecord) as caught:
        AvroCodec("social-assistance").decode(bytes(data))
    assert caught.value.reason in (DecodeFailure.INVALID_BODY, DecodeFailure.TRUNCATED_BODY)


def _store_with_v2(tmp_path: Path, change: dict[str, object]) -> SchemaStore:
    shutil.copytree(STORE.root / "clock", tmp_path / "clock")
    v1 = json.loads((tmp_path / "clock" / "v1.avsc").read_text())
    v1["fields"].append(change)
    (tmp_path / "clock" / "v2.avsc").write_text(json.dumps(v1))
    return SchemaStore(tmp_path)


def test_bytes_of_an_older_version_are_read_as_the_current_one(tmp_path: Path) -> None:
    store = _store_with_v2(
        tmp_path, {"name": "source", "type": "string", "default": "simulation", "doc": "who"}
    )
    v1_only = SchemaStore(STORE.root)
    old_bytes = AvroCodec("clock", v1_only).encode(
        "ClockTick", {"now": dt.datetime(2026, 5, 1, tzinfo=dt.UTC)}
    )
    decoded = AvroCodec("clock", store).decode(old_bytes)
    assert decoded.writer_version == 1
    assert decoded.fields == {"now": dt.datetime(2026, 5, 1, tzinfo=dt.UTC), "source": "simulation"}
    new_bytes = AvroCodec("clock", store).encode(
        "ClockTick", {"now": dt.datetime(2026, 5, 1, tzinfo=dt.UTC), "source": "test"}
    )
    assert new_bytes[2:10] == store.current("clock").fingerprint != old_bytes[2:10]
    assert AvroCodec("clock", store).decode(new_bytes).fields["source"] == "test"


@pytest.mark.parametrize("name", STORE.names)
def test_every_topic_refuses_a_value_over_64_kib_before_decoding(name: str) -> None:
    """Editions, the clock and the notifier's own topics too, not only person events."""
    oversized = b"\xc3\x01" + b"\x00" * (64 * 1024)
    with pytest.raises(UndecodableRecord) as caught:
        AvroCodec(name).decode(oversized)
    assert caught.value.reason is DecodeFailure.OVERSIZED
    assert "65,538 bytes" in str(caught.value)
