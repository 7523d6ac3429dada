"""Fuzzing the codec and the inbound record checks: whatever bytes arrive, the answer is the
decoded record or a dead-letter reason, never an unhandled exception, and the memory a value
can make a reader allocate stays bounded by the 64 KiB value cap.

Inputs: arbitrary bytes; the single-object header of a real schema followed by arbitrary
bytes; real records of every schema mutated (bytes flipped, cut, inserted, repeated); keys
and partitions of every kind. ``make test`` runs the derandomised ``ci`` profile;
``pytest --hypothesis-profile=long tests/unit/test_fuzz_inbound.py`` searches further.
"""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.runtime.codec import MAX_VALUE_BYTES, AvroCodec, DecodeFailure, UndecodableRecord
from services.runtime.inbound import Inbound, Rejected, read_person_event
from services.runtime.partitioning import MISPLACED_REASON
from services.runtime.schemas import default_store
from tests.support.samples import samples

CODECS = {name: AvroCodec(name) for name in default_store().names}
VALID = [
    (name, codec.encode(record, fields))
    for name, codec in CODECS.items()
    for record, fields in samples(codec.current, variants=1)
]
PERSON_SCHEMAS = sorted(  # the schemas of per-person topics: every record has a person_id
    name
    for name, codec in CODECS.items()
    if all("person_id" in fields for _record, fields in samples(codec.current, variants=1))
)
INBOUND_REASONS = {f.value for f in DecodeFailure} | {
    "missing-key",
    MISPLACED_REASON,
    "invalid-pesel",
    "key-mismatch",
}


@st.composite
def mutated(draw: st.DrawFn, names: list[str] | None = None) -> tuple[str, bytes]:
    """A real record of some schema (of ``names``), then damaged in a few places."""
    name, data = draw(st.sampled_from([v for v in VALID if names is None or v[0] in names]))
    raw = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["flip", "cut", "insert", "repeat"]))
        at = draw(st.integers(0, max(len(raw) - 1, 0)))
        if how == "flip" and raw:
            raw[at] ^= draw(st.integers(1, 255))
        elif how == "cut":
            del raw[at:]
        elif how == "insert":
            raw[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            raw[at:at] = raw[at : at + draw(st.integers(1, 32))] * draw(st.integers(1, 50))
    return name, bytes(raw)


@st.composite
def header_then_noise(draw: st.DrawFn, names: list[str] | None = None) -> tuple[str, bytes]:
    name, data = draw(st.sampled_from([v for v in VALID if names is None or v[0] in names]))
    return name, data[:10] + draw(st.binary(max_size=300))


def any_value(names: list[str]) -> st.SearchStrategy[tuple[str, bytes]]:
    return st.one_of(
        st.tuples(st.sampled_from(names), st.binary(max_size=200)),
        header_then_noise(names),
        mutated(names),
    )


ANY_VALUE = any_value(sorted(CODECS))


@given(ANY_VALUE)
def test_any_bytes_decode_or_raise_only_an_undecodable_record(case: tuple[str, bytes]) -> None:
    name, data = case
    try:
        CODECS[name].decode(data)
    except UndecodableRecord as exc:
        assert exc.reason in DecodeFailure
        assert str(exc)


@given(
    any_value(PERSON_SCHEMAS),
    st.one_of(st.none(), st.binary(max_size=40), st.sampled_from([b"44051401359", b"0" * 11])),
    st.integers(0, 3),
)
def test_any_record_is_read_or_refused_with_a_dead_letter_reason(
    case: tuple[str, bytes], key: bytes | None, partition: int
) -> None:
    name, data = case
    record = Inbound(f"pai.test.{name}", partition, 0, key, data)
    try:
        decoded = read_person_event(record, CODECS[name], 4)
    except Rejected as rejected:
        assert rejected.reason in INBOUND_REASONS, rejected.reason
        assert "44051401359" not in str(rejected)  # a PESEL in a reason is masked
    else:
        assert decoded.fields["person_id"].encode() == key


def _varint(n: int) -> bytes:
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out)


HOSTILE = [
    # a string, an array or a map that claims far more than the value holds
    header + _varint(count) + filler
    for header in {data[:10] for _name, data in VALID}
    for count in (2**31, 2**62, -(2**40), 60_000)
    for filler in (b"", b"\x02" * 60_000)
]


@pytest.mark.parametrize("data", HOSTILE, ids=range(len(HOSTILE)))
def test_a_value_that_claims_huge_lengths_costs_bounded_memory(data: bytes) -> None:
    data = data[:MAX_VALUE_BYTES]
    for codec in CODECS.values():
        tracemalloc.start()
        try:
            codec.decode(data)
        except UndecodableRecord:
            pass
        finally:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        assert peak < 16 * 1024 * 1024, (codec.schema_name, peak)


@settings(max_examples=20)
@given(st.integers(MAX_VALUE_BYTES + 1, 4 * MAX_VALUE_BYTES))
def test_a_value_over_the_cap_is_refused_before_decoding(size: int) -> None:
    name, data = VALID[0]
    with pytest.raises(UndecodableRecord) as caught:
        CODECS[name].decode(data + b"\x00" * size)
    assert caught.value.reason is DecodeFailure.OVERSIZED
