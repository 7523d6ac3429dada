"""A PUP event from Python with aiokafka: its default partitioner is murmur2 already."""

import datetime as dt
import io
import json
import uuid

import fastavro
from aiokafka import AIOKafkaProducer


def single_object(schema_file: str, record: str, fields: dict) -> bytes:
    with open(schema_file, encoding="utf-8") as file:
        raw = json.load(file)  # a topic schema: a union of records
    canonical = fastavro.schema.to_parsing_canonical_form(raw)
    fingerprint = bytes.fromhex(fastavro.schema.fingerprint(canonical, "CRC-64-AVRO"))
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(raw), (record, fields))
    return b"\xc3\x01" + fingerprint + body.getvalue()  # magic, CRC-64-AVRO (LE), body


async def register(
    bootstrap: str, schemas: str, pesel: str, topic: str = "pai.pup.profiles.v1"
) -> None:
    value = single_object(
        f"{schemas}/profiles/v1.avsc",
        "pl.pai.pup.profiles.UnemployedRegistered",
        {
            "event_id": uuid.uuid4(),
            "occurred_at": dt.datetime.now(dt.UTC),
            "person_id": pesel,
            "pup_code": "1465",
            "registered_on": dt.date.today(),
        },
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, key=pesel.encode("ascii"), value=value)
    finally:
        await producer.stop()
