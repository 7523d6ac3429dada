"""Every PAI_ setting the services read is set for every service, on Kubernetes and in compose.

The settings are the fields of ``Settings`` (read as ``PAI_<FIELD>``) plus every
``PAI_[A-Z0-9_]+`` literal in ``services/**/*.py``. A literal that is the ``secret_env`` of
a partner in a committed partners file is a webhook secret, not a setting: on Kubernetes it
comes from the Secret pai-partner-secrets (envFrom), in compose it is set for the notifier
and the demo receiver. The variables only the operator CLI reads, for the caller's own
credentials (``CLI_ONLY_VARIABLES``: ``PAI_OPERATOR_TOKEN``), are no setting either, and
no workload may set them. Nothing else is exempt. A variable set in the manifests that no
service reads is an error too: pydantic ignores unknown PAI_ names, so a misspelt one
would silently fall back to its default.
"""

from __future__ import annotations

import re

import pytest
import yaml

from services.personal_data.commands import CLI_ONLY_VARIABLES
from services.runtime.settings import ENV_PREFIX, Settings
from tests.deploy.manifests import (
    DEPLOY,
    OVERLAYS,
    ROOT,
    SERVICES,
    compose,
    config_map,
    render,
    workload,
)

LITERAL = re.compile(r"\bPAI_[A-Z0-9_]+\b")
PARTNERS_FILES = [
    DEPLOY / "compose" / "partners.yaml",
    *sorted(DEPLOY.glob("k8s/**/partners.yaml")),
]


def settings_fields() -> set[str]:
    return {ENV_PREFIX + name.upper() for name in Settings.model_fields}


def literals_in_code() -> set[str]:
    return {
        name
        for path in (ROOT / "services").rglob("*.py")
        for name in LITERAL.findall(path.read_text(encoding="utf-8"))
    }


def partner_secret_variables() -> set[str]:
    names: set[str] = set()
    for path in PARTNERS_FILES:
        for partner in yaml.safe_load(path.read_text(encoding="utf-8"))["partners"]:
            for key in ("secret_env", "inbound_secret_env"):
                value = partner.get(key) or []
                names |= {value} if isinstance(value, str) else set(value)
    return names


def expected() -> set[str]:
    return (
        (settings_fields() | literals_in_code()) - partner_secret_variables() - CLI_ONLY_VARIABLES
    )


def kubernetes_variables(overlay: str, service: str) -> set[str]:
    objects = render(overlay)
    spec = workload(objects, service)["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    names = {variable["name"] for variable in container.get("env", [])}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            base = re.sub(r"-[a-z0-9]{10}$", "", source["configMapRef"]["name"])
            names |= set(config_map(objects, base)["data"])
    return names


def test_the_expected_set_is_read_from_the_code() -> None:
    names = expected()
    assert {"PAI_KAFKA_BOOTSTRAP", "PAI_PARTNERS_FILE", "PAI_WEB_HOST", "PAI_ADMIN_TOKEN"} <= names
    exempt = settings_fields() | partner_secret_variables() | CLI_ONLY_VARIABLES
    assert literals_in_code() <= exempt, (
        "a PAI_ name in services/ is neither a setting nor a partner secret nor CLI-only:"
        f" {sorted(literals_in_code() - exempt)}"
    )
    assert not CLI_ONLY_VARIABLES & settings_fields()


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_no_workload_carries_an_operators_own_token(overlay: str, service: str) -> None:
    assert not CLI_ONLY_VARIABLES & kubernetes_variables(overlay, service)
    assert not CLI_ONLY_VARIABLES & set(compose()["services"][service]["environment"])


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_kubernetes_sets_every_setting(overlay: str, service: str) -> None:
    names = {n for n in kubernetes_variables(overlay, service) if n.startswith(ENV_PREFIX)}
    assert names == expected(), (
        f"missing {sorted(expected() - names)}, unknown {sorted(names - expected())}"
    )


@pytest.mark.parametrize("service", SERVICES)
def test_compose_sets_every_setting(service: str) -> None:
    environment = compose()["services"][service]["environment"]
    assert isinstance(environment, dict), "environment as a mapping (x-pai-env)"
    names = {n for n in environment if n.startswith(ENV_PREFIX)} - partner_secret_variables()
    assert names == expected(), (
        f"missing {sorted(expected() - names)}, unknown {sorted(names - expected())}"
    )


def test_compose_and_kubernetes_declare_the_same_variables() -> None:
    settings = set(config_map(render("prod"), "pai-settings")["data"])
    shared = set(compose()["x-pai-env"])
    assert settings <= shared
    # Kubernetes takes the rest from the pod (PAI_WEB_HOST), the service's KafkaUser and Secrets.
    assert shared - settings <= {
        "PAI_KAFKA_SASL_USERNAME",
        "PAI_KAFKA_SASL_PASSWORD",
        "PAI_ADMIN_TOKEN",
        "PAI_OPERATOR_TOKENS",
        "PAI_AUDIT_HASH_SECRET",
    }


def test_compose_sets_the_partner_secrets_where_partners_are_read() -> None:
    partners = yaml.safe_load((DEPLOY / "compose" / "partners.yaml").read_text(encoding="utf-8"))
    variables = {p["secret_env"] for p in partners["partners"]}
    assert variables
    for name in ("notifier", "receiver"):
        assert variables <= set(compose()["services"][name]["environment"]), name
