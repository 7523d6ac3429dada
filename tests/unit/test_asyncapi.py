"""docs/asyncapi.yaml names every topic and points at the current version of its schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from services.runtime.schemas import default_store
from services.runtime.topics import ALL_TOPICS

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"
AVRO_FORMAT = "application/vnd.apache.avro+json;version=1.9.0"


def load() -> dict[str, Any]:
    return yaml.safe_load(DOC_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_it_is_an_asyncapi_3_document() -> None:
    doc = load()
    assert doc["asyncapi"].startswith("3.0")
    assert {"title", "version"} <= doc["info"].keys()
    for name, operation in doc["operations"].items():
        assert operation["action"] in ("send", "receive"), name
        resolve(doc, operation["channel"]["$ref"])
        for message in operation["messages"]:
            resolve(doc, message["$ref"])


def test_every_topic_has_a_channel_with_its_key_and_current_schema() -> None:
    doc = load()
    store = default_store()
    by_address = {c["address"]: c for c in doc["channels"].values()}
    assert set(by_address) == {t.name for t in ALL_TOPICS}
    for spec in ALL_TOPICS:
        channel = by_address[spec.name]
        policy = channel["bindings"]["kafka"]["topicConfiguration"]["cleanup.policy"]
        assert policy == spec.cleanup_policy, spec.name
        [message_ref] = channel["messages"].values()
        message = resolve(doc, message_ref["$ref"])
        key = message["bindings"]["kafka"]["key"]
        if spec.key == "person_id":
            assert key["pattern"] == "^[0-9]{11}$", spec.name
        if spec.schema is None:
            assert message["payload"]["format"] == "binary"
            assert "__connect.errors.exception.message" in message["headers"]["properties"]
            continue
        payload = message["payload"]
        assert payload["schemaFormat"] == AVRO_FORMAT
        schema_path = (DOC_PATH.parent / payload["schema"]["$ref"]).resolve()
        assert schema_path == store.current(spec.schema).path.resolve(), spec.name


def test_every_schema_is_named_by_a_topic() -> None:
    text = DOC_PATH.read_text(encoding="utf-8")
    for name in default_store().names:
        assert f"../schemas/{name}/" in text, name
