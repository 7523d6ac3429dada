"""The partners file: what is accepted, and every problem named with where it is."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from services.runtime import partners
from services.runtime.partners import PartnersError

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


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://ops-user:hunter2-pass@ops.example.pl/hook", "user name or password"),
        ("https://ops.example.pl/hook#part", "fragment"),
        ("ftp://ops.example.pl/hook", "not an http(s) URL"),
        ("https:///hook", "no host"),
        ("https://127。0。0。1/hook", "written in ASCII"),
        ("https://\uff4f\uff50\uff53.example.pl/hook", "written in ASCII"),
        ("https://0177.0.0.1/hook", "the HTTP client cannot use it"),
        ("https://2130706433/hook", "not a host name"),
        ("https://0x7f.1/hook", "not a host name"),
        ("https://127.1/hook", "not a host name"),
        ("https://127.0.0.1./hook", "not a host name"),
        ("https://%31%32%37.0.0.1/hook", "not a host name"),
        ("https://ops.example.pl:99999/hook", "port"),
    ],
)
def test_urls_the_client_cannot_use_safely_are_refused(url: str, message: str) -> None:
    for private in (False, True):  # allow_private_network does not make them usable
        with pytest.raises(PartnersError) as refused:
            partners.parse(
                {"partners": [entry(url=url, allow_private_network=private)]}, {}, "partners.yaml"
            )
        assert message in str(refused.value)
        assert "hunter2" not in str(refused.value) and "ops-user" not in str(refused.value)


@pytest.mark.parametrize(
    "host",
    [
        "[::ffff:7f00:1]",
        "[::FFFF:127.0.0.1]",
        "[fe80::1%25eth0]",
        "[2002:7f00:1::]",
        "[64:ff9b::7f00:1]",
    ],
)
def test_inward_hosts_are_refused_after_the_clients_normalisation(host: str) -> None:
    with pytest.raises(PartnersError, match="set allow_private_network"):
        partners.parse({"partners": [entry(url=f"https://{host}/hook")]}, {}, "partners.yaml")


def test_a_refused_url_is_shown_without_userinfo_or_query() -> None:
    with pytest.raises(PartnersError) as refused:
        partners.parse(
            {"partners": [entry(url="http://10.1.2.3:8080/hook?token=q-secret-1&x=2")]},
            {},
            "partners.yaml",
        )
    text = str(refused.value)
    assert "http://10.1.2.3:8080/hook" in text
    assert "q-secret-1" not in text and "token" not in text


def test_a_yaml_syntax_error_names_line_and_column_not_the_line(tmp_path: Path) -> None:
    path = tmp_path / "partners.yaml"
    path.write_text(
        'partners:\n  - ops_code: "1465011"\n    secret: "whsec_TOPSECRETvalue: [\n',
        encoding="utf-8",
    )
    with pytest.raises(PartnersError) as refused:
        partners.load(path, env={})
    text = str(refused.value)
    assert str(path) in text and "line " in text and "column " in text
    assert "TOPSECRET" not in text and "whsec_" not in text
    path.write_text(
        "partners:\n  - ops_code: '1465011'\n    secret: whsec_TOPSECRETvalue: x\n",
        encoding="utf-8",
    )
    with pytest.raises(PartnersError) as refused:
        partners.load(path, env={})
    assert "line 3" in str(refused.value) and "TOPSECRET" not in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://OPS.Example.PL/webhooks/pai",
        "https://xn--d-0ga.gmina.pl/hook",  # an international name in its xn-- form
        "https://ops_hooks.gmina.pl:8443/hook?channel=pai",
        "https://ops.example.pl./hook",
        "https://193.0.96.129/hook",
        "https://[2001:4860:4860::8888]/hook",
    ],
)
def test_ordinary_partner_urls_are_accepted(url: str) -> None:
    assert list(partners.parse({"partners": [entry(url=url)]}, {}, "partners.yaml")) == ["1465011"]


INBOUND = "whsec_" + base64.b64encode(b"an inbound secret, 32 bytes....!").decode()


def inbound(data: Any, env: dict[str, str] | None = None) -> dict[str, Any]:
    return partners.parse(data, env or {}, "f", purpose="inbound")


def test_inbound_secrets_by_value_env_or_list_and_never_a_webhook_secret() -> None:
    env = {"OPS_INBOUND": INBOUND}
    found = inbound({"partners": [entry(inbound_secret=INBOUND)]})
    assert found["1465011"].inbound_keys == (base64.b64decode(INBOUND[6:]),)
    found = inbound({"partners": [entry(inbound_secret_env=["OPS_INBOUND"])]}, env)
    assert len(found["1465011"].inbound_keys) == 1
    assert inbound({"partners": [entry()]})["1465011"].inbound_keys == ()
    with pytest.raises(PartnersError, match=r"inbound_secret: the same secret as a webhook"):
        inbound({"partners": [entry(inbound_secret=SECRET)]})
    with pytest.raises(PartnersError, match=r"inbound_secret: the same secret as a webhook"):
        same = entry(secret=None, secret_env="HOOK", inbound_secret_env="OPS_INBOUND")
        inbound({"partners": [same]}, {"HOOK": INBOUND, "OPS_INBOUND": INBOUND})
    with pytest.raises(PartnersError, match=r"inbound_secret_env: the environment variable"):
        inbound({"partners": [entry(inbound_secret_env="MISSING")]})
    with pytest.raises(PartnersError, match=r"inbound_secret #1: a webhook secret must look"):
        inbound({"partners": [entry(inbound_secret="plain")]})
    with pytest.raises(PartnersError, match="at most one of inbound_secret"):
        both = entry(inbound_secret=INBOUND, inbound_secret_env="OPS_INBOUND")
        inbound({"partners": [both]}, env)


def test_each_service_needs_only_its_own_secrets_in_its_environment() -> None:
    """The notifier's pod has the webhook secrets, the gateway's the inbound ones."""
    both = entry(secret=None, secret_env="HOOK", inbound_secret_env="OPS_INBOUND")
    notifier = partners.parse({"partners": [both]}, {"HOOK": SECRET}, "f")
    assert notifier["1465011"].keys and notifier["1465011"].inbound_keys == ()
    gateway = inbound({"partners": [both]}, {"OPS_INBOUND": INBOUND})
    assert gateway["1465011"].inbound_keys and gateway["1465011"].keys == ()
