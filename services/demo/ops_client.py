"""The demo's OPS systems posting their events to the gateway, as docs/gateway.md shows.

Each OPS signs with its inbound secret through the ``standardwebhooks`` library
(what an OPS developer would use) and posts its events as one batch; a record
for another topic than the OPS topics is left for the caller to send to Kafka.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

import httpx
import orjson
from standardwebhooks import Webhook

from services.gateway.contract import ACCEPTED


class GatewayRefused(RuntimeError):
    """The gateway did not accept an event of the story; the message says which and why."""


class OpsGateway:
    def __init__(self, base_url: str, inbound_secrets: dict[str, str]) -> None:
        self.base_url = base_url
        self.signers = {ops: Webhook(secret) for ops, secret in inbound_secrets.items()}

    async def post(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Post the OPS's records (``pai send`` form) to the gateway; the others, returned."""
        rest: list[dict[str, Any]] = []
        by_ops: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for item in records:
            ops = item["fields"].get("ops_code")
            if item["type"] in ACCEPTED and ops in self.signers:
                by_ops[ops].append({"type": item["type"], "data": item["fields"]})
            else:
                rest.append(item)
        async with httpx.AsyncClient(timeout=30) as client:
            for ops, events in by_ops.items():
                await self._batch(client, ops, events)
        return rest

    async def _batch(self, client: httpx.AsyncClient, ops: str, events: list[Any]) -> None:
        body = orjson.dumps({"events": events})
        webhook_id = f"msg_{uuid.uuid4().hex}"
        now = dt.datetime.now(dt.UTC)
        headers = {
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self.signers[ops].sign(webhook_id, now, body.decode()),
            "content-type": "application/json",
        }
        url = f"{self.base_url}/v1/partners/{ops}/events:batch"
        response = await client.post(url, content=body, headers=headers)
        if response.status_code != 200:
            raise GatewayRefused(f"the gateway answered {response.status_code}: {response.text}")
        refused = [r for r in response.json()["results"] if r["status"] not in (200, 202)]
        if refused:
            raise GatewayRefused(f"the gateway refused events of OPS {ops}: {refused[:3]}")
