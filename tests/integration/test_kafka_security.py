"""The services on a SASL_SSL Kafka with SCRAM-SHA-512 users and StandardAuthorizer, each as its
own KafkaUser with exactly the ACLs of deploy/k8s/base/kafka/users.yaml: the manifests' least
privilege is enough for the normal path of every service, a write outside a user's ACLs is
refused, and a service missing an ACL it needs says so, stays up and goes on once granted.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import TopicAuthorizationFailedError

from services.runtime.clock import warsaw_date
from services.runtime.processes import terminate
from services.runtime.settings import kafka_client_kwargs, load_settings, producer_kwargs
from tests.integration.service_helpers import log_tail, wait_for
from tests.support import events as ev
from tests.support.apache_kafka import KafkaCluster
from tests.support.kafka_security import (
    AclBinding,
    Security,
    create_acls,
    manifest_acls,
    manifest_users,
)
from tests.support.receiver import Receiver, delivered, loopback_partner, write_partners
from tests.support.workers import WORKER_ENV, start_kafka, start_worker, wait_ready

pytestmark = pytest.mark.integration
OPS = "1465011"
SECRET = "whsec_" + base64.b64encode(b"secure cluster webhook secret 32").decode()
LIMITED = "pai-eligibility-limited"
"""A user with eligibility's ACLs but for Write on its decisions topic."""


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KafkaCluster, Security]]:
    security = Security([*manifest_users(), LIMITED])
    cluster = start_kafka(Path(tmp_path_factory.mktemp("secure-kafka")), security=security)
    try:
        limited = [
            AclBinding(f"User:{LIMITED}", b.resource_type, b.name, b.pattern_type, b.operation)
            for b in manifest_acls()
            if b.principal == "User:pai-eligibility"
            and not (b.name == "pai.eligibility.decisions.v1" and b.operation == "WRITE")
        ]
        create_acls(cluster, manifest_acls() + limited)
        yield cluster, security
    finally:
        cluster.stop()


def client(cluster: KafkaCluster, security: Security, user: str, tmp: Path) -> dict[str, Any]:
    env = security.client_env(user, tmp)
    settings = load_settings(
        kafka_bootstrap=cluster.bootstrap,
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username=user,
        kafka_sasl_password=env["PAI_KAFKA_SASL_PASSWORD"],
        kafka_ssl_cafile=Path(env["PAI_KAFKA_SSL_CAFILE"]),
    )
    return kafka_client_kwargs(settings) | producer_kwargs(settings)


