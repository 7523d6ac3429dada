"""The gateway's Ingress: only the partners' routes, and every post of one OPS to one pod
(so its de-duplication, replay guard and rate limit count per partner, not per route).

ingress-nginx, as documented and as its code does it: a regex path (``use-regex``) is
written as ``location ~* "^<path>"``; ``upstream-hash-by`` is "the nginx variable, text
value or any combination thereof" to hash, its ``$name`` read per request by the Lua
balancer (``util.generate_var_value``: ``ngx.var[name]``), and a named group of the
location's regex is such a variable. One test applies the rendered path and hash key the
same way to every route of docs/gateway.openapi.yaml; the other writes them into a real
nginx with the Lua module (what ingress-nginx runs) and posts to it.
"""

from __future__ import annotations

import http.client
import re
import zlib
from pathlib import Path
from typing import Any

import pytest

from services.gateway import openapi
from services.local.embedded_broker import free_ports
from tests.deploy.manifests import OVERLAYS, named, render
from tests.support import nginx

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


def ingress_nginx_servers(ingress: dict[str, Any], front: int, pods: tuple[int, int]) -> str:
    """The rendered Ingress as ingress-nginx writes it into nginx: its path a case-blind
    regex location (quotes and backslashes escaped), proxied to an upstream whose Lua
    balancer reads the key as ingress-nginx's chash does (each ``$name``/``${name}`` of
    upstream-hash-by is ``ngx.var[name]``) and picks one of two pods by its CRC-32; any
    other path is the default backend's 404. Each answer says the key (``X-Hash-Key``)."""
    [rule] = ingress["spec"]["rules"]
    [path] = rule["http"]["paths"]
    quoted = path["path"].replace("\\", "\\\\").replace('"', '\\"')
    hash_by = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/upstream-hash-by"]
    assert HASH_BY_VALID.match(hash_by), hash_by  # so it is safe inside a Lua string
    a, b = pods
    return f"""
  server {{ listen 127.0.0.1:{a}; location / {{ return 200 "a"; }} }}
  server {{ listen 127.0.0.1:{b}; location / {{ return 200 "b"; }} }}
  upstream pai_gateway {{
    server 0.0.0.1;
    balancer_by_lua_block {{
      local var = function(name) return ngx.var[name] or "" end
      local key = string.gsub(string.gsub("{hash_by}", "%${{([%w_]+)}}", var), "%$([%w_]+)", var)
      ngx.ctx.key = key
      local port = ngx.crc32_long(key) % 2 == 0 and {a} or {b}
      assert(require("ngx.balancer").set_current_peer("127.0.0.1", port))
    }}
  }}
  server {{
    listen 127.0.0.1:{front};
    location ~* "^{quoted}" {{
      header_filter_by_lua_block {{ ngx.header["X-Hash-Key"] = ngx.ctx.key }}
      proxy_pass http://pai_gateway;
    }}
    location / {{ return 404; }}
  }}"""


def test_nginx_as_ingress_nginx_runs_it_sends_each_ops_to_one_pod(tmp_path: Path) -> None:
    ingress = named(render("prod"), "Ingress", "pai-gateway")
    front, *backends = free_ports(3)  # distinct (asked one by one, a port can come twice)
    pods = (backends[0], backends[1])
    codes = (*PARTNERS, "1261011", "2462011", "0223011", "1816011", "3261011")
    with nginx.running(tmp_path, ingress_nginx_servers(ingress, front, pods), front):

        def post(path: str) -> tuple[int, str | None, str]:
            connection = http.client.HTTPConnection("127.0.0.1", front, timeout=10)
            try:  # http.client sends the path as written: no normalising on this side
                connection.request("POST", path, body=b"{}")
                answer = connection.getresponse()
                return answer.status, answer.getheader("X-Hash-Key"), answer.read().decode()
            finally:
                connection.close()

        for ops_code in codes:
            spellings = [
                *routes_of(ops_code),
                f"/v1/partners/%{ord(ops_code[0]):02X}{ops_code[1:]}/events:batch",
                f"/v1//partners/{ops_code}/./events",
                f"/v1/other/../partners/{ops_code}/events?x=1",
            ]
            pod = "ab"[zlib.crc32(ops_code.encode()) % 2]
            assert {post(p) for p in spellings} == {(200, ops_code, pod)}, ops_code
        pods_used = {"ab"[zlib.crc32(c.encode()) % 2] for c in codes}
        assert pods_used == {"a", "b"}  # the key tells OPS apart: both pods serve some
        for inside in ("/metrics", "/health/ready", "/v1/partners/"):
            assert post(inside)[0] == 404, inside
