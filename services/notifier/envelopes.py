"""The webhook a retry or replay envelope carries, once the envelope is checked against it.

A record on ``pai.notifier.retry.<n>`` or ``pai.notifier.replay.v1`` (schema
``notifier-dlq``) names the partner (``ops_code``), the webhook's id and type, and
carries the JSON body (``payload``) that was built from the source event. Anyone who
can write to the replay topic could pair one OPS's ``ops_code`` with a body about a
person of another OPS, and the notifier would sign it and send it there. So before a
webhook is signed again its envelope must agree with its own body: ``ops_code`` with
``data.ops_code``, ``webhook_type`` with ``type``, ``webhook_id`` with
``data.event_id``. A disagreement is a :class:`Rejected` (dead-lettered to
``pai.dlq.v1`` with the reason), never a delivery. Pure: no Kafka or HTTP here.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from services.notifier.webhooks import TYPES, Webhook
from services.runtime.inbound import Rejected

OPS_CODE_MISMATCH = "envelope-ops-code-mismatch"
PAYLOAD_MISMATCH = "envelope-payload-mismatch"
PAYLOAD_INVALID = "envelope-payload-invalid"


def webhook_of(envelope: dict[str, Any]) -> Webhook:
    """The webhook in ``envelope`` (decoded ``WebhookDeadLettered`` fields), or Rejected."""
    webhook_id, ops_code = envelope["webhook_id"], envelope["ops_code"]
    payload: str = envelope["payload"]
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        body = None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise Rejected(
            PAYLOAD_INVALID,
            f"webhook {webhook_id}: the payload is not a webhook body"
            ' ({"type", "timestamp", "data": {...}}); nothing was sent',
        )
    if data.get("ops_code") != ops_code:
        raise Rejected(
            OPS_CODE_MISMATCH,
            f"webhook {webhook_id}: the envelope names ops_code {ops_code} but the payload is"
            f" for {_shown(data.get('ops_code'))}; nothing was sent to either",
        )
    if body.get("type") != envelope["webhook_type"] or data.get("event_id") != webhook_id:
        raise Rejected(
            PAYLOAD_MISMATCH,
            f"webhook {webhook_id}: the envelope's webhook_id and webhook_type"
            f" ({envelope['webhook_type']}) differ from the payload's data.event_id and type"
            f" ({_shown(body.get('type'))}); nothing was sent",
        )
    return Webhook(webhook_id, envelope["webhook_type"], ops_code, payload.encode())


def _shown(value: Any) -> str:
    """A value from the payload in a message: only a TERYT code or a webhook type, since a
    forged payload may hold anything (a PESEL, control characters)."""
    if isinstance(value, str) and (re.fullmatch(r"\d{7}", value) or value in TYPES.values()):
        return value
    return "none" if value is None else "another value"
