"""A PUP event from Python with confluent-kafka (librdkafka): murmur2, Avro single-object."""

import datetime as dt
import io
import json
import uuid

import fastavro
from confluent_kafka import Producer


def single_object(schema_file: str, record: str, fields: dict) -> bytes:
    with open(schema_file, encoding="utf-8") as file:
        raw = json.load(file)  # a topic schema: a union of records
    canonical = fastavro.schema.to_parsing_canonical_form(raw)
    fingerprint = bytes.fromhex(fastavro.schema.fingerprint(canonical, "CRC-64-AVRO"))
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(raw), (record, fields))
    return b"\xc3\x01" + fingerprint + body.getvalue()  # magic, CRC-64-AVRO (LE), body


def register(bootstrap: str, schemas: str, pesel: str, topic: str = "pai.pup.profiles.v1") -> None:
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "partitioner": "murmur2_random",  # the Java client's hash; librdkafka's default differs
            "acks": "all",
            "enable.idempotence": True,
        }
    )
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
    producer.produce(topic, key=pesel.encode("ascii"), value=value)
    if producer.flush(30):  # records still waiting: not acknowledged by the in-sync replicas
        raise RuntimeError("not acknowledged within 30 s")
