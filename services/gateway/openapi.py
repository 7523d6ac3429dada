"""``docs/gateway.openapi.yaml``, generated from the Avro schemas so the two never drift.

``python -m services.gateway.openapi > docs/gateway.openapi.yaml`` writes it;
``tests/unit/gateway/test_openapi.py`` fails when the file differs from what
this module generates. Each accepted record type becomes a JSON Schema of its
``data`` (UUIDs ``format: uuid``, dates ``format: date``, timestamps
``format: date-time``, enums as ``enum``, the field docs as descriptions).
"""

from __future__ import annotations

import sys
from typing import Any

import yaml

from services.gateway.authentication import TOLERANCE_S
from services.gateway.contract import ACCEPTED, CLOCK_SKEW, MAX_STRING, record_schemas
from services.runtime import date_range

_PERSON = r"^\d{11}$"
_OPS = r"^\d{7}$"


def _json_schema(avro: Any) -> dict[str, Any]:
    if isinstance(avro, list):
        others = [_json_schema(s) for s in avro if s != "null"]
        assert len(others) == 1, avro
        return {"oneOf": [others[0], {"type": "null"}]} if "null" in avro else others[0]
    kind = avro.get("type") if isinstance(avro, dict) else avro
    logical = avro.get("logicalType") if isinstance(avro, dict) else None
    if logical == "uuid":
        return {"type": "string", "format": "uuid"}
    if logical == "date":
        return {"type": "string", "format": "date"}
    if logical == "timestamp-millis":
        return {"type": "string", "format": "date-time"}
    if kind == "enum":
        return {"type": "string", "enum": list(avro["symbols"])}
    if kind == "string":
        return {"type": "string", "maxLength": MAX_STRING}
    if kind in ("double", "float"):
        return {"type": "number"}
    if kind in ("int", "long"):
        return {"type": "integer"}
    if kind == "boolean":
        return {"type": "boolean"}
    raise ValueError(f"no JSON Schema for Avro type {avro!r}")


def _format(prop: dict[str, Any]) -> str | None:
    """The ``format`` of a property, or of the non-null branch of a nullable one."""
    branches = [prop, *prop.get("oneOf", [])]
    return next((b["format"] for b in branches if "format" in b), None)


_UUID_CASE = (
    " (8-4-4-4-12 hex digits, either case: written and answered in lower case, so 0B7F... and"
    " 0b7f... are the same)"
)


def event_schemas() -> dict[str, dict[str, Any]]:
    """``components.schemas`` of every accepted record type, from its current Avro schema."""
    found: dict[str, dict[str, Any]] = {}
    for name, schema in record_schemas().items():
        properties: dict[str, Any] = {}
        for field in schema["fields"]:
            prop = _json_schema(field["type"])
            if field["name"] == "person_id":
                prop["pattern"] = _PERSON
            if field["name"] == "ops_code":
                prop["pattern"] = _OPS
            doc = " ".join(field["doc"].split())
            kind = _format(prop)
            if kind == "uuid":
                doc += _UUID_CASE
            if kind == "date":
                doc += f" A day within {date_range.RANGE} (else 400)."
            if kind == "date-time":
                doc += f" RFC 3339; its day in UTC within {date_range.RANGE} (else 400)."
                if field["name"] == "occurred_at":
                    minutes = CLOCK_SKEW.total_seconds() / 60
                    doc += (
                        f" No later than the gateway's clock plus {minutes:.0f} minutes"
                        " (else 400): an event cannot have happened yet."
                    )
            properties[field["name"]] = {**prop, "description": doc}
        required = [f["name"] for f in schema["fields"] if "default" not in f]
        topic = ACCEPTED[name].name
        found[name] = {
            "type": "object",
            "description": f"{' '.join(schema['doc'].split())} Written to `{topic}`.",
            "required": ["type", "data"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": name},
                "data": {
                    "type": "object",
                    "required": required,
                    "additionalProperties": False,
                    "properties": properties,
                },
            },
        }
    return found


