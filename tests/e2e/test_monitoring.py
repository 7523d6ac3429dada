"""The monitoring on a real Prometheus: the four services as processes, scraped every second
while a scripted run produces a dead letter, a partner outage, a retry backlog and an OPS
posting to the gateway (events written, repeated, badly signed, invalid, over its rate limit).

Prometheus (Debian's, ``scripts/ensure-prometheus.sh``) scrapes each service's
``/metrics`` with the labels the Prometheus operator gives a pod (``job``, ``namespace``,
``pod``) and evaluates the rules rendered from the dev overlay with every ``for`` and range
divided by 120 (15 minutes become 7.5 s; ``tests.support.prometheus.scaled``): the
production rules are unchanged. Asserted as an operator would see it: every query of every
dashboard panel, sent to Prometheus' HTTP API, returns a series with data, with the labels
its legend names; PaiDeadLettersGrowing and PaiPartnerFailing fire on the scraped data and
resolve after the sender and the partner recover; PaiGatewayRateLimited fires for the OPS
that keeps posting over its limit. With ``PAI_DASHBOARD_DATA=<file>`` the
panels' data of the run is written there as JSON (``scripts/render_dashboard.py`` draws
``docs/dashboard.png`` from it).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import math
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.local.embedded_broker import EmbeddedBroker
from services.local.pipeline import LocalPipeline
from tests.deploy.manifests import dashboard_panels, render
from tests.integration.kafka_helpers import produce
from tests.integration.service_helpers import wait_for
from tests.support import events as ev
from tests.support.gateway import benefits_granted, post
from tests.support.prometheus import Prometheus, Target, rule_groups, scaled, write_rules
from tests.support.receiver import Behaviour, Receiver, delivered, loopback_partner, write_partners
from tests.support.workers import WORKER_ENV, broker_env

pytestmark = pytest.mark.e2e
NAMESPACE = "pai-e2e"
HEALTHY_OPS, FAILING_OPS = "9800011", "9800012"
SECRET = "whsec_" + base64.b64encode(b"monitoring e2e secret, 32 bytes.").decode()
INBOUND = "whsec_" + base64.b64encode(b"the healthy OPS posts with this.").decode()
WRONG = "whsec_" + base64.b64encode(b"a secret the gateway never knew.").decode()
# the healthy OPS may post 3 requests at once, then 1 a second: the run goes over that
GATEWAY_LIMITS = {"inbound_rate_per_s": 1, "inbound_burst": 3}
SCALE = 120  # production durations / test durations
RATE_INTERVAL = "5s"  # Grafana's $__rate_interval for a 1 s scrape: max(4 x scrape, step + scrape)


def send(bs: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    asyncio.run(produce(bs, topic, records))


@pytest.fixture
def monitored(
    broker: EmbeddedBroker, tmp_path: Path
) -> Iterator[tuple[Receiver, LocalPipeline, Prometheus]]:
    receiver = Receiver().start()
    receiver.behaviours["failing"] = Behaviour(down=True)
    partners = write_partners(
        tmp_path / "partners.yaml",
        loopback_partner(
            HEALTHY_OPS, receiver.url("healthy"), SECRET, inbound_secret=INBOUND, **GATEWAY_LIMITS
        ),
        loopback_partner(FAILING_OPS, receiver.url("failing"), SECRET),
    )
    env = (
        WORKER_ENV
        | broker_env(broker.bootstrap)
        | {
            "PAI_PARTNERS_FILE": str(partners),
            # a first retry after 1 s, a second 15 s later, then the dead-letter topic
            "PAI_NOTIFIER_RETRY_SCHEDULE": "1,15",
            "PAI_NOTIFIER_UNHEALTHY_AFTER": "3",
        }
    )
    services = LocalPipeline(tmp_path, bootstrap=broker.bootstrap, env=env)
    prometheus: Prometheus | None = None
    try:
        services.start_services()
        services.wait_ready(60)
        rules = write_rules(tmp_path / "rules.yaml", scaled(rule_groups(render("dev")), SCALE))
        targets = [
            Target(s.port, f"pai-{s.name}", {"namespace": NAMESPACE, "pod": f"pai-{s.name}-0"})
            for s in services.services
        ]
        prometheus = Prometheus(tmp_path / "prometheus", targets, rules).start()
        yield receiver, services, prometheus
    finally:
        if prometheus is not None:
            prometheus.stop()
        services.stop()
        receiver.stop()


@pytest.fixture
def ops_client() -> Iterator[httpx.Client]:
    """The HTTP client of the OPS that posts to the gateway."""
    with httpx.Client(timeout=10) as client:
        yield client


def firing(prometheus: Prometheus, alert: str) -> list[dict[str, Any]]:
    return [
        a
        for a in prometheus.alerts()
        if a["labels"]["alertname"] == alert and a["state"] == "firing"
    ]


def active(prometheus: Prometheus, alert: str) -> list[dict[str, Any]]:
    return [a for a in prometheus.alerts() if a["labels"]["alertname"] == alert]


def referral_webhooks(receiver: Receiver, person: str) -> list[dict[str, Any]]:
    """The healthy OPS's ``pai.referral.*`` webhooks about ``person``."""
    bodies = (json.loads(r.body) for r in delivered(receiver, "healthy").values())
    return [
        b
        for b in bodies
        if b["type"].startswith("pai.referral.") and b["data"]["person_id"] == person
    ]


