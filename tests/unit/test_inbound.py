"""Inbound records are read as the contract requires, or refused with a reason to act on."""

from __future__ import annotations

import pytest

from services.runtime.codec import AvroCodec
from services.runtime.deadletter import Stage
from services.runtime.inbound import Inbound, Rejected, dead_letter, read_person_event
from services.runtime.partitioning import expected_partition
from tests.support import events as ev

CODEC = AvroCodec("profiles")
PESEL = "44051401359"
KEY, VALUE = ev.registered(PESEL, ev.BASE.date())
RIGHT = expected_partition(KEY, 4)


def record(key: bytes | None = KEY, value: bytes = VALUE, partition: int = RIGHT) -> Inbound:
    return Inbound("pai.pup.profiles.v1", partition, 7, key, value, (("h", b"1"),))


def refusal(rec: Inbound) -> Rejected:
    with pytest.raises(Rejected) as caught:
        read_person_event(rec, CODEC, 4)
    return caught.value


def test_a_good_record_is_read() -> None:
    decoded = read_person_event(record(), CODEC, 4)
    assert (decoded.type, decoded.fields["person_id"]) == ("UnemployedRegistered", PESEL)


def test_a_record_on_the_wrong_partition_names_the_librdkafka_fix() -> None:
    rejected = refusal(record(partition=(RIGHT + 1) % 4))
    assert rejected.reason == "wrong-partition"
    assert "partitioner=murmur2_random" in str(rejected)


def test_a_missing_key_is_refused() -> None:
    assert refusal(record(key=None)).stage is Stage.KEY_CONVERTER


def test_an_invalid_pesel_is_refused_and_masked() -> None:
    bad = "44051401358"
    key, value = ev.registered(bad, ev.BASE.date())
    rejected = refusal(record(key=key, value=value, partition=expected_partition(key, 4)))
    assert rejected.reason == "invalid-pesel"
    assert bad not in str(rejected) and "44********8" in str(rejected)


def test_a_key_that_is_not_the_person_id_is_refused() -> None:
    other = b"02070803628"
    rejected = refusal(record(key=other, partition=expected_partition(other, 4)))
    assert rejected.reason == "key-mismatch"
    assert PESEL not in str(rejected)


def test_undecodable_bytes_become_a_value_converter_dead_letter() -> None:
    rec = record(value=b"\xc3\x01\x00")
    rejected = refusal(rec)
    letter = dead_letter("eligibility", rec, rejected)
    assert (letter.reason, letter.stage, letter.offset) == (
        "truncated-header",
        Stage.VALUE_CONVERTER,
        7,
    )
    assert letter.original_headers == (("h", b"1"),)


def test_an_oversized_value_is_refused_before_it_is_decoded() -> None:
    refused = refusal(record(value=VALUE + b"x" * 70_000))
    assert (refused.reason, refused.stage) == ("oversized", Stage.VALUE_CONVERTER)
    assert "65,536 bytes" in str(refused)
