"""What each webhook type may disclose, why, and for what purpose (``webhook-fields.yaml``).

Data minimisation: a webhook's ``data`` carries only fields its type declares, each with
the reason the OPS needs it; the purpose and categories of data go with every disclosure
recorded in the register. Pure: no Kafka, HTTP or Avro here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

DATA_FILE = Path(__file__).with_name("webhook-fields.yaml")


@dataclass(frozen=True)
class Declaration:
    """One webhook type's declaration."""

    webhook_type: str
    purpose: str
    categories: tuple[str, ...]
    fields: dict[str, str]
    """Every field ``data`` may carry → why the OPS needs it (common fields included)."""

    def undeclared(self, data: dict[str, object]) -> list[str]:
        """The fields of ``data`` this declaration does not list."""
        return sorted(set(data) - set(self.fields))


@cache
def declarations() -> dict[str, Declaration]:
    """Every declared type, from the installed data file."""
    raw = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    common: dict[str, str] = raw["common"]
    return {
        name: Declaration(
            name,
            " ".join(str(entry["purpose"]).split()),
            tuple(entry["categories"]),
            {**common, **entry["fields"]},
        )
        for name, entry in raw["types"].items()
    }


def declaration(webhook_type: str) -> Declaration:
    """The declaration of ``webhook_type``; KeyError naming it when there is none."""
    try:
        return declarations()[webhook_type]
    except KeyError:
        raise KeyError(f"webhook type {webhook_type} declares no fields") from None
