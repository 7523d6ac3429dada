"""A three-broker Apache Kafka cluster (KRaft, replication 3, ``min.insync.replicas=2``, as the
prod overlay) losing brokers under load: ``kill -9`` of the leader of a partition the services
write, then of a second broker (no write reaches two in-sync replicas any more: the services
wait, say so on ``/health/ready`` and stay up), then both restarted. Every decision, deadline
and webhook arrives; repeats keep their ids and bodies. The time to recover is printed and
recorded in docs/operations.md.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from services.local.pipeline import LocalPipeline
from tests.e2e.test_crash_recovery import DAY, becoming_eligible, by_person, produce_many
from tests.integration.service_helpers import wait_for
from tests.support import events as ev
from tests.support.receiver import Receiver, loopback_partner, write_partners
from tests.support.workers import WORKER_ENV, broker_env, start_kafka

pytestmark = pytest.mark.e2e
PERSONS = 1500
OPS = "1465011"
SECRET = "whsec_" + base64.b64encode(b"cluster test webhook secret, 32.").decode()


async def leader_of(bootstrap: str, topic: str, partition: int) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (description,) = await admin.describe_topics([topic])
        found = next(p for p in description["partitions"] if p["partition"] == partition)
        return int(found["leader"])
    finally:
        await admin.close()


def webhooks(receiver: Receiver) -> dict[str, list[dict[str, Any]]]:
    """Every delivered body by webhook-id (repeats included)."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for request in receiver.requests("ops"):
        if 200 <= request.status < 300:
            found[request.headers["webhook-id"]].append(orjson.loads(request.body))
    return found


def types_by_person(receiver: Receiver) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for bodies in webhooks(receiver).values():
        found[bodies[0]["data"]["person_id"]].add(bodies[0]["type"])
    return found


def test_the_services_ride_out_losing_two_of_three_brokers(tmp_path: Path) -> None:
    cluster = start_kafka(tmp_path / "kafka", nodes_count=3, extra={"min.insync.replicas": "2"})
    receiver = Receiver().start()
    partners = write_partners(
        tmp_path / "partners.yaml", loopback_partner(OPS, receiver.url("ops"), SECRET)
    )
    env = WORKER_ENV | broker_env(cluster.bootstrap)
    env |= {
        "PAI_PARTNERS_FILE": str(partners),
        "PAI_TOPIC_REPLICATION_FACTOR": "3",  # Faust's changelogs and the retry topics too
        "PAI_NOTIFIER_RETRY_SCHEDULE": "1,2,5,10,30,60",
    }
    pipeline = LocalPipeline(tmp_path, bootstrap=cluster.bootstrap, env=env)
    bs = cluster.bootstrap
    persons = [ev.pesel_from(3_000_000 + n) for n in range(PERSONS)]
    wanted = set(persons)
    timings: dict[str, float] = {}
    try:
        asyncio.run(
            produce_many(
                bs,
                [
                    ("pai.clock.v1", b"", ev.tick(dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC))),
                    (
                        "pai.pup.program-editions.v1",
                        *ev.edition("ED-1", DAY, dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
                    ),
                ],
            )
        )
        pipeline.start_services()
        pipeline.wait_ready(120)
        asyncio.run(produce_many(bs, becoming_eligible(persons)))

        # under load: kill -9 the leader of a partition the services write
        wait_for(lambda: len(webhooks(receiver)) > 100, 120, "webhooks flowing", interval=0.5)
        first = asyncio.run(leader_of(bs, "pai.eligibility.decisions.v1", 0))
        cluster.kill(first)
        killed_at = time.monotonic()

        def decided() -> bool:
            found = by_person(bs, "pai.eligibility.decisions.v1", "eligibility-decisions", wanted)
            return len(found) == PERSONS and all(d[-1].fields["eligible"] for d in found.values())

        wait_for(decided, 240, "every decision with one broker down", interval=2)
        timings["one broker down: every decision"] = time.monotonic() - killed_at
        asyncio.run(
            produce_many(
                bs,
                [
                    ("pai.pup.participation.v1", *ev.referred(p, f"R-{p}", DAY, seq=9))
                    for p in persons
                ],
            )
        )
        wait_for(
            lambda: (
                sum("pai.referral.accepted" in t for t in types_by_person(receiver).values()) > 50
            ),
            120,
            "referrals flowing",
            interval=0.5,
        )
        second = next(
            n.node_id for n in cluster.nodes if n.process is not None and n.node_id != first
        )
        cluster.kill(second)
        lost_quorum_at = time.monotonic()

        def refusing() -> list[str]:
            said = []
            for service in pipeline.services:
                try:
                    answer = httpx.get(f"http://127.0.0.1:{service.port}/health/ready", timeout=5)
                except httpx.HTTPError:
                    continue
                if answer.status_code == 503:
                    said.append(f"{service.name}: {answer.text}")
            return said

        said = wait_for(refusing, 120, "a service to say it cannot write", interval=1)
        time.sleep(10)
        for service in pipeline.services:
            assert service.process is not None and service.process.poll() is None, (
                f"{service.name} exited with two brokers down: no crash loop, it waits"
            )
        timings["two brokers down: not ready after"] = time.monotonic() - lost_quorum_at

        restarted_at = time.monotonic()
        cluster.restart(first)
        cluster.restart(second)

        def everything() -> bool:
            types = types_by_person(receiver)
            return all(
                {"pai.eligibility.changed", "pai.referral.accepted", "pai.cycle.started"}
                <= types.get(p, set())
                for p in persons
            )

        wait_for(everything, 300, "every webhook after the restart", interval=2)
        timings["brokers restarted: every webhook"] = time.monotonic() - restarted_at
        pipeline.wait_ready(120)
        timings["brokers restarted: every service ready"] = time.monotonic() - restarted_at
        print("\nrecovery:", {k: round(v, 1) for k, v in timings.items()}, "\nsaid:", said[:3])

        for webhook_id, bodies in webhooks(receiver).items():
            assert all(b == bodies[0] for b in bodies), f"a repeat of {webhook_id} changed"
        decisions = by_person(bs, "pai.eligibility.decisions.v1", "eligibility-decisions", wanted)
        for pesel, found in decisions.items():
            by_id: dict[str, Any] = {}
            for decision in found:
                seen = by_id.setdefault(str(decision.fields["event_id"]), decision.fields)
                assert seen == decision.fields, f"a repeat of a decision of {pesel} changed"
            assert len(by_id) == 3, pesel
    finally:
        pipeline.stop()
        receiver.stop()
        cluster.stop()