async def publish(options: dict[str, Any], topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(**options)
    try:
        await producer.start()
        for key, value in records:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


def service_env(security: Security, user: str, tmp: Path, **more: str) -> dict[str, str]:
    # the cluster runs on the system clock: pai-operator may not write pai.clock.v1
    return WORKER_ENV | security.client_env(user, tmp) | {"PAI_CLOCK": "system"} | more


def test_every_service_does_its_work_as_its_own_user_with_the_manifests_acls(
    secure: tuple[KafkaCluster, Security], tmp_path: Path
) -> None:
    cluster, security = secure
    today = warsaw_date(dt.datetime.now(dt.UTC))
    person = ev.pesel_from(770_001)
    receiver = Receiver().start()
    partners = write_partners(
        tmp_path / "partners.yaml", loopback_partner(OPS, receiver.url("ops"), SECRET)
    )
    workers = []
    try:
        for service, user in (
            ("eligibility", "pai-eligibility"),
            ("scheduler", "pai-scheduler"),
            ("notifier", "pai-notifier"),
        ):
            log = tmp_path / f"{service}.log"
            env = service_env(security, user, tmp_path, PAI_PARTNERS_FILE=str(partners))
            process, port = start_worker(
                f"services.{service}", cluster.bootstrap, tmp_path / service, log, **env
            )
            workers.append((service, process, port, log))
        for _service, process, port, log in workers:
            wait_ready(process, port, 90, log)

        operator = client(cluster, security, "pai-operator", tmp_path)  # as `pai send` writes
        start = today - dt.timedelta(days=1)
        asyncio.run(
            publish(
                operator,
                "pai.pup.program-editions.v1",
                [
                    ev.edition(
                        "ED-SECURE",
                        start - dt.timedelta(days=30),
                        start,
                        start.replace(year=start.year + 1),
                    )
                ],
            )
        )
        asyncio.run(
            publish(
                operator,
                "pai.pup.profiles.v1",
                [
                    ev.registered(person, start - dt.timedelta(days=60)),
                    ev.profile(person, "III", start - dt.timedelta(days=59)),
                ],
            )
        )
        asyncio.run(
            publish(
                operator,
                "pai.ops.social-assistance.v1",
                [ev.benefits(person, start - dt.timedelta(days=40), None)],
            )
        )

        def webhook_types() -> set[str]:
            bodies = [orjson.loads(r.body) for r in delivered(receiver, "ops").values()]
            return {b["type"] for b in bodies if b["data"]["person_id"] == person}

        def eligible() -> bool:
            # the benefits can be judged before the registration and the profile: a first
            # decision (not eligible) may reach the OPS, and a referral on it is rejected
            bodies = [orjson.loads(r.body) for r in delivered(receiver, "ops").values()]
            return any(
                b["type"] == "pai.eligibility.changed"
                and b["data"]["person_id"] == person
                and b["data"]["eligible"]
                for b in bodies
            )

        wait_for(eligible, 60, "the eligible decision")
        asyncio.run(
            publish(
                operator,
                "pai.pup.participation.v1",
                [ev.referred(person, "REF-SECURE", start, edition_id="ED-SECURE", seq=5)],
            )
        )
        got = wait_for(
            lambda: {"pai.referral.accepted", "pai.cycle.started"} <= (t := webhook_types()) and t,
            60,
            "the referral accepted and the cycle started, as webhooks",
        )
        assert "pai.referral.rejected" not in got
        for service, process, _port, log in workers:
            assert process.poll() is None, (service, log_tail(log))
            assert "not authorized" not in log.read_text(), (service, log_tail(log))
    finally:
        for _service, process, _port, _log in workers:
            terminate(process, grace_s=15)
        receiver.stop()


def test_a_write_outside_a_users_acls_is_refused(
    secure: tuple[KafkaCluster, Security], tmp_path: Path
) -> None:
    cluster, security = secure
    notifier = client(cluster, security, "pai-notifier", tmp_path)
    with pytest.raises(TopicAuthorizationFailedError, match=r"pai\.pup\.profiles\.v1"):
        asyncio.run(
            publish(
                notifier,
                "pai.pup.profiles.v1",
                [ev.registered(ev.pesel_from(1), dt.date(2026, 1, 5))],
            )
        )


def test_a_service_missing_an_acl_says_so_stays_up_and_goes_on_once_granted(
    secure: tuple[KafkaCluster, Security], tmp_path: Path
) -> None:
    cluster, security = secure
    person = ev.pesel_from(770_002)
    log = tmp_path / "eligibility.log"
    env = service_env(security, LIMITED, tmp_path)
    process, port = start_worker(
        "services.eligibility", cluster.bootstrap, tmp_path / "data", log, **env
    )
    try:
        wait_ready(process, port, 90, log)
        operator = client(cluster, security, "pai-operator", tmp_path)
        asyncio.run(
            publish(operator, "pai.pup.profiles.v1", [ev.registered(person, dt.date(2026, 1, 5))])
        )

        def refused() -> dict[str, Any] | None:
            answer = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=5)
            body: dict[str, Any] = answer.json()
            return body if answer.status_code == 503 and "writes_refused" in body else None

        body = wait_for(refused, 60, "the refusal on /health/ready")
        assert "pai.eligibility.decisions.v1" in body["writes_refused"]
        assert "not authorized" in body["writes_refused"]
        time.sleep(5)  # several attempts later: the same process, still refusing clearly
        assert process.poll() is None, log_tail(log)
        text = log.read_text()
        assert "not authorized" in text and "deploy/k8s/base/kafka/users.yaml" in text

        create_acls(
            cluster,
            [
                AclBinding(
                    f"User:{LIMITED}", "TOPIC", "pai.eligibility.decisions.v1", "LITERAL", "WRITE"
                )
            ],
        )
        wait_ready(process, port, 90, log)  # the gate opens by itself: no restart
        assert process.poll() is None
    finally:
        terminate(process, grace_s=15)
