"""docs/webhooks.openapi.yaml is a valid OpenAPI 3.1 document with every webhook type."""

from __future__ import annotations

import datetime as dt
import uuid

import orjson
from openapi_spec_validator import validate

from services.notifier.webhooks import TYPES, webhook_for
from tests.support.openapi import body_errors, document


def test_it_is_valid_openapi_3_1_and_names_every_type() -> None:
    doc = document()
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    assert set(doc["webhooks"]) == set(TYPES.values())


def test_a_body_the_service_builds_validates_and_a_wrong_one_does_not() -> None:
    fields = {
        "event_id": uuid.uuid4(),
        "occurred_at": dt.datetime(2026, 3, 2, 5, tzinfo=dt.UTC),
        "person_id": "44051401359",
        "pup_code": "1465",
        "ops_code": "1465011",
        "referral_id": "R1",
        "cycle_id": "c-1",
        "last_day": dt.date(2026, 5, 1),
        "days_before": 7,
    }
    body = orjson.loads(webhook_for("CycleEndingSoon", fields).body)
    assert body_errors("pai.cycle.ending_soon", body) == []
    wrong = body | {"data": body["data"] | {"days_before": "seven"}}
    assert body_errors("pai.cycle.ending_soon", wrong) != []
    assert body_errors("pai.cycle.started", body) != []  # another type's body
