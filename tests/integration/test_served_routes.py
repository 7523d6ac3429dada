"""Every route each running service serves, as its own web server lists them: only health and
metrics are open; every other route needs the operator token, on every worker (the gateway's
POST routes an OPS's signature instead: the operator token opens nothing there), and Faust's
built-in views (``/table/...``, ``/router/...``, statistics, graph, index) are not served.

The services run as processes on a broker of their own (so the notifier's group reads
nothing another test left), under ``tests.support.route_listing``, which writes down the
routes of the aiohttp application each one actually started.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.local.embedded_broker import EmbeddedBroker
from services.runtime.operator_views import FORWARDED, forward_proof
from services.runtime.operators import forwarding_secret
from services.runtime.processes import terminate
from tests.integration.kafka_helpers import produce
from tests.integration.service_helpers import wait_for
from tests.support import events as ev
from tests.support.receiver import loopback_partner, write_partners
from tests.support.workers import TOKEN, WORKER_ENV, start_broker, start_module, wait_ready

pytestmark = pytest.mark.integration

PUBLIC = {("GET", "/health/live"), ("GET", "/health/ready"), ("GET", "/metrics")}
"""The only routes anyone may read: they never show a person."""
FAUST_VIEWS = [
    "/",
    "/table/",
    "/table/{table}/",
    "/table/{table}/{pesel}/",
    "/table/{table}/{pesel}",
    "/router/",
    "/router/{table}/",
    "/router/{table}/{pesel}/",
    "/graph/",
    "/stats/",
    "/assignment/",
    "/performance/",
]
PERSONS = [ev.pesel_from(880_000 + n) for n in range(8)]
DAY = dt.date(2026, 3, 2)


class Running:
    def __init__(self, service: str, process: subprocess.Popen[bytes], port: int, routes: Path):
        self.service, self.process, self.port, self.routes_file = service, process, port, routes

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def routes(self) -> set[tuple[str, str]]:
        return {(method, path) for method, path in json.loads(self.routes_file.read_text())}


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Running]]:
    tmp_path = Path(tmp_path_factory.mktemp("routes"))
    broker = start_broker(tmp_path / "tansu.log")
    partners = write_partners(
        tmp_path / "partners.yaml",
        loopback_partner("1465011", "http://127.0.0.1:9/hooks", "whsec_" + "QUJD" * 8),
    )
    running: list[Running] = []
    try:
        for service, name in (
            ("services.eligibility.__main__", "eligibility-a"),
            ("services.eligibility.__main__", "eligibility-b"),
            ("services.scheduler.__main__", "scheduler"),
            ("services.notifier.__main__", "notifier"),
            ("services.gateway.__main__", "gateway"),
        ):
            running.append(
                start_service(service, broker, tmp_path, name, PAI_PARTNERS_FILE=str(partners))
            )
        for worker in running:
            wait_ready(worker.process, worker.port, 60, tmp_path / f"{worker.service}.log")
            wait_for(worker.routes_file.exists, 10, f"the routes of {worker.service}")
        asyncio.run(
            produce(
                broker.bootstrap,
                "pai.pup.profiles.v1",
                [ev.registered(p, DAY, 0) for p in PERSONS],
            )
        )
        asyncio.run(
            produce(
                broker.bootstrap,
                "pai.eligibility.decisions.v1",
                [ev.decision(p, False, DAY) for p in PERSONS],
            )
        )
        yield running
    finally:
        for worker in running:
            terminate(worker.process, grace_s=15)
        broker.stop()


def start_service(
    module: str, broker: EmbeddedBroker, tmp_path: Path, name: str, **env: str
) -> Running:
    """``module``'s main() under the route listing, as a worker process."""
    routes = tmp_path / f"{name}.routes.json"
    process, port = start_module(
        ["tests.support.route_listing", module],
        broker.bootstrap,
        tmp_path / name,
        tmp_path / f"{name}.log",
        **(WORKER_ENV | env | {"PAI_TEST_ROUTES_FILE": str(routes)}),
    )
    return Running(name, process, port, routes)


def concrete(path: str, pesel: str) -> str:
    return path.replace("{pesel}", pesel).replace("{table}", "persons")


def test_only_health_and_metrics_are_open_and_every_other_route_needs_the_token(
    services: list[Running],
) -> None:
    for worker in services:
        routes = worker.routes()
        assert routes >= PUBLIC, (worker.service, routes)
        assert not any(p.startswith(("/table", "/router", "/graph", "/stats")) for _, p in routes)
        for method, path in sorted(routes - PUBLIC):
            if method == "HEAD":  # aiohttp's HEAD twin of a GET route: checked with the GET
                assert ("GET", path) in routes
                continue
            if method == "POST":  # the gateway's: signed by an OPS, never the operator token
                url = worker.url(path.replace("{ops_code}", "1465011"))
                body = b'{"type": "BenefitsGranted", "data": {}}'
                json_type = {"content-type": "application/json"}
                for headers in ({}, {"Authorization": f"Bearer {TOKEN}"}):
                    answer = httpx.post(url, content=body, headers=json_type | headers)
                    assert answer.status_code == 401, (worker.service, path, answer.text)
                continue
            assert method in ("GET", "DELETE"), (worker.service, method, path)
            url = worker.url(concrete(path, PERSONS[0]))
            call = httpx.get if method == "GET" else httpx.delete
            assert call(url, timeout=10).status_code == 401, (worker.service, path)
            wrong = {"Authorization": f"Bearer {TOKEN[:-1]}x"}
            assert call(url, headers=wrong, timeout=10).status_code == 401
            forged = {FORWARDED: f"{int(time.time())}.AAAA"}
            assert call(url, headers=forged, timeout=10).status_code == 401
    erasing = {w.service: {p for m, p in w.routes() if m == "DELETE"} for w in services}
    assert erasing == {
        "eligibility-a": {"/persons/{pesel}"},
        "eligibility-b": {"/persons/{pesel}"},
        "scheduler": {"/persons/{pesel}/cycles"},
        "notifier": set(),
        "gateway": set(),
    }
    public = {path for _, path in PUBLIC}
    served = {w.service: {p for _, p in w.routes()} - public for w in services}
    assert served == {
        "eligibility-a": {"/persons/{pesel}"},
        "eligibility-b": {"/persons/{pesel}"},
        "scheduler": {"/persons/{pesel}/cycles"},
        "notifier": {"/persons/{pesel}/disclosures"},
        "gateway": {"/v1/partners/{ops_code}/events", "/v1/partners/{ops_code}/events:batch"},
    }


