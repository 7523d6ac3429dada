"""Standard Webhooks signatures: what a partner checks to trust a webhook.

``webhook-signature`` is ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``,
one per secret and space-separated while a secret is being rotated. A secret is
``whsec_`` followed by the base64 of the key bytes. Pure: no HTTP here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

PREFIX = "whsec_"


class InvalidSecret(ValueError):
    """A secret that is not ``whsec_<base64>`` (the message never shows the secret)."""


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret."""
    if not secret.startswith(PREFIX):
        raise InvalidSecret("a webhook secret must look like whsec_<base64>")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSecret("the part after whsec_ is not valid base64") from None
    if len(key) < 16:
        raise InvalidSecret("a webhook secret must hold at least 16 bytes (24 base64 characters)")
    return key


def sign(webhook_id: str, timestamp: int, body: bytes, keys: list[bytes]) -> str:
    """The ``webhook-signature`` header value: one ``v1,`` signature per key."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        for key in keys
    )


def headers(webhook_id: str, timestamp: int, body: bytes, keys: list[bytes]) -> dict[str, str]:
    """The three Standard Webhooks headers, and the JSON content type."""
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(webhook_id, timestamp, body, keys),
        "content-type": "application/json",
    }
