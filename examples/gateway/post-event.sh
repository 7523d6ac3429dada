#!/usr/bin/env bash
# Post one event to the PAI gateway, signed as Standard Webhooks signs, with curl and openssl.
#   GATEWAY=https://gateway.pai.example.pl OPS_CODE=1465011 INBOUND_SECRET=whsec_... \
#     ./post-event.sh event.json
# event.json is {"type": "BenefitsGranted", "data": {...}} (docs/gateway.md). Prints the
# answer's status and body; exits 0 on 200 or 202. Every attempt gets a new webhook-id and
# timestamp; a retry of the same event keeps its event_id (inside the file).
set -euo pipefail
: "${GATEWAY:?the gateway base URL}" "${OPS_CODE:?your TERYT gmina code}"
: "${INBOUND_SECRET:?your inbound secret, whsec_...}"
file=${1:?a JSON file with the event}
path=${PATH_SUFFIX:-events}                  # events, or events:batch for {"events": [...]}
id="msg_$(openssl rand -hex 16)"
timestamp=$(date +%s)
# the HMAC key is the base64 after whsec_; the signed content is id.timestamp.body, byte for byte
key_hex=$(printf '%s' "${INBOUND_SECRET#whsec_}" | openssl base64 -d -A | od -An -tx1 | tr -d ' \n')
signature=$( { printf '%s.%s.' "$id" "$timestamp"; cat "$file"; } \
  | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key_hex" -binary | openssl base64 -A)
answer=$(mktemp)
trap 'rm -f "$answer"' EXIT
status=$(curl --silent --show-error --output "$answer" --write-out '%{http_code}' \
  --request POST "$GATEWAY/v1/partners/$OPS_CODE/$path" \
  --header 'content-type: application/json' \
  --header "webhook-id: $id" \
  --header "webhook-timestamp: $timestamp" \
  --header "webhook-signature: v1,$signature" \
  --data-binary "@$file")
echo "$status $(cat "$answer")"
[ "$status" = 200 ] || [ "$status" = 202 ]
