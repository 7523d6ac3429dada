"""Checking webhook bodies against docs/webhooks.openapi.yaml, as a partner's tooling would,
and against the fields their type declares (services/personal_data/webhook-fields.yaml)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker

from services.personal_data.declarations import declaration

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "webhooks.openapi.yaml"


@cache
def document() -> dict[str, Any]:
    return yaml.safe_load(DOC_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def body_errors(webhook_type: str, body: Any) -> list[str]:
    """Every way ``body`` differs from what the document says a ``webhook_type`` body is."""
    doc = document()
    ref = doc["webhooks"][webhook_type]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]["$ref"]
    validator = Draft202012Validator({**doc, "$ref": ref}, format_checker=FormatChecker())
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(body)]
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, dict):
        undeclared = declaration(webhook_type).undeclared(data)
        errors += [f"data/{name}: not declared for {webhook_type}" for name in undeclared]
    return errors
