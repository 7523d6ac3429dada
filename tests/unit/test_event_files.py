"""``pai send`` files: JSON or YAML records checked against the schemas, errors with lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.runtime import event_files
from services.runtime.codec import AvroCodec
from services.runtime.event_files import EventFileError

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_file_encodes_every_record_with_its_key() -> None:
    records = event_files.read(ROOT / "examples" / "events.yaml")
    assert [r.topic for r in records][:2] == [
        "pai.pup.program-editions.v1",
        "pai.pup.profiles.v1",
    ]
    assert records[0].key == b"PAI-1465-2026-1"
    assert {r.key for r in records[1:]} == {b"44051401359"}
    decoded = AvroCodec("profiles").decode(records[2].value)
    assert (decoded.type, decoded.fields["profile"]) == ("ProfileEstablished", "III")
    assert str(decoded.fields["established_on"]) == "2026-01-20"


def test_json_is_read_too_with_instants_and_given_ids(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    record = {
        "topic": "pai.clock.v1",
        "type": "ClockTick",
        "fields": {"now": "2026-03-02T05:00:00Z"},
    }
    path.write_text(json.dumps([record]))
    [sent] = event_files.read(path)
    fields = AvroCodec("clock").decode(sent.value).fields
    assert fields["now"].isoformat() == "2026-03-02T05:00:00+00:00"


def test_every_bad_record_is_reported_with_its_line_and_nothing_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        """- topic: pai.pup.profiles.v1
  type: ProfileEstablished
  fields: {person_id: "44051401359", pup_code: "1465", profile: IV, established_on: 2026-01-20}
- topic: pai.pup.nowhere.v1
  type: X
  fields: {}
- topic: pai.pup.profiles.v1
  type: ProfileLost
  fields: {}
- topic: pai.pup.profiles.v1
  type: UnemployedRegistered
  fields: {person_id: "44051401359", pup_code: "1465"}
- topic: pai.pup.profiles.v1
  type: UnemployedRegistered
  fields: {person_id: "44051401359", pup_code: "1465", registered_on: 2026-01-05, colour: red}
- topic: pai.clock.v1
  type: ClockTick
  fields: {now: "2026-03-02T05:00:00"}
- topic: pai.pup.profiles.v1
  type: UnemployedRegistered
  fields: {person_id: "44051401359", pup_code: "1465", registered_on: 2026-01-05}
"""
    )
    with pytest.raises(EventFileError) as refused:
        event_files.read(path)
    lines = str(refused.value).splitlines()
    assert len(lines) == 6  # the seventh record is fine
    assert lines[0].startswith(f"{path}:1: record 1:") and "IV" in lines[0]
    assert lines[1].startswith(f"{path}:4: record 2: topic 'pai.pup.nowhere.v1'")
    assert lines[2].startswith(f"{path}:7: record 3: type 'ProfileLost'")
    assert lines[3].startswith(f"{path}:10: record 4:") and "registered_on" in lines[3]
    assert lines[4].startswith(f"{path}:13: record 5: fields ['colour']")
    assert lines[5].startswith(f"{path}:16: record 6: now:") and "time zone" in lines[5]


def test_a_file_that_is_not_a_list_or_not_parseable_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "one.yaml"
    path.write_text("topic: pai.clock.v1\n")
    with pytest.raises(EventFileError, match="expected a list of records"):
        event_files.read(path)
    path.write_text("[{")
    with pytest.raises(EventFileError, match="not valid JSON or YAML"):
        event_files.read(path)
