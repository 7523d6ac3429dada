"""A broker restarted under the three services. The embedded broker comes back empty (memory
only), the topics are created again, and the services reconnect and carry on with new
input, in the same processes: no crash, no crash loop, no webhook sent twice under two ids.
Apache Kafka killed with ``kill -9`` comes back with its data. On both, a referral made after
the restart is judged by the eligibility decision from before it: the open question of an
earlier session, whose cause was the date a decision was judged on (the latest decision
*computed* on or before the start date, and with no clock tick the decisions were dated by
their events, after the start: ``NOT_ELIGIBLE``); decisions now carry the period their
outcome holds, and the scheduler judges the start date by it.

New input is sent once every service has noticed the empty broker (its positions past the
new ends): tansu does not answer a fetch past the end with OFFSET_OUT_OF_RANGE, so what is
written before that and outnumbers the old positions could be skipped (docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections import defaultdict
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook as Verifier

from services.local.embedded_broker import free_port
from services.local.pipeline import LocalPipeline
from tests.integration.kafka_helpers import produce
from tests.integration.service_helpers import wait_for
from tests.support import events as ev
from tests.support.receiver import Receiver, loopback_partner, write_partners
from tests.support.workers import WORKER_ENV, broker_env, start_broker, start_kafka

pytestmark = pytest.mark.e2e
OPS = "9800005"
SECRET = "whsec_" + base64.b64encode(b"broker restart secret, 32 bytes.").decode()
DAY = dt.date(2026, 1, 5)
REWOUND = "reading the partition again from the beginning"  # services.runtime.lost_records


def feed(bootstrap: str, persons: list[str]) -> None:
    edition = ev.edition("ED-RESTART", DAY, DAY, dt.date(2026, 12, 31), ops_codes=(OPS,))
    records = {
        "pai.pup.program-editions.v1": [edition],
        "pai.pup.profiles.v1": [
            r for p in persons for r in (ev.registered(p, DAY), ev.profile(p, "III", DAY))
        ],
        "pai.ops.social-assistance.v1": [ev.benefits(p, DAY, None, ops_code=OPS) for p in persons],
    }
    for topic, batch in records.items():
        asyncio.run(produce(bootstrap, topic, batch))


def test_the_services_carry_on_with_new_input_after_the_broker_restarts(tmp_path: Path) -> None:
    port = free_port()
    broker = start_broker(tmp_path / "broker-1.log", port)
    receiver = Receiver().start()
    partners = write_partners(
        tmp_path / "partners.yaml", loopback_partner(OPS, receiver.url("ops"), SECRET)
    )
    env = WORKER_ENV | broker_env(broker.bootstrap) | {"PAI_PARTNERS_FILE": str(partners)}
    env["PAI_NOTIFIER_RETRY_SCHEDULE"] = "1,2,4"
    pipeline = LocalPipeline(tmp_path, bootstrap=broker.bootstrap, env=env)
    verifier = Verifier(SECRET)

    def eligible_webhooks() -> dict[str, set[str]]:
        """person → the ids of the eligible decisions the OPS received for them."""
        found: dict[str, set[str]] = defaultdict(set)
        for request in receiver.requests("ops"):
            body = verifier.verify(request.body, request.headers)
            if body["type"] == "pai.eligibility.changed" and body["data"]["eligible"]:
                found[body["data"]["person_id"]].add(request.headers["webhook-id"])
        return found

    def accepted() -> dict[str, str]:
        """person → the referral accepted for them, as the OPS received it."""
        found = {}
        for request in receiver.requests("ops"):
            body = verifier.verify(request.body, request.headers)
            if body["type"] == "pai.referral.accepted":
                found[body["data"]["person_id"]] = body["data"]["referral_id"]
        return found

    before = [ev.pesel_from(4_100_000 + n) for n in range(10)]
    after = [ev.pesel_from(4_200_000 + n) for n in range(10)]
    try:
        pipeline.start_services()
        pipeline.wait_ready(90)
        pids = [s.process.pid for s in pipeline.services if s.process]
        feed(broker.bootstrap, before)
        wait_for(lambda: set(eligible_webhooks()) >= set(before), 90, "decisions before")

        broker.stop()  # everything it held is gone
        broker = start_broker(tmp_path / "broker-2.log", port)

        def all_noticed() -> bool:  # each service saw its positions past the new, empty ends
            return all(REWOUND in s.log.read_text(errors="replace") for s in pipeline.services)

        wait_for(all_noticed, 60, "every service to notice the empty broker")
        feed(broker.bootstrap, after)  # new people
        wait_for(lambda: set(eligible_webhooks()) >= set(before + after), 180, "decisions after")
        pipeline.check_alive()
        assert [s.process.pid for s in pipeline.services if s.process] == pids  # never restarted
        for service in pipeline.services:
            url = f"http://127.0.0.1:{service.port}/health/ready"
            assert httpx.get(url, timeout=5).status_code == 200, service.name
        found = eligible_webhooks()
        assert {p: len(ids) for p, ids in found.items()} == {p: 1 for p in before + after}

        # the open question of an earlier session: a referral after the restart, judged
        # against the decision from before it (kept in the scheduler's state)
        referrals = [ev.referred(p, f"R-{p}", DAY, "ED-RESTART", OPS, seq=9) for p in before[:3]]
        asyncio.run(produce(broker.bootstrap, "pai.pup.participation.v1", referrals))
        wait_for(lambda: set(accepted()) >= set(before[:3]), 60, "the referrals after the restart")
    finally:
        pipeline.broker = broker
        pipeline.stop()
        receiver.stop()


def test_a_referral_after_a_kafka_restart_is_judged_by_the_decision_from_before(
    tmp_path: Path,
) -> None:
    kafka = start_kafka(tmp_path / "kafka")
    receiver = Receiver().start()
    partners = write_partners(
        tmp_path / "partners.yaml", loopback_partner(OPS, receiver.url("ops"), SECRET)
    )
    env = WORKER_ENV | broker_env(kafka.bootstrap) | {"PAI_PARTNERS_FILE": str(partners)}
    pipeline = LocalPipeline(tmp_path, bootstrap=kafka.bootstrap, env=env)
    verifier = Verifier(SECRET)
    persons = [ev.pesel_from(4_300_000 + n) for n in range(5)]

    def received(kind: str) -> set[str]:
        found = set()
        for request in receiver.requests("ops"):
            body = verifier.verify(request.body, request.headers)
            if body["type"] == kind and body["data"].get("eligible", True):
                found.add(body["data"]["person_id"])
        return found

    try:
        pipeline.start_services()
        pipeline.wait_ready(90)
        feed(kafka.bootstrap, persons)
        wait_for(lambda: received("pai.eligibility.changed") >= set(persons), 90, "decisions")
        kafka.kill(1)  # kill -9 of the only broker, then the same node on the same data
        kafka.restart(1)
        referrals = [ev.referred(p, f"R-{p}", DAY, "ED-RESTART", OPS, seq=9) for p in persons]
        asyncio.run(produce(kafka.bootstrap, "pai.pup.participation.v1", referrals))
        wait_for(lambda: received("pai.referral.accepted") >= set(persons), 90, "the referrals")
        assert not received("pai.referral.rejected")
        pipeline.check_alive()
    finally:
        pipeline.stop()
        receiver.stop()
        kafka.stop()
