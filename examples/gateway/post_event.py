"""Post one event to the PAI gateway from Python, signed by the ``standardwebhooks`` library.

    pip install standardwebhooks httpx
    GATEWAY=https://gateway.pai.example.pl OPS_CODE=1465011 INBOUND_SECRET=whsec_... \
        python post_event.py event.json

Prints the answer's status and body; exits 0 on 200 (a repeat) or 202 (written).
"""

import datetime as dt
import os
import sys
import uuid

import httpx
from standardwebhooks import Webhook

gateway, ops_code = os.environ["GATEWAY"], os.environ["OPS_CODE"]
signer = Webhook(os.environ["INBOUND_SECRET"])
with open(sys.argv[1], "rb") as f:
    body = f.read()  # the exact bytes that are signed and sent

webhook_id = f"msg_{uuid.uuid4().hex}"  # new for every attempt, retries included
now = dt.datetime.now(dt.UTC)
response = httpx.post(
    f"{gateway}/v1/partners/{ops_code}/events",
    content=body,
    headers={
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signer.sign(webhook_id, now, body.decode()),
    },
    timeout=30,
)
print(response.status_code, response.text)
sys.exit(0 if response.status_code in (200, 202) else 1)
