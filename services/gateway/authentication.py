"""Who posted a request: Standard Webhooks signatures with the partner's inbound secret.

Pure: headers, body and a clock in, a verdict out. The request carries
``webhook-id``, ``webhook-timestamp`` (Unix seconds, within :data:`TOLERANCE_S`
of our clock) and ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of
"id.timestamp.body">``, several space-separated during a rotation), exactly
what the ``standardwebhooks`` libraries produce with ``sign``. Every malformed
header is an :class:`Unauthorized` with a reason, never an exception of another
kind. :class:`ReplayGuard` refuses a ``webhook-id`` seen before within the
window, per partner (kept in memory per worker: the Ingress sends each URL to one
pod, so a replay reaches the worker that saw it while the pods stay the same; see
docs/gateway.md on a rollover).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import re
from collections import OrderedDict
from collections.abc import Mapping

from services.runtime.signing import sign

TOLERANCE_S = 300
MAX_ID_LENGTH = 256
MAX_SIGNATURES = 10
_WEBHOOK_ID = re.compile(rf"[\x21-\x2d\x2f-\x7e]{{1,{MAX_ID_LENGTH}}}")
"""What docs/gateway.openapi.yaml allows: printable ASCII but the dot, no space."""


BAD_SIGNATURE = (
    "no v1 signature matches: sign id.timestamp.body (the exact bytes sent) with the inbound secret"
)


class Unauthorized(ValueError):
    """The request is not signed by the partner; ``reason`` is a stable code for metrics."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _signatures(header: str) -> list[bytes]:
    found = []
    for part in header.split(" ")[:MAX_SIGNATURES]:
        version, _, value = part.partition(",")
        if version != "v1" or not value:
            continue
        try:
            found.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def verify(headers: Mapping[str, str], body: bytes, keys: tuple[bytes, ...], now: float) -> str:
    """The ``webhook-id`` of a request signed with one of ``keys``; :class:`Unauthorized`."""
    webhook_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    signature = headers.get("webhook-signature", "")
    missing = [
        name
        for name, value in (
            ("webhook-id", webhook_id),
            ("webhook-timestamp", stamp),
            ("webhook-signature", signature),
        )
        if not value
    ]
    if missing:
        raise Unauthorized("missing-headers", f"missing header(s): {', '.join(missing)}")
    if not keys:
        raise Unauthorized(
            "no-inbound-secret",
            "this OPS has no inbound_secret in the partners file: ask the operator for one",
        )
    if not _WEBHOOK_ID.fullmatch(webhook_id):
        raise Unauthorized(
            "bad-id",
            f"webhook-id must be at most {MAX_ID_LENGTH} printable ASCII characters, no space"
            " and no dot",
        )
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise Unauthorized("bad-timestamp", "webhook-timestamp must be Unix seconds (digits)")
    timestamp = int(stamp)
    if abs(now - timestamp) > TOLERANCE_S:
        raise Unauthorized(
            "stale-timestamp",
            f"webhook-timestamp {timestamp} is {now - timestamp:+.0f} s from the gateway's clock;"
            f" at most {TOLERANCE_S} s either way: sign at sending time, check the clock (NTP)",
        )
    given = _signatures(signature)
    for key in keys:
        expected = base64.b64decode(sign(webhook_id, timestamp, body, [key])[3:])
        if any(hmac.compare_digest(expected, s) for s in given):
            return webhook_id
    raise Unauthorized("bad-signature", BAD_SIGNATURE)


class ReplayGuard:
    """``webhook-id`` values seen within the timestamp window (in memory), a bounded set
    per partner: one busy partner never evicts another's. ``caps`` gives a partner's bound
    (else ``most``); with :func:`cap_for` its rate limit never lets it reach the bound, so
    the guard is exact: every id within the window is remembered."""

    def __init__(
        self,
        window_s: float = 2 * TOLERANCE_S,
        most: int = 200_000,
        caps: Mapping[str, int] | None = None,
    ) -> None:
        self.window_s = window_s
        self.most = most
        self.caps = dict(caps or {})
        self._seen: dict[str, OrderedDict[str, float]] = {}

    def check_and_remember(self, ops_code: str, webhook_id: str, now: float) -> None:
        """Remember the id; :class:`Unauthorized` if it was seen within the window."""
        seen = self._seen.setdefault(ops_code, OrderedDict())
        most = self.caps.get(ops_code, self.most)
        while seen and (next(iter(seen.values())) < now - self.window_s or len(seen) >= most):
            seen.popitem(last=False)
        if webhook_id in seen:
            raise Unauthorized(
                "replay",
                f"webhook-id {webhook_id[:64]} was used before: every request needs a new"
                " webhook-id (a retry of an event too; the event_id stays the same)",
            )
        seen[webhook_id] = now

    def forget(self, ops_code: str, webhook_id: str) -> None:
        """A request that failed before it did anything (e.g. 503) may be sent again."""
        self._seen.get(ops_code, OrderedDict()).pop(webhook_id, None)


def cap_for(rate_per_s: float, burst: int, window_s: float = 2 * TOLERANCE_S) -> int:
    """The most requests a partner limited to ``rate_per_s`` (``burst`` at once) can have
    admitted within ``window_s``: a replay guard this large per partner forgets no id
    within the window (requests over the rate get 429 and are forgotten)."""
    return math.ceil(rate_per_s * window_s) + burst + 1
