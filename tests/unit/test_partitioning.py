"""The murmur2 partitioning contract agrees with the Java client."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner, murmur2

from services.runtime.partitioning import expected_partition, misplaced_message


def as_java_int(value: int) -> int:
    return value - 2**32 if value >= 2**31 else value


def test_murmur2_matches_kafkas_java_test_vectors() -> None:
    # org.apache.kafka.common.utils.UtilsTest#testMurmur2 (Java ints are signed)
    assert as_java_int(murmur2(b"21")) == -973932308
    assert as_java_int(murmur2(b"foobar")) == -790332482
    assert as_java_int(murmur2(b"a-little-bit-long-string")) == -985981536


def test_expected_partition_is_what_aiokafka_and_faust_choose() -> None:
    partitioner = DefaultPartitioner()
    for n in range(1000):
        key = f"{44051401359 + n * 7919:011d}".encode()
        assert expected_partition(key, 12) == partitioner(key, list(range(12)), list(range(12)))


def test_the_misplaced_message_names_the_librdkafka_fix() -> None:
    message = misplaced_message(1, 3)
    assert "partition 1" in message and "partition 3" in message
    assert "partitioner=murmur2_random" in message
