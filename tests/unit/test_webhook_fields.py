"""Data minimisation: every webhook's data carries only the fields its type declares, and
every declared field is one the contract has (webhook-fields.yaml)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from services.notifier.webhooks import TYPES, webhook_for
from services.personal_data.declarations import declaration, declarations
from services.runtime.schemas import default_store
from tests.support.openapi import body_errors

SOURCES = {"EligibilityDecision": "eligibility-decisions"} | {
    record: "scheduler-events" for record in TYPES if record != "EligibilityDecision"
}


def _records() -> dict[str, list[str]]:
    """Record name → every field of its current schema version."""
    out: dict[str, list[str]] = {}
    for record, schema in SOURCES.items():
        raw = default_store().current(schema).raw
        for branch in raw if isinstance(raw, list) else [raw]:
            if branch["name"] == record:
                out[record] = [f["name"] for f in branch["fields"]]
    return out


def _payload(record: str, names: list[str]) -> dict[str, Any]:
    """The webhook the notifier builds from a record carrying every field of its schema."""
    fields: dict[str, Any] = dict.fromkeys(names, "x")
    fields |= {"event_id": "e-1", "occurred_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}
    cited = [{"applies_to": record, "provision": "art. 62a"}]  # as a v3 record carries it
    fields |= {"legal_basis": cited} | {k: [] for k in ("reasons", "details") if k in names}
    return orjson.loads(webhook_for(record, fields, "seed").body)  # type: ignore[no-any-return]


def test_every_type_declares_a_purpose_categories_and_its_fields() -> None:
    assert set(declarations()) == set(TYPES.values())
    for name, decl in declarations().items():
        assert decl.purpose and decl.categories and "identifier" in decl.categories, name
        assert all(why.strip() for why in decl.fields.values()), name


def test_no_payload_carries_a_field_its_declaration_does_not_list() -> None:
    records = _records()
    assert set(records) == set(TYPES)
    for record, names in records.items():
        body = _payload(record, names)
        assert declaration(TYPES[record]).undeclared(body["data"]) == [], record


def test_every_declared_field_is_one_the_schema_has() -> None:
    records = _records()
    for record, names in records.items():
        stale = set(declaration(TYPES[record]).fields) - set(names)
        assert not stale, (record, stale)


def test_an_undeclared_field_fails_the_check() -> None:
    names = _records()["CycleStarted"] + ["home_address"]
    body = _payload("CycleStarted", names)
    assert declaration("pai.cycle.started").undeclared(body["data"]) == ["home_address"]
    assert "data/home_address: not declared for pai.cycle.started" in body_errors(
        "pai.cycle.started", body
    )
