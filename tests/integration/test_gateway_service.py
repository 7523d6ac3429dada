"""The gateway as a process, through real HTTP and the session's broker.

1,000 posts (valid, repeated, conflicting, another OPS's, malformed, badly signed,
stale, replayed): exactly the valid, own, first-time events reach the topics, once
each, keyed and partitioned as a native producer writes them, and every other post
has its status. ``kill -9`` of the gateway between batches: no acknowledged event is
lost and the client's retry of the unanswered batch writes each event once.
Schemathesis drives the running process from docs/gateway.openapi.yaml.
"""

from __future__ import annotations

import gzip
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import hypothesis as hyp
import orjson
import pytest
import schemathesis
from hypothesis import strategies as hyp_st
from schemathesis import checks

from services.runtime.partitioning import expected_partition
from services.runtime.processes import terminate
from tests.support.events import pesel_from
from tests.support.gateway import (
    INBOUND_SECRET,
    OPS,
    OTHER_INBOUND_SECRET,
    OTHER_OPS,
    benefits_granted,
    gateway_partners,
    hours_reported,
    on_topics,
    post,
    signed_headers,
)
from tests.support.workers import (
    PARTITIONS,
    WORKER_ENV,
    start_broker,
    start_module,
    wait_ready,
)

pytestmark = pytest.mark.integration


class Gateway:
    def __init__(self, bootstrap: str, directory: Path, **env: str) -> None:
        self.bootstrap, self.directory, self.env = bootstrap, directory, env
        self.log = directory / "gateway.log"
        self.partners = gateway_partners(
            directory / "partners.yaml", inbound_rate_per_s=10_000, inbound_burst=100_000
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self) -> Gateway:
        self.process, self.port = start_module(
            ["services.gateway"],
            self.bootstrap,
            self.directory / "data",
            self.log,
            PAI_PARTNERS_FILE=str(self.partners),
            **(WORKER_ENV | self.env),
        )
        wait_ready(self.process, self.port, 60, self.log)
        return self

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            terminate(self.process)


