"""The gateway's Ingress: /v1/ only, and each URL to one pod (so one OPS's posts to a
route meet one worker's de-duplication, replay guard and rate limit)."""

from __future__ import annotations

import pytest

from services.gateway import openapi
from tests.deploy.manifests import OVERLAYS, named, render


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ingress_hashes_the_path_that_holds_the_ops_code_to_one_pod(overlay: str) -> None:
    objects = render(overlay)
    ingress = named(objects, "Ingress", "pai-gateway")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/upstream-hash-by"] == "$uri"
    [rule] = ingress["spec"]["rules"]
    [path] = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/v1/", "Prefix")
    assert path["backend"]["service"]["name"] == "pai-gateway"
    # the path alone tells partners apart: every route has the ops_code in it
    routes = openapi.document()["paths"]
    assert routes and all(p.startswith("/v1/partners/{ops_code}/") for p in routes)
