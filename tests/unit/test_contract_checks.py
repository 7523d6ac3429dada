"""`pai schemas check`: the kept versions evolve BACKWARD_TRANSITIVE and are documented."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from services.cli import main
from services.runtime.contract_checks import (
    backward_transitive_problems,
    check_store,
    incompatibilities,
)
from services.runtime.schemas import SchemaStore, default_store

PROFILES_V1 = default_store().current("profiles").raw


def copy_with_v2(tmp_path: Path, v2: Any, name: str = "profiles") -> Path:
    shutil.copytree(default_store().root / name, tmp_path / name)
    (tmp_path / name / "v2.avsc").write_text(json.dumps(v2))
    return tmp_path


def profiles_v2(field: dict[str, Any]) -> Any:
    v2 = json.loads(json.dumps(PROFILES_V1))
    v2[0]["fields"].append(field)
    return v2


def test_the_published_schemas_pass() -> None:
    assert check_store(default_store()) == []


def test_a_new_field_with_a_default_is_compatible(tmp_path: Path) -> None:
    field = {"name": "channel", "type": "string", "default": "registry", "doc": "Source."}
    store = SchemaStore(copy_with_v2(tmp_path, profiles_v2(field)))
    assert check_store(store) == []


def test_a_new_field_without_a_default_is_named_as_the_incompatibility(tmp_path: Path) -> None:
    field = {"name": "channel", "type": "string", "doc": "Source of the registration."}
    store = SchemaStore(copy_with_v2(tmp_path, profiles_v2(field)))
    problems = [str(p) for p in check_store(store)]
    assert problems, "adding a required field must break BACKWARD compatibility"
    assert any("UnemployedRegistered" in p and "channel" in p for p in problems), problems
    assert all(p.startswith("profiles v2: cannot read v1 data") for p in problems)


def test_the_check_is_transitive(tmp_path: Path) -> None:
    # v2 drops a field, v3 brings it back with another type: each step alone is fine,
    # v3 against v1 is not.
    v2 = json.loads(json.dumps(PROFILES_V1))
    v2[2]["fields"] = [f for f in v2[2]["fields"] if f["name"] != "reason"]
    v3 = json.loads(json.dumps(v2))
    v3[2]["fields"].append({"name": "reason", "type": "int", "default": 0, "doc": "Code."})
    root = copy_with_v2(tmp_path, v2)
    (root / "profiles" / "v3.avsc").write_text(json.dumps(v3))
    store = SchemaStore(root)
    problems = [str(p) for p in backward_transitive_problems(store.versions("profiles"))]
    assert problems
    assert all(p.startswith("profiles v3: cannot read v1 data") for p in problems), problems
    # (the removal in v2 is itself refused, by the rule of the next tests)
    assert any(p.startswith("profiles v2: field") for p in map(str, check_store(store)))


def test_removing_a_spec_minimum_field_is_refused(tmp_path: Path) -> None:
    v2 = json.loads(json.dumps(PROFILES_V1))
    v2[2]["fields"] = [f for f in v2[2]["fields"] if f["name"] != "reason"]
    problems = [str(p) for p in check_store(SchemaStore(copy_with_v2(tmp_path, v2)))]
    assert problems == [
        "profiles v2: field pl.pai.pup.profiles.UnemployedDeregistered.reason (in v1) was"
        " removed: producers and consumers rely on it (the SPEC's minimum fields among them)"
    ]


def test_renaming_a_field_with_an_alias_is_refused(tmp_path: Path) -> None:
    v2 = json.loads(json.dumps(PROFILES_V1))
    field = next(f for f in v2[2]["fields"] if f["name"] == "reason")
    field["name"], field["aliases"] = "why", ["reason"]
    problems = [str(p) for p in check_store(SchemaStore(copy_with_v2(tmp_path, v2)))]
    assert any("UnemployedDeregistered.reason (in v1) was renamed to why" in p for p in problems)


def test_removing_an_enum_symbol_is_refused_even_with_a_default(tmp_path: Path) -> None:
    v2 = json.loads(json.dumps(PROFILES_V1))
    profile = next(f["type"] for f in v2[1]["fields"] if f["name"] == "profile")
    profile["symbols"].remove("II")
    assert profile.get("default")  # Avro's checker alone lets this through
    problems = [str(p) for p in check_store(SchemaStore(copy_with_v2(tmp_path, v2)))]
    assert problems == [
        "profiles v2: enum pl.pai.pup.Profile lost symbol(s) II (in v1): data written with"
        f" them would read as the default {profile['default']!r}"
    ]


@pytest.mark.parametrize("how", ["alias", "namespace"])
def test_renaming_a_record_is_refused(tmp_path: Path, how: str) -> None:
    v2 = json.loads(json.dumps(PROFILES_V1))
    if how == "alias":
        v2[1]["aliases"] = ["pl.pai.pup.profiles.ProfileEstablished"]
        v2[1]["name"] = "ProfileSet"
    else:
        v2[1]["namespace"] = "pl.pai.pup.registry"
    problems = [str(p) for p in check_store(SchemaStore(copy_with_v2(tmp_path, v2)))]
    to = (
        "pl.pai.pup.profiles.ProfileSet"
        if how == "alias"
        else "pl.pai.pup.registry.ProfileEstablished"
    )
    was = "profiles v2: record pl.pai.pup.profiles.ProfileEstablished (in v1) was renamed"
    assert any(p.startswith(f"{was} to {to}") for p in problems), problems


def test_removing_an_enum_symbol_without_a_default_is_caught() -> None:
    writer = {"type": "enum", "name": "E", "namespace": "t", "symbols": ["A", "B"], "doc": "e"}
    reader = dict(writer, symbols=["A"])
    assert incompatibilities(reader, writer)
    assert incompatibilities(dict(reader, default="A"), writer) == []


def test_missing_docs_and_enum_defaults_are_reported(tmp_path: Path) -> None:
    v2 = json.loads(json.dumps(PROFILES_V1))
    v2[0].pop("doc")
    v2[1]["fields"][4]["type"].pop("default")
    v2[2]["fields"].append({"name": "note", "type": "string", "default": ""})
    problems = {str(p) for p in check_store(SchemaStore(copy_with_v2(tmp_path, v2)))}
    assert "profiles v2: pl.pai.pup.profiles.UnemployedRegistered has no doc" in problems
    assert "profiles v2: enum pl.pai.pup.Profile has no default symbol" in problems
    assert (
        "profiles v2: field pl.pai.pup.profiles.UnemployedDeregistered.note has no doc" in problems
    )


def test_the_cli_fails_on_an_incompatible_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    field = {"name": "channel", "type": "string", "doc": "Source."}
    root = copy_with_v2(tmp_path, profiles_v2(field))
    with pytest.raises(SystemExit) as exit_:
        main(["schemas", "check", "--schemas-dir", str(root)])
    assert exit_.value.code == 1
    assert "profiles v2: cannot read v1 data" in capsys.readouterr().err


def test_the_cli_passes_on_the_published_schemas(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["schemas", "check"])
    assert exit_.value.code == 0
    assert "BACKWARD_TRANSITIVE compatible" in capsys.readouterr().out
