"""The provision each outcome applies, read from ``legal-basis.yaml`` beside this module.

KPA art. 107 §3 asks a decision to state its legal basis; RODO art. 15(1)(c) asks the
office to tell a person on which basis their data went to whom. The mapping from
reason codes, rejection reasons and scheduler event kinds to provisions is data (the
YAML file, versioned with ``version``), so a change of the law changes that file.
Pure: no Kafka, HTTP or Avro here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA_FILE = Path(__file__).with_name("legal-basis.yaml")


@dataclass(frozen=True, slots=True)
class Citation:
    """One provision applied to one code: what a decision or event carries."""

    applies_to: str
    provision: str

    def as_record(self) -> dict[str, str]:
        return {"applies_to": self.applies_to, "provision": self.provision}


class LegalBasisError(ValueError):
    """The data file is inconsistent, or a code has no provision."""


@dataclass(frozen=True)
class LegalBasis:
    """The provisions of every rule set, as loaded from the data file."""

    version: int
    provisions: dict[str, str]
    codes: dict[str, dict[str, dict[str, tuple[str, ...]]]]
    """rule set → part (``eligibility``, ``scheduler``) → code → provision keys."""

    def cite(self, ruleset: str, part: str, codes: Iterable[str]) -> list[Citation]:
        """One citation per provision of each code, in the order given; LegalBasisError
        for a code the data does not map (a reason without a provision is a defect)."""
        table = self.codes.get(ruleset, {}).get(part)
        if table is None:
            raise LegalBasisError(f"no {part} provisions for rule set {ruleset!r}")
        cited: list[Citation] = []
        for code in codes:
            keys = table.get(code)
            if not keys:
                raise LegalBasisError(f"{part} code {code} of rule set {ruleset} has no provision")
            cited.extend(Citation(code, self.provisions[key]) for key in keys)
        return cited


def parse(raw: Any) -> LegalBasis:
    """The data of the file's YAML text as loaded; LegalBasisError naming what is wrong."""
    if not isinstance(raw, dict) or not isinstance(raw.get("version"), int):
        raise LegalBasisError("legal basis data: a mapping with an integer version is required")
    provisions = {key: str(entry["text"]).strip() for key, entry in raw["provisions"].items()}
    declared: dict[str, Any] = raw["rulesets"]
    codes: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {}

    def resolve(name: str, seen: tuple[str, ...] = ()) -> dict[str, dict[str, tuple[str, ...]]]:
        if name in seen:
            raise LegalBasisError(f"rule set {name} extends itself")
        block = declared[name]
        base = resolve(block["extends"], (*seen, name)) if "extends" in block else {}
        merged = {part: dict(table) for part, table in base.items()}
        for part in ("eligibility", "scheduler"):
            for code, keys in (block.get(part) or {}).items():
                unknown = [k for k in keys if k not in provisions]
                if unknown:
                    raise LegalBasisError(f"{name}.{part}.{code} cites unknown {unknown}")
                merged.setdefault(part, {})[code] = tuple(keys)
        return merged

    for name in declared:
        codes[name] = resolve(name)
    return LegalBasis(raw["version"], provisions, codes)


@cache
def current() -> LegalBasis:
    """The installed data file, loaded once per process."""
    return parse(yaml.safe_load(DATA_FILE.read_text(encoding="utf-8")))


@cache
def _records(ruleset: str, part: str, codes: tuple[str, ...]) -> tuple[dict[str, str], ...]:
    return tuple(c.as_record() for c in current().cite(ruleset, part, codes))


def for_decision(
    ruleset: str, eligible: bool, priority: bool, reasons: Iterable[str]
) -> list[dict[str, str]]:
    """An eligibility decision's ``legal_basis`` records: its outcome, then every reason."""
    outcome = [code for code, holds in (("ELIGIBLE", eligible), ("PRIORITY", priority)) if holds]
    return list(_records(ruleset, "eligibility", (*outcome, *reasons)))


def for_scheduler_event(
    ruleset: str, kind: str, reasons: Iterable[str] = ()
) -> list[dict[str, str]]:
    """A scheduler event's ``legal_basis`` records: its kind (a rejection: every reason)."""
    codes = tuple(reasons) if kind == "ReferralRejected" else (kind,)
    return list(_records(ruleset, "scheduler", codes))


def provisions_of(citations: Iterable[dict[str, str]]) -> list[str]:
    """The distinct provisions of citation records, first seen first (a webhook's list)."""
    return list(dict.fromkeys(c["provision"] for c in citations))
