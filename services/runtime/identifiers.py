"""Identifiers of the contract: PESEL (validated, masked for logs) and TERYT codes."""

from __future__ import annotations

import calendar
import re

_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
_PUP_CODE = re.compile(r"[0-9]{4}")  # ASCII digits: \d is any Unicode digit, $ allows "\n"
_OPS_CODE = re.compile(r"[0-9]{7}")


def is_valid_pesel(value: str) -> bool:
    """11 ASCII digits whose last one is the checksum (weights 1,3,7,9,1,3,7,9,1,3)."""
    if len(value) != 11 or not value.isascii() or not value.isdigit():
        return False
    total = sum(w * int(d) for w, d in zip(_WEIGHTS, value, strict=False))
    return (10 - total % 10) % 10 == int(value[10])


_CENTURY_OF_MONTH_TENS = {
    0: 1900,
    1: 1900,
    2: 2000,
    3: 2000,
    4: 2100,
    5: 2100,
    6: 2200,
    7: 2200,
    8: 1800,
    9: 1800,
}


def looks_like_pesel(value: str) -> bool:
    """A valid PESEL whose first six digits are a real birth date (month + 20 per century).

    For finding PESELs inside longer runs of digits (where any 11 of them pass the
    checksum one time in ten); the contract itself checks only :func:`is_valid_pesel`.
    """
    if not is_valid_pesel(value):
        return False
    year, month, day = int(value[0:2]), int(value[2:4]), int(value[4:6])
    century = _CENTURY_OF_MONTH_TENS[month // 20 * 2]
    month = month % 20
    if not 1 <= month <= 12 or day < 1:
        return False
    return day <= calendar.monthrange(century + year, month)[1]


def mask_pesel(value: str) -> str:
    """What logs may show of a PESEL: the first two digits and the last one (``44*******9``)."""
    if len(value) < 4:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 3) + value[-1]


def is_pup_code(value: str) -> bool:
    """TERYT code of a powiat: 4 digits."""
    return bool(_PUP_CODE.fullmatch(value))


def is_ops_code(value: str) -> bool:
    """TERYT code of a gmina: 7 digits."""
    return bool(_OPS_CODE.fullmatch(value))