@pytest.fixture(scope="module")
def gateway(broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    running = Gateway(broker.bootstrap, tmp_path_factory.mktemp("gateway")).start()
    try:
        yield running
    finally:
        running.stop()


def test_a_thousand_posts_only_valid_own_first_time_events_reach_the_topics(gateway) -> None:
    rng = random.Random(17)
    valid = [(benefits_granted if n % 2 else hours_reported)(10_000 + n) for n in range(500)]
    posts: list[tuple[str, Any, dict[str, str]]] = []  # (expected outcome, body, headers)

    def signed(kind: str, body: Any, **headers: str) -> None:
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        posts.append((kind, raw, signed_headers(raw) | headers))

    for event in valid:
        signed("202", event)
    repeats = rng.sample(valid, 100)
    for event in repeats:
        signed("200", event)
    for event in rng.sample([e for e in valid if e not in repeats], 50):
        other = {
            "type": event["type"],
            "data": {**event["data"], "occurred_at": "2026-03-10T00:00:00Z"},
        }
        signed("409", other)
    for n in range(100):
        signed("403", benefits_granted(20_000 + n, ops=OTHER_OPS))
    malformed: list[Any] = [
        benefits_granted(1, person_id="12345678901"),
        hours_reported(2, week_start="2026-03-03"),
        hours_reported(3, hours=168.5),
        hours_reported(4, hours=1.005),
        benefits_granted(5, granted_on="2026-02-30"),
        benefits_granted(6, valid_until="2020-01-01"),
        {"type": "PsuHoursReported", "data": {}},
        {"events": []},
        b"{not json",
    ]
    for n in range(90):
        signed("400", malformed[n % len(malformed)])
    for n in range(10):
        raw = orjson.dumps(benefits_granted(30_000 + n))
        posts.append(("415", raw, signed_headers(raw) | {"content-type": "text/plain"}))
    for n in range(70):
        raw = orjson.dumps(benefits_granted(40_000 + n))
        posts.append(("401", raw, signed_headers(raw, OTHER_INBOUND_SECRET)))
    for n in range(30):
        raw = orjson.dumps(benefits_granted(50_000 + n))
        posts.append(("401", raw, signed_headers(raw, at=time.time() - 400)))
    # replays: the very request (headers and body) of an accepted post, sent again
    accepted_posts = [p for p in posts if p[0] == "202"]
    first, later = accepted_posts[:450], accepted_posts[450:]
    replays = [("401", body, headers) for _, body, headers in later]
    assert len(posts) + len(replays) == 1000
    rest = [p for p in posts if p[0] != "202"]
    rng.shuffle(rest)
    url = f"http://127.0.0.1:{gateway.port}/v1/partners/{OPS}/events"

    client = httpx.Client(timeout=30)  # shared by the threads: one SSL context, pooled

    def send(item: tuple[str, Any, dict[str, str]]) -> tuple[str, httpx.Response]:
        return item[0], client.post(url, content=item[1], headers=item[2])

    with client, ThreadPoolExecutor(8) as pool:
        # first-time events before their repeats and conflicts, replays after their original
        answers = list(pool.map(send, first + later))
        answers += list(pool.map(send, rest + replays))
    got = Counter((kind, response.status_code) for kind, response in answers)
    wrong = {k: n for k, n in got.items() if k[0] != str(k[1])}
    assert not wrong, (wrong, [r.text for k, r in answers if k != str(r.status_code)][:5])
    coordinates = {r.json()["event_id"]: r.json() for kind, r in answers if kind == "202"}
    for kind, response in answers:
        body = response.json()
        if kind == "200":  # the first write's coordinates
            assert body == coordinates[body["event_id"]]
        elif kind not in ("202",):
            assert body["errors"] and all({"path", "message"} <= e.keys() for e in body["errors"])
    ids = {str(e["data"]["event_id"]) for e in valid}
    every_id = ids | {
        str(orjson.loads(b)["data"].get("event_id"))
        for _, b, _ in posts
        if b.startswith(b'{"type"') and b'"data"' in b
    }
    found = on_topics(gateway.bootstrap, every_id)
    assert set(found) == ids
    for event_id, copies in found.items():
        assert len(copies) == 1, event_id
        record, decoded = copies[0]
        assert record.key == decoded.fields["person_id"].encode()
        assert record.partition == expected_partition(record.key, PARTITIONS)
        where = coordinates[event_id]
        assert (record.topic, record.partition, record.offset) == (
            where["topic"],
            where["partition"],
            where["offset"],
        )


def test_kill_9_between_batches_loses_no_acknowledged_event_and_a_retry_writes_once(
    broker, tmp_path: Path
) -> None:
    gateway = Gateway(broker.bootstrap, tmp_path).start()
    batches = [[benefits_granted(60_000 + b * 100 + n) for n in range(100)] for b in range(30)]
    acknowledged: dict[str, dict[str, Any]] = {}
    unanswered: list[list[dict[str, Any]]] = []
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(timeout=30) as http:
            for batch in batches:
                try:
                    response = post(http, gateway.port, {"events": batch}, batch=True)
                except httpx.TransportError:
                    unanswered.append(batch)
                    stop.wait(60)
                    continue
                for result in response.json()["results"]:
                    assert result["status"] == 202, result
                    acknowledged[result["event_id"]] = result

    try:
        thread = threading.Thread(target=client)
        thread.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 500 and time.monotonic() < deadline:
            time.sleep(0.002)
        gateway.kill()
        thread_alive_at_kill = thread.is_alive()
        gateway.start()  # same settings, new port: the client is told below
        stop.set()
        thread.join()
        assert thread_alive_at_kill
        assert unanswered, "the kill fell between two batches: no request was cut"
        cut = {str(e["data"]["event_id"]) for batch in unanswered for e in batch}
        written_before_retry = len(on_topics(broker.bootstrap, cut))
        # the client retries what got no answer (a new request: new webhook-id and timestamp)
        with httpx.Client(timeout=30) as http:
            retried = [
                post(http, gateway.port, {"events": batch}, batch=True).json()["results"]
                for batch in unanswered
            ]
        statuses = Counter(r["status"] for results in retried for r in results)
        assert set(statuses) <= {200, 202}, statuses
        # those the killed gateway had written are answered as repeats, with their coordinates
        assert statuses[200] == written_before_retry, (statuses, written_before_retry)
        ids = {str(e["data"]["event_id"]) for batch in batches for e in batch}
        found = on_topics(broker.bootstrap, ids)
        assert set(found) == ids  # acknowledged ones included: nothing lost
        assert all(len(copies) == 1 for copies in found.values())  # each written once
        for event_id, result in acknowledged.items():
            record, _ = found[event_id][0]
            assert (record.partition, record.offset) == (result["partition"], result["offset"])
    finally:
        gateway.stop()


def test_a_second_worker_knows_what_the_first_wrote(gateway, broker, tmp_path: Path) -> None:
    """The de-duplication is shared through Kafka: a repeat posted to another worker writes
    nothing and answers with the first write's coordinates; so does other content, 409."""
    other = Gateway(broker.bootstrap, tmp_path).start()
    try:
        event = hours_reported(97_000)
        with httpx.Client(timeout=30) as client:
            first = post(client, gateway.port, event)
            assert first.status_code == 202
            time.sleep(1)  # the other worker reads the topic continuously (~4 ms here)
            again = post(client, other.port, event)
            assert (again.status_code, again.json()) == (200, first.json())
            changed = {"type": event["type"], "data": {**event["data"], "hours": 12}}
            assert post(client, other.port, changed).status_code == 409
    finally:
        other.stop()


def test_a_retry_while_kafka_stalls_waits_for_the_first_write_and_writes_once(
    tmp_path: Path,
) -> None:
    """The broker process stopped (SIGSTOP) during a post: 503, and 503 for the retry; once
    it goes on, the next retry is a 200 with the first write's coordinates and the event is
    on the topic once (a write that timed out still reaches the topic: it is not sent
    again). A broker of its own (tansu): stopping the session's would stall other tests."""
    broker = start_broker(tmp_path / "broker.log")
    gateway = Gateway(broker.bootstrap, tmp_path, PAI_GATEWAY_WRITE_TIMEOUT_S="1")
    try:
        gateway.start()
        event = benefits_granted(70_001)
        with httpx.Client(timeout=30) as client:
            assert post(client, gateway.port, benefits_granted(70_000)).status_code == 202
            pid = broker.pid
            os.kill(pid, signal.SIGSTOP)
            try:
                stalled = [post(client, gateway.port, event) for _ in range(2)]
            finally:
                os.kill(pid, signal.SIGCONT)
            assert [r.status_code for r in stalled] == [503, 503], [r.text for r in stalled]
            for response in stalled:
                message = response.json()["errors"][0]["message"]
                assert "may have been written" in message and "same event_id" in message
                assert int(response.headers["Retry-After"]) >= 1
            after = post(client, gateway.port, event)
        assert after.status_code == 200, after.text
        copies = on_topics(broker.bootstrap, {event["data"]["event_id"]})
        [(record, _)] = copies[event["data"]["event_id"]]
        assert (after.json()["partition"], after.json()["offset"]) == (
            record.partition,
            record.offset,
        )
    finally:
        gateway.stop()
        broker.stop()


def test_bodies_over_the_limits_are_413_and_an_unknown_partner_401(gateway) -> None:
    with httpx.Client(timeout=10) as client:
        huge = benefits_granted(1, padding="x" * 70_000)
        assert post(client, gateway.port, huge).status_code == 413
        many = {"events": [benefits_granted(1, padding="x" * 3000)] * 400}
        assert post(client, gateway.port, many, batch=True).status_code == 413
        too_many = {"events": [benefits_granted(90_000 + n) for n in range(501)]}
        response = post(client, gateway.port, too_many, batch=True)
        assert response.status_code == 400
        assert response.json()["errors"][0]["path"] == "events"
        assert post(client, gateway.port, benefits_granted(2), ops="9999999").status_code == 401


def test_compressed_other_charsets_loose_dates_odd_ids_and_unknown_partners_are_refused(
    gateway,
) -> None:
    """What a careless or hostile client sends, each refused as docs/gateway.md says; an
    unknown ops_code is answered exactly as a bad signature (no partner enumeration)."""
    url = f"http://127.0.0.1:{gateway.port}/v1/partners/{OPS}/events"
    with httpx.Client(timeout=10) as client:
        body = orjson.dumps(benefits_granted(60_001))
        gzipped = signed_headers(body) | {"content-encoding": "gzip"}
        response = client.post(url, content=gzip.compress(body), headers=gzipped)
        assert response.status_code == 415, response.text
        utf16 = signed_headers(body) | {"content-type": "application/json; charset=utf-16"}
        assert client.post(url, content=body, headers=utf16).status_code == 415
        utf8 = signed_headers(body) | {"content-type": "application/json; charset=UTF-8"}
        assert client.post(url, content=body, headers=utf8).status_code == 202
        for field, value in (
            ("granted_on", "2026-W10-1"),
            ("granted_on", "20260301"),
            ("occurred_at", "20260302T100000Z"),
            ("occurred_at", "2026-03-02T10:00Z"),
            ("occurred_at", "2026-W10-1T10:00:00Z"),
        ):
            response = post(client, gateway.port, benefits_granted(60_002, **{field: value}))
            assert response.status_code == 400, (value, response.text)
            assert response.json()["errors"][0]["path"] == f"data.{field}"
        for webhook_id in ("msg 1", "msg.1", "msg_\t1", "x" * 257):
            odd = signed_headers(body) | {"webhook-id": webhook_id}
            response = client.post(url, content=body, headers=odd)
            assert response.status_code == 401
            assert response.json()["errors"][0]["message"].startswith("webhook-id must be")
        event = benefits_granted(60_004)
        unknown = post(client, gateway.port, event, ops="9999999")
        badly_signed = post(client, gateway.port, event, secret=OTHER_INBOUND_SECRET)
        assert unknown.status_code == badly_signed.status_code == 401
        assert unknown.json() == badly_signed.json()
        unsigned = {"content-type": "application/json"}
        answers = [
            client.post(
                f"http://127.0.0.1:{gateway.port}/v1/partners/{ops}/events",
                content=body,
                headers=unsigned,
            )
            for ops in ("9999999", OPS)
        ]
        assert [a.status_code for a in answers] == [401, 401]
        assert answers[0].json() == answers[1].json()


def test_a_large_batch_sent_in_small_chunks_is_read_whole(gateway) -> None:
    """~100 KB with chunked transfer encoding, 1 KiB at a time: no length announced."""
    body = orjson.dumps({"events": [hours_reported(96_000 + n) for n in range(400)]})
    assert len(body) > 100_000
    chunks = (body[i : i + 1024] for i in range(0, len(body), 1024))
    url = f"http://127.0.0.1:{gateway.port}/v1/partners/{OPS}/events:batch"
    with httpx.Client(timeout=30) as client:
        response = client.post(url, content=chunks, headers=signed_headers(body))
    assert response.status_code == 200, response.text
    assert {r["status"] for r in response.json()["results"]} == {202}


def test_over_the_rate_a_partner_gets_429_with_retry_after(broker, tmp_path: Path) -> None:
    gateway = Gateway(broker.bootstrap, tmp_path)
    gateway.partners = gateway_partners(
        tmp_path / "partners.yaml", inbound_rate_per_s=1, inbound_burst=3
    )
    gateway.start()
    try:
        with httpx.Client(timeout=10) as client:
            statuses = [post(client, gateway.port, benefits_granted(80_000 + n)) for n in range(5)]
        assert [r.status_code for r in statuses] == [202, 202, 202, 429, 429]
        assert int(statuses[3].headers["Retry-After"]) >= 1
        time.sleep(int(statuses[4].headers["Retry-After"]))
        with httpx.Client(timeout=10) as client:
            assert post(client, gateway.port, benefits_granted(80_100)).status_code == 202
    finally:
        gateway.stop()


SCHEMA = schemathesis.openapi.from_path(Path(__file__).parents[2] / "docs" / "gateway.openapi.yaml")
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.mark.parametrize(
    "path", ["/v1/partners/{ops_code}/events", "/v1/partners/{ops_code}/events:batch"]
)
def test_schemathesis_finds_no_5xx_and_no_answer_outside_the_document(gateway, path: str) -> None:
    """Bodies generated from docs/gateway.openapi.yaml: as they come (random ops_code and
    headers), posted for a known OPS and signed with its inbound secret, or that and given a
    valid PESEL and the OPS's own code, so the checks and the writes are reached, not only
    the signature's refusal."""
    operation = SCHEMA[path]["POST"]
    client = httpx.Client(timeout=30)
    seen: Counter[int] = Counter()

    @hyp.settings(max_examples=60, deadline=None, suppress_health_check=list(hyp.HealthCheck))
    @hyp.given(
        case=operation.as_strategy(),
        how=hyp_st.sampled_from(["as generated", "signed", "signed, own and valid PESEL"]),
    )
    def run(case, how: str) -> None:
        if how == "signed, own and valid PESEL":
            body_object: Any = case.body
            items = body_object.get("events", [body_object])
            for n, item in enumerate(items):
                item["data"] |= {"person_id": pesel_from(95_000 + n), "ops_code": OPS}
        body = orjson.dumps(case.body)
        headers = {k: str(v) for k, v in (case.headers or {}).items()}
        headers["content-type"] = "application/json"
        if how != "as generated":
            case.path_parameters = {"ops_code": OPS}
            headers |= signed_headers(body)
        url = f"http://127.0.0.1:{gateway.port}" + case.formatted_path
        response = client.post(url, content=body, headers=headers)
        seen[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    with client:
        run()
    assert seen[401] and len(seen) > 1, seen  # both the refusals and the checks were reached


EXAMPLES = Path(__file__).parents[2] / "examples" / "gateway"
JAVA_WEBHOOKS = Path(__file__).parents[2] / ".tools" / "standardwebhooks"


@pytest.mark.parametrize(
    "client",
    [
        ["bash", str(EXAMPLES / "post-event.sh")],
        [sys.executable, str(EXAMPLES / "post_event.py")],
        [
            "java",
            "-cp",
            str(JAVA_WEBHOOKS / "standardwebhooks-1.2.0.jar"),
            str(EXAMPLES / "PostEvent.java"),
        ],
    ],
    ids=["curl and openssl", "python", "java"],
)
def test_the_guides_examples_post_an_event(gateway, client: list[str], tmp_path: Path) -> None:
    """docs/gateway.md's three clients, run as an OPS developer would: written, a repeat,
    and the same event_id with other content."""
    event = orjson.loads((EXAMPLES / "event.json").read_bytes())
    event["data"]["event_id"] = str(uuid.uuid4())
    path = tmp_path / "event.json"
    path.write_bytes(orjson.dumps(event))
    env = os.environ | {
        "GATEWAY": f"http://127.0.0.1:{gateway.port}",
        "OPS_CODE": OPS,
        "INBOUND_SECRET": INBOUND_SECRET,
    }

    def run() -> tuple[int, str]:
        done = subprocess.run(
            [*client, str(path)], env=env, capture_output=True, text=True, timeout=120
        )
        status, _, body = done.stdout.strip().partition(" ")
        assert status.isdigit(), done.stdout + done.stderr
        assert done.returncode == (0 if status in ("200", "202") else 1), done.stderr
        return int(status), body

    status, body = run()
    assert status == 202, body
    written = orjson.loads(body)
    assert written["topic"] == "pai.ops.social-assistance.v1"
    assert run() == (200, body)
    event["data"]["valid_until"] = "2026-09-30"
    path.write_bytes(orjson.dumps(event))
    status, body = run()
    assert status == 409 and orjson.loads(body)["errors"][0]["path"] == "data.event_id"