def _answer(description: str, schema: str, retry_after: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    if retry_after:
        answer["headers"] = {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}
    return answer


def _refusals() -> dict[str, Any]:
    return {
        "401": _answer(
            "Missing or bad signature, a timestamp more than 5 minutes off, a webhook-id used"
            " before, or an ops_code not in the partners file (answered as a bad signature)",
            "Errors",
        ),
        "413": _answer("The body (or one event's record) is too large", "Errors"),
        "408": _answer("The body did not arrive within 10 s of the headers", "Errors"),
        "415": _answer(
            "The Content-Type is not application/json, its charset not utf-8, or the body has"
            " a Content-Encoding (send it uncompressed)",
            "Errors",
        ),
        "429": _answer("Over the partner's rate limit: wait Retry-After seconds", "Errors", True),
        "500": _answer(
            "An unexpected error in the gateway: the event may or may not be written; send it"
            " again later with the same event_id (it is written once)",
            "Errors",
        ),
        "503": _answer(
            "The gateway is starting or Kafka did not acknowledge in time (the event may have"
            " been written): send again after Retry-After, a new webhook-id with the same"
            " event_id and content. That is safe: a retry while the first write is under way"
            " waits for it (200 with its coordinates if it went through); if that write failed"
            " without an answer (its record may still reach Kafka) the retry is written, and"
            " should the first record arrive after all the topic holds the identical record"
            " twice (same key, value and event_id), which the services take as one event."
            " Other content under that event_id is then a 409",
            "Errors",
            True,
        ),
    }


def document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    events = event_schemas()
    signed = [
        {"name": h, "in": "header", "required": True, "schema": s}
        for h, s in (
            (
                "webhook-id",
                {"type": "string", "maxLength": 256, "pattern": r"^[\x21-\x2d\x2f-\x7e]+$"},
            ),
            ("webhook-timestamp", {"type": "string", "pattern": r"^\d{1,12}$"}),
            ("webhook-signature", {"type": "string"}),
        )
    ]
    ops_param = {
        "name": "ops_code",
        "in": "path",
        "required": True,
        "description": "TERYT code of the OPS's gmina (7 digits): the partner posting",
        "schema": {"type": "string", "pattern": _OPS},
    }
    single = {
        "200": _answer(
            "This event_id was written before with the same content: nothing"
            " written, the first write's coordinates",
            "Written",
        ),
        "202": _answer("Written and acknowledged by every in-sync replica (acks=all)", "Written"),
        "400": _answer("The event would be dead-lettered: every field at fault", "Errors"),
        "403": _answer("data.ops_code is not the ops_code of the URL", "Errors"),
        "409": _answer(
            "This event_id was written before with other content, or sent with other content"
            " in a write answered 503 (that write may be on the topic)",
            "Errors",
        ),
        **_refusals(),
    }
    batch = {
        "200": _answer("One result per event, in order", "BatchResults"),
        "400": _answer('Not {"events": [...]} with 1 to 500 events, or not JSON', "Errors"),
        **_refusals(),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "PAI gateway: events from OPS systems over signed HTTPS",
            "version": "1.0.0",
            "description": (
                "An OPS posts social-assistance and integration-hours events instead of running"
                " a Kafka producer. Requests are signed as Standard Webhooks signs, with the"
                f" partner's inbound secret; timestamps within {TOLERANCE_S} s. Generated from"
                " the Avro schemas by services/gateway/openapi.py: see docs/gateway.md."
            ),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "paths": {
            "/v1/partners/{ops_code}/events": {
                "post": {
                    "operationId": "postEvent",
                    "summary": "Post one event",
                    "parameters": [ops_param, *signed],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Event"}}
                        },
                    },
                    "responses": single,
                }
            },
            "/v1/partners/{ops_code}/events:batch": {
                "post": {
                    "operationId": "postEvents",
                    "summary": "Post up to 500 events; each is answered as a single post would be",
                    "parameters": [ops_param, *signed],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}
                        },
                    },
                    "responses": batch,
                }
            },
        },
        "components": {
            "headers": {
                "RetryAfter": {
                    "description": "Seconds to wait before sending again",
                    "schema": {"type": "string", "pattern": r"^\d+$"},
                }
            },
            "schemas": {
                "Event": {"oneOf": [{"$ref": f"#/components/schemas/{n}"} for n in events]},
                **events,
                "Batch": {
                    "type": "object",
                    "required": ["events"],
                    "additionalProperties": False,
                    "properties": {
                        "events": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 500,
                            "items": {"$ref": "#/components/schemas/Event"},
                        }
                    },
                },
                "Written": {
                    "type": "object",
                    "required": ["event_id", "topic", "partition", "offset"],
                    "properties": {
                        "event_id": {"type": "string", "format": "uuid"},
                        "topic": {
                            "type": "string",
                            "enum": sorted({t.name for t in ACCEPTED.values()}),
                        },
                        "partition": {"type": "integer", "minimum": 0},
                        "offset": {"type": "integer", "minimum": 0},
                    },
                },
                "Errors": {
                    "type": "object",
                    "required": ["errors"],
                    "properties": {
                        "errors": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "required": ["path", "message"],
                                "properties": {
                                    "path": {
                                        "type": "string",
                                        "description": "e.g. data.hours, events[3].data.person_id;"
                                        " empty for the request as a whole",
                                    },
                                    "message": {"type": "string"},
                                },
                            },
                        }
                    },
                },
                "BatchResults": {
                    "type": "object",
                    "required": ["results"],
                    "properties": {
                        "results": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["index", "status"],
                                "properties": {
                                    "index": {"type": "integer", "minimum": 0},
                                    "status": {
                                        "type": "integer",
                                        "enum": [200, 202, 400, 403, 409, 413, 500, 503],
                                    },
                                    "event_id": {"type": "string"},
                                    "topic": {"type": "string"},
                                    "partition": {"type": "integer"},
                                    "offset": {"type": "integer"},
                                    "errors": {
                                        "$ref": "#/components/schemas/Errors/properties/errors"
                                    },
                                },
                            },
                        }
                    },
                },
            },
        },
    }


def render() -> str:
    header = "# Generated by `python -m services.gateway.openapi` from schemas/: do not edit.\n"
    return header + yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=100)


if __name__ == "__main__":
    sys.stdout.write(render())
