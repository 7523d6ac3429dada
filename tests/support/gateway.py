"""An OPS as the gateway's client: events built as docs/gateway.md shows, signed with the
``standardwebhooks`` library (what an OPS developer would use), posted over real HTTP;
and what reached the topics (:func:`on_topics`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
from standardwebhooks.webhooks import Webhook

from services.gateway.contract import ACCEPTED
from services.runtime.codec import AvroCodec, UndecodableRecord
from services.runtime.topic_reader import read_until_now
from tests.support.events import pesel_from
from tests.support.receiver import loopback_partner, write_partners

OPS = "1465011"
OTHER_OPS = "0261011"
INBOUND_SECRET = "whsec_" + "aW5ib3VuZCBzZWNyZXQgb2YgdGhlIHRlc3RzIDEyMzQ="
OTHER_INBOUND_SECRET = "whsec_" + "b3RoZXIgaW5ib3VuZCBzZWNyZXQgb2YgdGVzdHM="
OUTBOUND_SECRET = "whsec_" + "b3V0Ym91bmQgc2VjcmV0IG9mIHRoZSB0ZXN0cyAxMjM="


def gateway_partners(path: Path, **extra: object) -> Path:
    """A partners file with two OPS that may post (and a URL each, as every partner has)."""
    return write_partners(
        path,
        loopback_partner(
            OPS, "http://127.0.0.1:9/ops", OUTBOUND_SECRET, inbound_secret=INBOUND_SECRET, **extra
        ),
        loopback_partner(
            OTHER_OPS,
            "http://127.0.0.1:9/other",
            OUTBOUND_SECRET,
            inbound_secret=OTHER_INBOUND_SECRET,
            **extra,
        ),
    )


def benefits_granted(n: int, ops: str = OPS, **data: Any) -> dict[str, Any]:
    return {
        "type": "BenefitsGranted",
        "data": {
            "event_id": str(uuid.uuid4()),
            "occurred_at": "2026-03-02T10:00:00Z",
            "person_id": pesel_from(n),
            "ops_code": ops,
            "granted_on": "2026-03-01",
            "valid_until": None,
            **data,
        },
    }


def hours_reported(n: int, ops: str = OPS, **data: Any) -> dict[str, Any]:
    return {
        "type": "IntegrationHoursReported",
        "data": {
            "event_id": str(uuid.uuid4()),
            "occurred_at": "2026-03-09T08:30:00+01:00",
            "person_id": pesel_from(n),
            "ops_code": ops,
            "referral_id": f"ref-{n}",
            "week_start": "2026-03-02",
            "hours": 10.5,
            "activity": "GROUP_COUNSELLING",
            **data,
        },
    }


def signed_headers(
    body: bytes,
    secret: str = INBOUND_SECRET,
    webhook_id: str | None = None,
    at: float | None = None,
) -> dict[str, str]:
    """The Standard Webhooks headers, the signature made by the ``standardwebhooks`` library."""
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    when = dt.datetime.fromtimestamp(int(at if at is not None else time.time()), dt.UTC)
    signature = Webhook(secret).sign(webhook_id, when, body.decode())
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


def post(
    client: httpx.Client,
    port: int,
    payload: Any,
    ops: str = OPS,
    batch: bool = False,
    secret: str = INBOUND_SECRET,
    **header_overrides: str,
) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    headers = signed_headers(body, secret) | header_overrides
    path = f"/v1/partners/{ops}/events" + (":batch" if batch else "")
    return client.post(f"http://127.0.0.1:{port}{path}", content=body, headers=headers)


CODECS = {spec.name: AvroCodec(spec.schema) for spec in ACCEPTED.values() if spec.schema}


def on_topics(bootstrap: str, event_ids: set[str]) -> dict[str, list[Any]]:
    """The records of the accepted topics whose event_id is in ``event_ids``, by event_id
    (up to the topics' ends; what other tests wrote there, unreadable records included, is
    passed over)."""
    found: dict[str, list[Any]] = {}
    for topic, codec in CODECS.items():
        for record in asyncio.run(read_until_now({"bootstrap_servers": bootstrap}, topic)):
            try:
                decoded = codec.decode(record.value)
            except UndecodableRecord:
                continue
            event_id = str(decoded.fields["event_id"])
            if event_id in event_ids:
                found.setdefault(event_id, []).append((record, decoded))
    return found
