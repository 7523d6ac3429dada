"""PESEL checksum and masking, TERYT code shapes."""

from __future__ import annotations

import pytest

from services.runtime.identifiers import is_ops_code, is_pup_code, is_valid_pesel, mask_pesel


@pytest.mark.parametrize("pesel", ["44051401359", "02070803628", "90090515836", "85121712340"])
def test_valid_pesels(pesel: str) -> None:
    assert is_valid_pesel(pesel)


@pytest.mark.parametrize(
    "pesel",
    ["44051401358", "4405140135", "440514013590", "4405140135a", "", "\uff14\uff14051401359"],
)
def test_invalid_pesels(pesel: str) -> None:
    assert not is_valid_pesel(pesel)


def test_mask_keeps_no_more_than_three_digits() -> None:
    assert mask_pesel("44051401359") == "44********9"
    assert sum(c.isdigit() for c in mask_pesel("44051401359")) == 3


def test_teryt_codes() -> None:
    assert is_pup_code("1465") and not is_pup_code("146")
    assert is_ops_code("1465011") and not is_ops_code("146501")
    # ASCII digits only, nothing after them (as the Java kit's Identifiers)
    full_width, arabic_indic = "\uff11\uff14\uff16\uff15", "\u0661\u0664\u0666\u0665" * 2
    assert not is_pup_code("1465\n") and not is_pup_code(full_width)
    assert not is_ops_code("1465011\n") and not is_ops_code(arabic_indic[:7])
