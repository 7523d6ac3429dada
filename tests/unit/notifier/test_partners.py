"""The partners file: what is accepted, and every problem named with where it is."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from services.notifier import partners
from services.notifier.partners import PartnersError

SECRET = "whsec_" + base64.b64encode(b"a secret of thirty-two bytes...!").decode()


def entry(**overrides: Any) -> dict[str, Any]:
    return {
        "ops_code": "1465011",
        "name": "MOPS Warszawa",
        "url": "https://ops.example.pl/webhooks/pai",
        "secret": SECRET,
        "events": ["*"],
    } | overrides


def test_a_valid_file_gives_partners_by_ops_code_with_secrets_from_values_or_env(
    tmp_path: Path,
) -> None:
    path = tmp_path / "partners.yaml"
    path.write_text(
        f"""
partners:
  - ops_code: "1465011"
    name: MOPS Warszawa
    url: https://ops.example.pl/webhooks/pai
    secret: {SECRET}
    events: ["*"]
  - ops_code: "0201011"
    name: OPS Bolesławiec
    url: http://localhost:8080/hooks
    secret_env: [OPS_OLD, OPS_NEW]
    events: [pai.cycle.started, pai.cycle.ended]
    allow_http: true
    allow_private_network: true
""",
        encoding="utf-8",
    )
    found = partners.load(path, env={"OPS_OLD": SECRET, "OPS_NEW": SECRET})
    assert sorted(found) == ["0201011", "1465011"]
    assert len(found["0201011"].keys) == 2
    assert found["0201011"].partner.subscribes("pai.cycle.ended")
    assert not found["0201011"].partner.subscribes("pai.eligibility.changed")
    assert found["1465011"].partner.subscribes("pai.eligibility.changed")
    assert SECRET not in repr(found)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"url": "http://ops.example.pl/hook"}, "not https; set allow_http"),
        ({"url": "https://10.1.2.3/hook"}, "private address; set allow_private_network"),
        ({"url": "https://169.254.169.254/latest"}, "metadata address"),
        ({"url": "https://[::1]:8443/hook"}, "loopback address"),
        ({"ops_code": "146501"}, "partners[0].ops_code"),
        ({"events": ["pai.cycle.begun"]}, "unknown webhook types ['pai.cycle.begun']"),
        ({"secret": None}, "exactly one of secret"),
        ({"secret_env": "OPS_SECRET"}, "exactly one of secret"),
        ({"secret": "whsec_short"}, "secret #1"),
        ({"secret": None, "secret_env": "MISSING"}, "MISSING is not set"),
        ({"colour": "blue"}, "partners[0].colour"),
    ],
)
def test_problems_are_named_with_where_they_are(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(PartnersError) as refused:
        partners.parse({"partners": [entry(**overrides)]}, {}, "partners.yaml")
    assert message in str(refused.value)
    assert SECRET not in str(refused.value)


def test_an_ops_code_twice_and_a_missing_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PartnersError, match=r"partners\[1\] \(1465011\): ops_code appears twice"):
        partners.parse({"partners": [entry(), entry()]}, {}, "partners.yaml")
    with pytest.raises(PartnersError, match="cannot read the partners file"):
        partners.load(tmp_path / "absent.yaml")
    with pytest.raises(PartnersError, match="PAI_PARTNERS_FILE is not set"):
        partners.load(None)


def test_the_example_partners_file_is_valid() -> None:
    example = Path(__file__).resolve().parents[3] / "deploy" / "partners.example.yaml"
    assert list(partners.load(example, env={})) == ["1465011"]
