"""The partitioning contract: per-person topics are partitioned by murmur2 of the key bytes.

That is the Java client's default (and aiokafka's and Faust's), so a person's
events land on the same partition number of every topic. librdkafka clients
default to another hash and must set ``partitioner=murmur2_random``.
"""

from __future__ import annotations

from aiokafka.partitioner import murmur2

MISPLACED_REASON = "wrong-partition"


def expected_partition(key: bytes, partitions: int) -> int:
    """The partition murmur2 puts ``key`` on (Java's ``Utils.toPositive(murmur2(key)) % n``)."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


def misplaced_message(partition: int, expected: int) -> str:
    """The dead-letter message for a record on the wrong partition; names the fix."""
    return (
        f"record is on partition {partition} but its key hashes to partition {expected}"
        " under murmur2, the partitioning contract of per-person topics. librdkafka"
        " clients (confluent-kafka, Confluent.Kafka) must set partitioner=murmur2_random;"
        " Java, aiokafka and Faust producers do this by default"
    )