def eligible_at_healthy_ops(receiver: Receiver) -> set[str]:
    """The persons the healthy OPS has heard are eligible.

    Not merely any webhook about them: the contract can be judged before the registration
    and the profile, and a referral sent on that first (not eligible) decision is rejected.
    """
    bodies = (json.loads(r.body) for r in delivered(receiver, "healthy").values())
    return {
        b["data"]["person_id"]
        for b in bodies
        if b["type"] == "pai.eligibility.changed" and b["data"]["eligible"]
    }


def post_as_ops(client: httpx.Client, port: int, n: int) -> list[int]:
    """One OPS's round of posts to the gateway: an event written, its repeat, a post signed
    with a wrong secret, an invalid PESEL, then more invalid posts than its rate allows.
    The statuses answered, in order."""
    event = benefits_granted(19_050 + n, ops=HEALTHY_OPS)
    posts = [
        post(client, port, event, ops=HEALTHY_OPS, secret=INBOUND),
        post(client, port, event, ops=HEALTHY_OPS, secret=INBOUND),
        post(client, port, event, ops=HEALTHY_OPS, secret=WRONG),
    ]
    invalid = benefits_granted(19_060 + n, ops=HEALTHY_OPS, person_id="12345678901")
    posts += [post(client, port, invalid, ops=HEALTHY_OPS, secret=INBOUND) for _ in range(4)]
    return [r.status_code for r in posts]


def over_the_limit(client: httpx.Client, port: int) -> list[int]:
    """Eight invalid posts at once: one a second is allowed, the rest are answered 429."""
    invalid = benefits_granted(19_070, ops=HEALTHY_OPS, person_id="12345678901")
    return [
        post(client, port, invalid, ops=HEALTHY_OPS, secret=INBOUND).status_code for _ in range(8)
    ]


def panel_queries() -> list[tuple[str, str, str, str]]:
    """(panel title, refId, PromQL with the dashboard's variables filled in, legend)."""
    return [
        (
            panel["title"],
            target["refId"],
            target["expr"]
            .replace("$namespace", NAMESPACE)
            .replace("$__rate_interval", RATE_INTERVAL),
            target.get("legendFormat", ""),
        )
        for panel in dashboard_panels()
        for target in panel.get("targets", [])
    ]


