"""Identifiers of the contract: PESEL (validated, masked for logs) and TERYT codes."""

from __future__ import annotations

import re

_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
_PUP_CODE = re.compile(r"^\d{4}$")
_OPS_CODE = re.compile(r"^\d{7}$")


def is_valid_pesel(value: str) -> bool:
    """11 ASCII digits whose last one is the checksum (weights 1,3,7,9,1,3,7,9,1,3)."""
    if len(value) != 11 or not value.isascii() or not value.isdigit():
        return False
    total = sum(w * int(d) for w, d in zip(_WEIGHTS, value, strict=False))
    return (10 - total % 10) % 10 == int(value[10])


def mask_pesel(value: str) -> str:
    """What logs may show of a PESEL: the first two digits and the last one (``44*******9``)."""
    if len(value) < 4:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 3) + value[-1]


def is_pup_code(value: str) -> bool:
    """TERYT code of a powiat: 4 digits."""
    return bool(_PUP_CODE.match(value))


def is_ops_code(value: str) -> bool:
    """TERYT code of a gmina: 7 digits."""
    return bool(_OPS_CODE.match(value))
