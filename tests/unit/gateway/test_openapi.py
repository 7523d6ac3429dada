"""docs/gateway.openapi.yaml is what the Avro schemas generate, and a valid OpenAPI 3.1."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml
from openapi_spec_validator import validate

from services.gateway import openapi
from tests.support.gateway import benefits_granted, hours_reported

DOC = Path(__file__).parents[3] / "docs" / "gateway.openapi.yaml"


def test_the_document_is_generated_from_the_schemas() -> None:
    assert DOC.read_text(encoding="utf-8") == openapi.render(), (
        "docs/gateway.openapi.yaml is stale:"
        " python -m services.gateway.openapi > docs/gateway.openapi.yaml"
    )
    validate(yaml.safe_load(DOC.read_text(encoding="utf-8")))


def test_the_documents_examples_are_the_events_the_gateway_accepts() -> None:
    schemas = openapi.document()["components"]["schemas"]
    for event in (benefits_granted(1), hours_reported(2)):
        schema = {**schemas[event["type"]], "components": {"schemas": schemas}}
        jsonschema.validate(event, schema, format_checker=jsonschema.FormatChecker())
