"""Dead letters keep the original record and carry Kafka Connect's error headers."""

from __future__ import annotations

import asyncio

from services.runtime.deadletter import DeadLetter, Stage, read_error_headers, send_dead_letter


def letter() -> DeadLetter:
    return DeadLetter(
        service="eligibility",
        topic="pai.pup.profiles.v1",
        partition=2,
        offset=41,
        key=b"44051401358",
        value=b"\xc3\x01garbage",
        reason="invalid-pesel",
        message="person_id 44********8 fails the PESEL checksum",
        exception_class="services.eligibility.InvalidEvent",
        stage=Stage.TASK_PUT,
        original_headers=(("traceparent", b"00-abc"),),
    )


def test_headers_name_source_reason_and_service_like_kafka_connect() -> None:
    headers = letter().headers()
    assert headers[0] == ("traceparent", b"00-abc")
    found = read_error_headers(headers)
    assert found == {
        "topic": "pai.pup.profiles.v1",
        "partition": "2",
        "offset": "41",
        "connector.name": "eligibility",
        "stage": "TASK_PUT",
        "class.name": "services.eligibility",
        "exception.class.name": "services.eligibility.InvalidEvent",
        "exception.message": "person_id 44********8 fails the PESEL checksum",
        "reason": "invalid-pesel",
    }


def test_send_writes_the_original_key_and_value_to_the_dlq() -> None:
    sent = []

    async def send(topic: str, key: bytes | None, value: bytes | None, headers: object) -> None:
        sent.append((topic, key, value, headers))

    asyncio.run(send_dead_letter(send, letter()))
    [(topic, key, value, headers)] = sent
    assert (topic, key, value) == ("pai.dlq.v1", b"44051401358", b"\xc3\x01garbage")
    assert headers == letter().headers()


def test_a_huge_record_is_dead_lettered_within_bounds_saying_what_was_cut() -> None:
    """A value near the broker's limit plus the error headers would not fit on the DLQ:
    the service would fail on that record at every restart. It is cut, and says so."""
    huge = DeadLetter(
        service="scheduler",
        topic="pai.pup.program-editions.v1",
        partition=0,
        offset=7,
        key=b"k" * 5000,
        value=b"v" * 900_000,
        reason="oversized",
        message="the value has 900,000 bytes",
        original_headers=tuple((f"h{n}", b"x" * 1000) for n in range(100)),
    )
    assert len(huge.value or b"") == 64 * 1024 and len(huge.key or b"") == 1024
    size = len(huge.key or b"") + len(huge.value or b"")
    size += sum(len(k) + len(v) for k, v in huge.headers())
    assert size < 100 * 1024
    found = dict(huge.headers())
    cut = found["pai.dlq.truncated"].decode()
    assert "value: 900000 bytes" in cut and "key: 5000 bytes" in cut and "headers:" in cut
    assert "pai.pup.program-editions.v1[0]@7" in cut
    assert read_error_headers(huge.headers())["reason"] == "oversized"
    assert "pai.dlq.truncated" not in dict(letter().headers())  # an ordinary one is whole


def test_error_headers_that_are_not_utf8_are_read_anyway() -> None:
    headers: list[tuple[str, bytes | None]] = [
        ("__connect.errors.topic", b"\xff\xfe"),
        ("pai.dlq.reason", None),
    ]
    assert read_error_headers(headers) == {"topic": "\ufffd\ufffd", "reason": ""}


def test_many_empty_or_wide_headers_are_bounded_too() -> None:
    """Empty headers cost their framing, and a name counts its UTF-8 bytes, not characters."""
    for headers in (
        tuple(("", b"") for _ in range(524_000)),
        tuple(("\u00e9" * 4000, b"") for _ in range(4)),
    ):
        letter = DeadLetter(
            "eligibility",
            "pai.pup.profiles.v1",
            0,
            1,
            b"k",
            b"v",
            "invalid-body",
            "m",
            original_headers=headers,
        )
        encoded = sum(len(k.encode()) + len(v) + 8 for k, v in letter.headers())
        assert encoded < 20 * 1024 and len(letter.original_headers) <= 100
        assert "pai.dlq.truncated" in dict(letter.headers())
