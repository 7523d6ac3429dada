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
    body = orjson.loads(webhook_for("CycleEndingSoon", fields, "seed").body)
    assert body_errors("pai.cycle.ending_soon", body) == []
    wrong = body | {"data": body["data"] | {"days_before": "seven"}}
    assert body_errors("pai.cycle.ending_soon", wrong) != []
    assert body_errors("pai.cycle.started", body) != []  # another type's body


def test_bodies_of_the_kinds_issue_14_added_or_changed_validate() -> None:
    """A PSU limit exceeded, a corrected end and a rejection with details, as the scheduler
    encodes them and the notifier decodes them (defaults of the current schema included)."""
    from services.runtime.codec import AvroCodec
    from services.scheduler import outbound
    from tests.unit.scheduler.registry import Registry

    registry = Registry()
    registry.today = dt.date(2026, 2, 4)
    registry.decision(True, dt.date(2025, 12, 1))
    events = registry.refer("R1", dt.date(2026, 2, 4))
    events += registry.psu("R1", dt.date(2026, 2, 9), 11)
    events += registry.day(dt.date(2026, 4, 4))
    registry.today = dt.date(2026, 4, 6)
    events += registry.end("R1", dt.date(2026, 3, 20))
    events += registry.refer("R2", dt.date(2026, 3, 1))
    codec = AvroCodec("scheduler-events")
    now = dt.datetime(2026, 4, 6, 5, tzinfo=dt.UTC)
    seen = set()
    for event in events:
        decoded = codec.decode(outbound.encode("44051401359", event, now))
        webhook = webhook_for(decoded.type, decoded.fields, "seed")
        assert body_errors(webhook.type, orjson.loads(webhook.body)) == [], webhook.type
        seen.add(webhook.type)
    assert {"pai.psu_hours.exceeded", "pai.cycle.ended", "pai.referral.rejected"} <= seen