def test_faust_built_in_views_answer_404_with_or_without_the_token(
    services: list[Running],
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for worker in services:
        for path in FAUST_VIEWS:
            for headers in ({}, auth):
                answer = httpx.get(worker.url(concrete(path, PERSONS[0])), headers=headers)
                assert answer.status_code == 404, (worker.service, path, answer.text[:200])
                assert PERSONS[0] not in answer.text


def test_the_open_routes_show_no_person(services: list[Running]) -> None:
    for worker in services:
        for _method, path in PUBLIC:
            text = httpx.get(worker.url(path), timeout=10).text
            assert not any(p in text for p in PERSONS), (worker.service, path)


def test_with_the_token_every_worker_answers_with_the_owners_state(
    services: list[Running],
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    eligibility = [w for w in services if w.service.startswith("eligibility")]
    scheduler = next(w for w in services if w.service == "scheduler")

    def both(person: str) -> list[httpx.Response] | None:
        got = [
            httpx.get(w.url(f"/persons/{person}"), headers=auth, timeout=15) for w in eligibility
        ]
        return got if all(a.status_code == 200 for a in got) else None

    def cycles_of(person: str) -> httpx.Response | None:
        got = httpx.get(scheduler.url(f"/persons/{person}/cycles"), headers=auth, timeout=15)
        return got if got.status_code == 200 else None

    for person in PERSONS:
        answers = wait_for(lambda p=person: both(p), 30, "both eligibility workers to answer")
        assert answers[0].json() == answers[1].json()
        assert answers[0].json()["state"]["registered_on"] == DAY.isoformat()
        cycles = wait_for(lambda p=person: cycles_of(p), 30, "the scheduler to answer")
        assert cycles.json()


def test_a_forwarding_proof_is_bound_to_its_path_and_expires(services: list[Running]) -> None:
    worker = next(w for w in services if w.service == "eligibility-a")
    path = f"/persons/{PERSONS[1]}"
    other = f"/persons/{PERSONS[2]}"
    now = int(time.time())
    me = f"127.0.0.1:{worker.port}"
    key = forwarding_secret({"admin": TOKEN})  # PAI_ADMIN_TOKEN's default name
    stale = {FORWARDED: forward_proof(key, "GET", path, now - 120, me)}
    for_other = {FORWARDED: forward_proof(key, "GET", other, now, me)}
    for_another_worker = {FORWARDED: forward_proof(key, "GET", path, now, "127.0.0.1:1")}
    with_the_token_itself = {FORWARDED: forward_proof(TOKEN, "GET", path, now, me)}
    assert httpx.get(worker.url(path), headers=with_the_token_itself).status_code == 401
    assert httpx.get(worker.url(path), headers=stale, timeout=10).status_code == 401
    assert httpx.get(worker.url(path), headers=for_other, timeout=10).status_code == 401
    assert httpx.get(worker.url(path), headers=for_another_worker, timeout=10).status_code == 401
    for odd in ("\u00b2.a", "9" * 5000 + ".x", "", "."):
        headers = {FORWARDED.encode(): odd.encode()}
        assert httpx.get(worker.url(path), headers=headers, timeout=10).status_code == 401
    weird = {b"Authorization": b"Bearer \xff\xfe"}
    assert httpx.get(worker.url(path), headers=weird, timeout=10).status_code == 401
    fresh = {FORWARDED: forward_proof(key, "GET", path, now, me)}
    assert httpx.get(worker.url(path), headers=fresh, timeout=10).status_code in (200, 503)


def test_a_request_without_the_token_is_refused_before_it_is_forwarded(
    services: list[Running],
) -> None:
    """The worker asked refuses at once, even for persons whose owner cannot answer now
    (stopped): before, it forwarded the request, unauthenticated, and waited on the owner."""
    asker = next(w for w in services if w.service == "eligibility-a")
    owner = next(w for w in services if w.service == "eligibility-b")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    owner.process.send_signal(signal.SIGSTOP)
    try:
        for person in PERSONS:
            started = time.monotonic()
            answer = httpx.get(asker.url(f"/persons/{person}"), timeout=3)
            assert answer.status_code == 401 and time.monotonic() - started < 1, person
        hanging = 0  # the test is worth something only if the stopped worker owns someone
        for person in PERSONS:
            try:
                httpx.get(asker.url(f"/persons/{person}"), headers=auth, timeout=1.5)
            except httpx.TimeoutException:
                hanging += 1
                break
        assert hanging, "no person of the test is owned by the stopped worker"
    finally:
        owner.process.send_signal(signal.SIGCONT)
