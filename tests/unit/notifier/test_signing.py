"""Standard Webhooks signatures, checked with the standardwebhooks library a partner would use."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from services.runtime import signing

OLD = "whsec_" + base64.b64encode(b"old secret of the OPS, 32 bytes!").decode()
NEW = "whsec_" + base64.b64encode(b"new secret of the OPS, 32 bytes!").decode()
BODY = b'{"type":"pai.cycle.started","timestamp":"2026-03-02T05:00:00.000Z","data":{}}'


def test_a_partner_verifies_the_signature_with_its_secret() -> None:
    now = int(time.time())
    headers = signing.headers("msg-1", now, BODY, [signing.secret_key(OLD)])
    assert headers["webhook-id"] == "msg-1" and headers["webhook-timestamp"] == str(now)
    assert Verifier(OLD).verify(BODY, headers) == {
        "type": "pai.cycle.started",
        "timestamp": "2026-03-02T05:00:00.000Z",
        "data": {},
    }
    with pytest.raises(WebhookVerificationError):
        Verifier(NEW).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Verifier(OLD).verify(BODY.replace(b"started", b"ended__"), headers)


def test_during_rotation_both_secrets_verify() -> None:
    keys = [signing.secret_key(OLD), signing.secret_key(NEW)]
    headers = signing.headers("msg-2", int(time.time()), BODY, keys)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Verifier(OLD).verify(BODY, headers)
    Verifier(NEW).verify(BODY, headers)


@pytest.mark.parametrize(
    "secret", ["not-whsec", "whsec_***", "whsec_" + base64.b64encode(b"short").decode()]
)
def test_a_bad_secret_is_refused_without_showing_it(secret: str) -> None:
    with pytest.raises(signing.InvalidSecret) as refused:
        signing.secret_key(secret)
    assert secret not in str(refused.value)