def test_every_panel_has_data_and_the_alerts_fire_and_resolve_on_a_real_prometheus(
    broker: EmbeddedBroker,
    monitored: tuple[Receiver, LocalPipeline, Prometheus],
    ops_client: httpx.Client,
) -> None:
    bs, (receiver, services, prometheus), client = broker.bootstrap, monitored, ops_client
    gateway = services.port_of("gateway")
    started = time.time()
    wait_for(
        lambda: (
            set(prometheus.targets_up().values()) == {"up"} and len(prometheus.targets_up()) == 4
        ),
        20,
        "the four services scraped",
    )

    # A small scripted story through the whole pipeline, in two rounds 3 s apart: a counter
    # series appears with its first increment, which rate() cannot see; the second round's
    # increments are what the panels show.
    year = 2026
    send(bs, "pai.clock.v1", [(b"", ev.tick(dt.datetime(year, 1, 10, 4, tzinfo=dt.UTC)))])
    on = dt.date(year, 1, 5)
    send(
        bs,
        "pai.pup.program-editions.v1",
        [ev.edition("ED-MON", on, on, dt.date(year, 12, 31), ops_codes=(HEALTHY_OPS,))],
    )
    for round_ in range(2):
        # a person with a social contract and profile III, referred; and one registered
        # with no OPS yet, whose decision the notifier skips by design
        anna, dawid = ev.pesel_from(19_001 + 2 * round_), ev.pesel_from(19_002 + 2 * round_)
        send(
            bs,
            "pai.ops.social-assistance.v1",
            [ev.contract(anna, on, dt.date(year, 12, 31), ops_code=HEALTHY_OPS)],
        )
        send(
            bs,
            "pai.pup.profiles.v1",
            [
                ev.registered(anna, on),
                ev.profile(anna, "III", on),
                ev.registered(dawid, on),
                ev.profile(dawid, "III", on),
            ],
        )
        wait_for(lambda p=anna: p in eligible_at_healthy_ops(receiver), 30, "the eligible decision")
        referral = f"R-MON-{round_}"
        send(
            bs,
            "pai.pup.participation.v1",
            [ev.referred(anna, referral, dt.date(year, 2, 2), "ED-MON", HEALTHY_OPS)],
        )
        # the OPS hears the referral accepted (the gauge of pending deadlines counts it)
        (answer,) = wait_for(
            lambda p=anna: referral_webhooks(receiver, p), 30, "the referral's answer at the OPS"
        )
        assert answer["type"] == "pai.referral.accepted", answer
        # the outage: webhooks for an OPS whose endpoint answers 503
        failing = [
            ev.outbound("CycleEndingSoon", ev.pesel_from(19_100 + 20 * round_ + n), FAILING_OPS)
            for n in range(20)
        ]
        send(bs, "pai.scheduler.events.v1", failing)
        # the OPS posts to the gateway: written, repeated, wrong secret, invalid, too often
        statuses = post_as_ops(client, gateway, round_)
        assert statuses[:4] == [202, 200, 401, 400], statuses
        assert statuses[-1] == 429, statuses
        time.sleep(3)
    # a careless producer: bytes that are not our Avro, a record every 2 s for 20 s
    for n in range(10):
        send(bs, "pai.pup.profiles.v1", [(ev.pesel_from(19_200 + n).encode(), b"not avro")])
        # and an OPS posting too often: its burst allowed, then one a second
        assert over_the_limit(client, gateway).count(429) >= 8 - GATEWAY_LIMITS["inbound_burst"]
        time.sleep(2)
    # over 10 answers 429 in (scaled) 15 minutes, for 15 minutes: fired during those 20 s
    (limited,) = wait_for(
        lambda: firing(prometheus, "PaiGatewayRateLimited"), 10, "PaiGatewayRateLimited firing"
    )
    assert (limited["labels"]["namespace"], limited["labels"]["partner"]) == (
        NAMESPACE,
        HEALTHY_OPS,
    )
    assert limited["annotations"]["runbook_url"].endswith("#alert-paigatewayratelimited")
    wait_for(
        lambda: delivered(receiver, "healthy"),
        30,
        "a webhook at the healthy OPS",
    )

    # both alerts fire on the scraped data, with their labels and runbooks
    (dead,) = wait_for(
        lambda: firing(prometheus, "PaiDeadLettersGrowing"), 60, "PaiDeadLettersGrowing firing"
    )
    assert dead["labels"]["namespace"] == NAMESPACE
    assert (dead["labels"]["service"], dead["labels"]["reason"]) == ("eligibility", "bad-magic")
    (partner,) = wait_for(
        lambda: firing(prometheus, "PaiPartnerFailing"), 60, "PaiPartnerFailing firing"
    )
    assert partner["labels"]["partner"] == FAILING_OPS
    assert partner["labels"]["severity"] == "warning"
    for alert in (dead, partner):
        name = alert["labels"]["alertname"].lower()
        assert alert["annotations"]["runbook_url"].endswith(f"docs/operations.md#alert-{name}")
    # after the whole (short) schedule the webhooks are dead-lettered: that alert fires too
    wait_for(lambda: firing(prometheus, "PaiWebhooksDeadLettered"), 60, "PaiWebhooksDeadLettered")

    # recovery: the endpoint answers again and new webhooks reach it; no more bad records
    receiver.behaviours["failing"] = Behaviour()
    more = [
        ev.outbound("CycleEndingSoon", ev.pesel_from(19_300 + n), FAILING_OPS) for n in range(5)
    ]
    send(bs, "pai.scheduler.events.v1", more)
    wait_for(lambda: len(delivered(receiver, "failing")) >= 5, 30, "deliveries after recovery")
    wait_for(lambda: not active(prometheus, "PaiPartnerFailing"), 60, "PaiPartnerFailing resolved")
    wait_for(
        lambda: not active(prometheus, "PaiDeadLettersGrowing"),
        60,
        "PaiDeadLettersGrowing resolved",
    )
    wait_for(
        lambda: not active(prometheus, "PaiGatewayRateLimited"),
        30,
        "PaiGatewayRateLimited resolved once the OPS paces its posts",
    )
    assert not firing(prometheus, "PaiServiceNotReady"), prometheus.alerts()

    # every query of every panel returns data over the run, with the labels of its legend
    end = time.time()
    data: dict[str, Any] = {}
    empty = []
    for title, ref, expr, legend in panel_queries():
        result = prometheus.query_range(expr, started, end, 1)
        finite = [s for s in result if any(math.isfinite(float(v)) for _, v in s["values"])]
        if not finite:
            empty.append(f"{title} [{ref}]: {expr}")
            continue
        for label in re.findall(r"\{\{\s*(\w+)\s*\}\}", legend):
            assert all(label in s["metric"] for s in finite), (title, ref, label)
        data[f"{title}/{ref}"] = {"expr": expr, "legend": legend, "result": result}
    assert not empty, "panels with no data:\n" + "\n".join(empty)

    def peak(key: str) -> float:
        return max(
            float(v) for s in data[key]["result"] for _, v in s["values"] if math.isfinite(float(v))
        )

    # the incidents show where an operator looks for them
    assert peak("Retry backlog by level/A") > 0  # webhooks waiting for their second retry
    assert peak("Failed attempts / s by partner/A") > 0
    assert peak("Dead letters / s (pai.dlq.v1)/A") > 0
    assert peak("Dead-lettered webhooks, last 24 h/A") > 0
    assert peak("Persons with a deadline to come/A") == 2  # the two accepted referrals
    for key in (
        "Events consumed / s/A",
        "Decisions / s/A",
        "Scheduler events / s by kind/A",
        "Webhook attempts / s by outcome/A",
        "Retried / s by level/A",
        "Events skipped / s/A",
        "Gateway requests / s by OPS and status/A",
        "Gateway events / s by outcome/A",
        "Gateway requests refused / s by reason/A",
        "Gateway write time (p50, p99)/A",
    ):
        assert peak(key) > 0, f"{key}: the run's activity does not show"
    # what an operator reads on the gateway's panels: who was refused, and why
    shown = {
        (s["metric"]["partner"], s["metric"].get("status") or s["metric"].get("reason"))
        for key in (
            "Gateway requests / s by OPS and status/A",
            "Gateway requests refused / s by reason/A",
        )
        for s in data[key]["result"]
    }
    for status_or_reason in ("202", "200", "401", "400", "429", "bad-signature", "rate-limited"):
        assert (HEALTHY_OPS, status_or_reason) in shown, (status_or_reason, shown)
    outcomes = {s["metric"]["outcome"] for s in data["Gateway events / s by outcome/A"]["result"]}
    assert {"accepted", "duplicate", "invalid"} <= outcomes, outcomes
    services.check_alive()
    if target := os.environ.get("PAI_DASHBOARD_DATA"):
        Path(target).write_text(
            json.dumps({"start": started, "end": end, "panels": data}), encoding="utf-8"
        )
