"""The demo story: valid events of the contract, every webhook type, one OPS per person."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from services.demo import scenario
from services.demo.driver import describe
from services.notifier.webhooks import TYPES
from services.runtime.event_files import encode_record
from services.runtime.identifiers import is_valid_pesel


def test_every_record_and_tick_encodes_with_the_contract_schemas() -> None:
    story = scenario.phases()
    encoded = [encode_record(r) for phase in story for r in [*phase.records, phase.tick()]]
    assert len(encoded) == sum(len(p.records) + 1 for p in story)
    per_person_topics = {t for t, key, _ in encoded if key is not None and len(key) == 11}
    assert "pai.ops.integration-activities.v1" in per_person_topics


def test_the_people_have_valid_pesels_and_distinct_names() -> None:
    assert all(is_valid_pesel(p.pesel) for p in scenario.PEOPLE)
    assert len({p.name for p in scenario.PEOPLE}) == len({p.pesel for p in scenario.PEOPLE}) == 6


def test_the_story_yields_every_webhook_type_and_names_only_the_person_s_ops() -> None:
    story = scenario.phases()
    totals = scenario.expected_totals(story)
    assert {kind for _, kind in totals} == set(TYPES.values())
    assert {ops for ops, _ in totals} == {o.code for o in scenario.OPS_OFFICES}
    per_ops = Counter[str]()
    for (ops, _), n in totals.items():
        per_ops[ops] += n
    assert per_ops == {"1465011": 29, "1465038": 6, "1261011": 20}
    by_pesel = {p.pesel: p.ops.code for p in scenario.PEOPLE}
    for phase in story:
        for record in phase.records:
            fields = record["fields"]
            if "person_id" in fields and "ops_code" in fields:
                assert fields["ops_code"] == by_pesel[fields["person_id"]]


def test_days_move_forward_and_ticks_are_06_00_in_warsaw() -> None:
    story = scenario.phases()
    days = [p.day for p in story]
    assert days == sorted(days) and len(set(days)) == len(days)
    tick = story[0].tick()["fields"]["now"]
    assert tick == dt.datetime(2026, 1, 12, 5, tzinfo=dt.UTC)  # CET is UTC+1 in January


def test_a_webhook_line_masks_the_pesel() -> None:
    anna = scenario.ANNA.pesel
    line = describe(
        {
            "type": "pai.cycle.ended",
            "data": {
                "person_id": anna,
                "ended_on": "2026-03-13",
                "early": True,
                "end_reason": "EMPLOYMENT",
                "days_used_total": 40,
            },
        }
    )
    assert anna not in line
    expected = "Anna 85********0 cycle.ended on 2026-03-13, early (EMPLOYMENT), 40 of 180 days used"
    assert " ".join(line.split()) == expected
