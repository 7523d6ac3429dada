"""How often a partner may call: a token bucket per OPS (``inbound_rate_per_s``,
``inbound_burst`` in the partners file).

Pure: the caller passes the clock. A request takes one token; a batch takes one
too (its items are bounded by the batch limit). Refused, the caller learns in how
many whole seconds a token is back (the ``Retry-After`` header). Per worker:
with N gateway workers behind a Service an OPS may send up to N times the rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class TokenBucket:
    rate_per_s: float
    burst: int
    tokens: float = -1.0
    updated: float = 0.0

    def take(self, now: float) -> int:
        """0 if a token was taken; else the seconds to wait (at least 1) before trying again."""
        if self.tokens < 0:
            self.tokens, self.updated = float(self.burst), now
        self.tokens = min(self.burst, self.tokens + max(now - self.updated, 0) * self.rate_per_s)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0
        return max(1, math.ceil((1 - self.tokens) / self.rate_per_s))
