"""The gateway's Ingress: only the partners' routes, and every post of one OPS to one pod
(so its de-duplication, replay guard and rate limit count per partner, not per route).

ingress-nginx, as documented and as its code does it: a regex path (``use-regex``) is
written as ``location ~* "^<path>"``; ``upstream-hash-by`` is "the nginx variable, text
value or any combination thereof" to hash, its ``$name`` read per request by the Lua
balancer (``util.generate_var_value``: ``ngx.var[name]``), and a named group of the
location's regex is such a variable. The test applies the rendered path and hash key the
same way to every route of docs/gateway.openapi.yaml.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from services.gateway import openapi
from tests.deploy.manifests import OVERLAYS, named, render

HASH_BY_VALID = re.compile(r"^[A-Za-z0-9\-_${}]*$")
"""What ingress-nginx's annotation validator accepts for upstream-hash-by."""
PARTNERS = ("1465011", "0261011", "3064011")


def routes_of(ops_code: str) -> list[str]:
    """Every URL path the OpenAPI document gives an OPS, and spellings of them nginx
    normalises to the same ``$uri`` (a query string is never part of it)."""
    paths = [p.replace("{ops_code}", ops_code) for p in openapi.document()["paths"]]
    return paths + [p.upper() for p in paths] + [p + "/" for p in paths]


def location_and_hash(ingress: dict[str, Any]) -> tuple[re.Pattern[str], str]:
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/use-regex"] == "true"
    [rule] = ingress["spec"]["rules"]
    [path] = rule["http"]["paths"]
    assert path["pathType"] == "ImplementationSpecific"  # a regex is refused with Prefix
    assert path["backend"]["service"]["name"] == "pai-gateway"
    hash_by = annotations["nginx.ingress.kubernetes.io/upstream-hash-by"]
    assert HASH_BY_VALID.match(hash_by), hash_by
    return re.compile("^" + path["path"], re.IGNORECASE), hash_by


def hash_key(location: re.Pattern[str], hash_by: str, uri: str) -> str | None:
    """The key ingress-nginx hashes for ``uri``; None when the Ingress does not route it."""
    found = location.match(uri)
    if found is None:
        return None
    variables = found.groupdict()

    def value(name: re.Match[str]) -> str:
        variable = name.group(1) or name.group(2)
        assert variable in variables, f"${variable} is not captured by the Ingress path"
        return variables[variable]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, hash_by)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_post_of_one_ops_hashes_to_its_ops_code_alone(overlay: str) -> None:
    ingress = named(render(overlay), "Ingress", "pai-gateway")
    location, hash_by = location_and_hash(ingress)
    for ops_code in PARTNERS:
        keys = {uri: hash_key(location, hash_by, uri) for uri in routes_of(ops_code)}
        assert set(keys.values()) == {ops_code}, keys  # /events and /events:batch alike
    for inside in ("/metrics", "/health/ready", "/health/live", "/v1/", "/v1/partners/"):
        assert hash_key(location, hash_by, inside) is None, f"{inside} is exposed"
