"""Legitimate schema evolutions across writer forms load and read (review of issue 16).

A record schema whose next version is a union holding the record, two topics' unions
sharing one record, a record renamed with an alias, and a producer mixing a union
fingerprint with a record-alone body: each read as Avro schema resolution says, or
refused with a reason that names the record and the form.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.cli import main
from services.runtime.codec import AvroCodec, DecodeFailure, UndecodableRecord
from services.runtime.contract_checks import check_store
from services.runtime.schemas import SchemaStore, default_store
from tests.support.samples import samples

STORE = default_store()
EDITIONS_V1 = STORE.versions("program-editions")[0].raw
PROFILES_V1 = STORE.versions("profiles")[0].raw


def schema_dir(root: Path, versions: dict[str, list[Any]]) -> Path:
    """``root/<name>/v1.avsc, v2.avsc, ...`` from raw schemas."""
    for name, raws in versions.items():
        (root / name).mkdir(parents=True)
        for number, raw in enumerate(raws, start=1):
            (root / name / f"v{number}.avsc").write_text(json.dumps(raw))
    return root


def copy(raw: Any) -> Any:
    return json.loads(json.dumps(raw))


WITHDRAWN = {
    "type": "record",
    "name": "ProgramEditionWithdrawn",
    "namespace": EDITIONS_V1["namespace"],
    "doc": "An edition withdrawn.",
    "fields": [{"name": "edition_id", "type": "string", "doc": "The edition."}],
}


def editions_v1_bytes(tmp_path: Path) -> tuple[str, dict[str, Any], bytes]:
    only_v1 = SchemaStore(schema_dir(tmp_path / "v1", {"program-editions": [EDITIONS_V1]}))
    record_type, fields = samples(only_v1.current("program-editions"))[0]
    return record_type, fields, AvroCodec("program-editions", only_v1).encode(record_type, fields)


def test_a_record_schema_whose_next_version_is_a_union_of_the_unchanged_record_loads(
    tmp_path: Path,
) -> None:
    record_type, fields, data = editions_v1_bytes(tmp_path)
    store = SchemaStore(
        schema_dir(tmp_path / "s", {"program-editions": [EDITIONS_V1, [EDITIONS_V1, WITHDRAWN]]})
    )
    assert check_store(store) == []
    decoded = AvroCodec("program-editions", store).decode(data)
    assert (decoded.type, decoded.fields) == (record_type, fields)


def test_two_topics_unions_sharing_one_record_load_and_each_topic_reads_it(
    tmp_path: Path,
) -> None:
    other = {
        "type": "record",
        "name": "Other",
        "namespace": "pl.pai.other",
        "doc": "d",
        "fields": [{"name": "x", "type": "string", "doc": "x"}],
    }
    store = SchemaStore(
        schema_dir(tmp_path, {"profiles": [PROFILES_V1], "other": [[PROFILES_V1[0], other]]})
    )
    record_type, fields = samples(store.current("profiles"))[0]
    alone = AvroCodec("profiles", store).encode_branch(record_type, fields)
    for topic in ("profiles", "other"):
        assert AvroCodec(topic, store).decode(alone).fields == fields
    # a record the topic does not hold is still wrong-schema, naming the writer
    with pytest.raises(UndecodableRecord) as caught:
        AvroCodec("other", store).decode(
            AvroCodec("profiles", store).encode_branch(*samples(store.current("profiles"))[1])
        )
    assert caught.value.reason is DecodeFailure.WRONG_SCHEMA
    assert "ProfileEstablished (a record of profiles v1)" in str(caught.value)


def _no_fields(v2: Any) -> None:
    v2[0].pop("fields")


def _duplicate_field(v2: Any) -> None:
    v2[0]["fields"].append(dict(v2[0]["fields"][0]))


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[{"type": "record", "name": "X"', "profiles/v2.avsc: JSONDecodeError"),
        ("[42]", "profiles/v2.avsc:"),
        (_no_fields, "profiles v2: Apache Avro refuses the schema"),
        (_duplicate_field, "profiles v2: Apache Avro refuses the schema"),
    ],
    ids=["broken-json", "not-a-schema", "record-without-fields", "duplicate-field"],
)
def test_pai_schemas_check_reports_a_bad_schema_file_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: Any, said: str
) -> None:
    root = schema_dir(tmp_path, {"profiles": [PROFILES_V1]})
    if callable(text):
        v2 = copy(PROFILES_V1)
        text(v2)
        text = json.dumps(v2)
    (root / "profiles" / "v2.avsc").write_text(text)
    for command in ("check", "list"):
        with pytest.raises(SystemExit) as exited:
            main(["schemas", command, "--schemas-dir", str(root)])
        err = capsys.readouterr().err
        if command == "check" or "avsc" in said:
            assert exited.value.code == 1
            assert said in err and "Traceback" not in err, err


def test_identical_schemas_in_two_topics_are_a_check_problem(tmp_path: Path) -> None:
    store = SchemaStore(schema_dir(tmp_path, {"profiles": [PROFILES_V1], "copy": [PROFILES_V1]}))
    problems = [str(p) for p in check_store(store)]
    assert any(p.startswith("profiles v1: the same schema as copy v1") for p in problems), problems


def test_a_record_schema_writer_read_against_a_union_reader_picks_the_matching_branch(
    tmp_path: Path,
) -> None:
    record_type, fields, data = editions_v1_bytes(tmp_path)
    changed = copy(EDITIONS_V1)
    changed["fields"].append({"name": "note", "type": "string", "default": "", "doc": "n"})
    store = SchemaStore(
        schema_dir(tmp_path / "s", {"program-editions": [EDITIONS_V1, [changed, WITHDRAWN]]})
    )
    decoded = AvroCodec("program-editions", store).decode(data)
    assert decoded.type == record_type
    assert decoded.fields == {**fields, "note": ""}
    assert decoded.writer_version == 1


def renamed_profiles(tmp_path: Path) -> SchemaStore:
    v2 = copy(PROFILES_V1)
    v2[1]["name"] = "ProfileSet"
    v2[1]["aliases"] = ["pl.pai.pup.profiles.ProfileEstablished"]
    return SchemaStore(schema_dir(tmp_path, {"profiles": [PROFILES_V1, v2]}))


def test_a_record_renamed_with_an_alias_reads_under_its_current_name_in_both_forms(
    tmp_path: Path,
) -> None:
    codec = AvroCodec("profiles", renamed_profiles(tmp_path / "s"))
    old = AvroCodec("profiles", SchemaStore(schema_dir(tmp_path, {"profiles": [PROFILES_V1]})))
    record_type, fields = samples(old.current)[1]
    assert record_type == "ProfileEstablished"
    for data in (old.encode(record_type, fields), old.encode_branch(record_type, fields)):
        decoded = codec.decode(data)
        assert (decoded.type, decoded.fields) == ("ProfileSet", fields)


@pytest.mark.parametrize("record_type", [rt for rt, _ in samples(STORE.current("profiles"))])
def test_a_union_fingerprint_on_a_record_alone_is_invalid_body_naming_the_form(
    record_type: str,
) -> None:
    codec = AvroCodec("profiles")
    fields = dict(samples(STORE.current("profiles")))[record_type]
    union, alone = codec.encode(record_type, fields), codec.encode_branch(record_type, fields)
    with pytest.raises(UndecodableRecord) as caught:
        codec.decode(union[:10] + alone[10:])
    assert caught.value.reason is DecodeFailure.INVALID_BODY
    message = str(caught.value)
    assert f"the body is record {codec.current.branch(record_type).full_name} written alone" in (
        message
    )
    assert "pai schemas list" in message


def test_a_record_fingerprint_on_a_union_body_names_the_record() -> None:
    codec = AvroCodec("profiles")
    record_type, fields = samples(STORE.current("profiles"))[0]
    union, alone = codec.encode(record_type, fields), codec.encode_branch(record_type, fields)
    with pytest.raises(UndecodableRecord) as caught:
        codec.decode(alone[:10] + union[10:])
    assert caught.value.reason in (DecodeFailure.INVALID_BODY, DecodeFailure.TRAILING_BYTES)
    full_name = codec.current.branch(record_type).full_name
    assert f"record {full_name} written alone (a branch of profiles v" in str(caught.value)
    assert "the body is the whole union (profiles v" in str(caught.value)


def test_a_union_writer_read_as_a_record_schema_is_named_as_that_record(tmp_path: Path) -> None:
    """A union v1 ``[Withdrawn, Edition]`` and a record v2 ``Edition``: the name is v2's."""
    store_v1 = SchemaStore(
        schema_dir(tmp_path / "v1", {"program-editions": [[WITHDRAWN, EDITIONS_V1]]})
    )
    record_type, fields = samples(store_v1.current("program-editions"))[1]
    data = AvroCodec("program-editions", store_v1).encode(record_type, fields)
    store = SchemaStore(
        schema_dir(tmp_path / "s", {"program-editions": [[WITHDRAWN, EDITIONS_V1], EDITIONS_V1]})
    )
    decoded = AvroCodec("program-editions", store).decode(data)
    assert (decoded.type, decoded.fields) == ("ProgramEdition", fields)
