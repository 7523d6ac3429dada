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
