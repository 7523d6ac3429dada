"""The whole pipeline: eligibility, scheduler and notifier as separate processes on each
broker (Apache Kafka and the embedded tansu), an OPS webhook receiver on loopback, and a
scripted year of two people that produces every webhook type. What the OPS receives is what
is asserted."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook as Verifier

from services.local.embedded_broker import EmbeddedBroker
from services.local.pipeline import LocalPipeline
from services.runtime.codec import AvroCodec
from tests.integration.kafka_helpers import produce
from tests.integration.service_helpers import read_topic, wait_for
from tests.support import events as ev
from tests.support.metrics import exported_families, metric, registry_series
from tests.support.openapi import body_errors
from tests.support.receiver import Receiver, delivered, loopback_partner, write_partners
from tests.support.workers import WORKER_ENV, broker_env

pytestmark = pytest.mark.e2e
OPS = "9800001"  # an OPS of this test only
SECRET = "whsec_" + base64.b64encode(b"end-to-end secret of OPS 9800001").decode()


@pytest.fixture(params=["broker", "tansu"])
def broker(request: pytest.FixtureRequest) -> EmbeddedBroker:
    """The scripted year on both brokers: Apache Kafka, and the embedded one of `pai run`."""
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def send(bs: str, topic: str, *records: tuple[bytes, bytes]) -> None:
    asyncio.run(produce(bs, topic, list(records)))


@pytest.fixture
def pipeline(broker: EmbeddedBroker, tmp_path: Path) -> Iterator[tuple[Receiver, LocalPipeline]]:
    receiver = Receiver().start()
    partners = write_partners(
        tmp_path / "partners.yaml", loopback_partner(OPS, receiver.url("ops"), SECRET)
    )
    env = (
        WORKER_ENV
        | broker_env(broker.bootstrap)
        | {
            "PAI_PARTNERS_FILE": str(partners),
            "PAI_NOTIFIER_RETRY_SCHEDULE": "0.5,0.5,0.5",
        }
    )
    services = LocalPipeline(tmp_path, bootstrap=broker.bootstrap, env=env)
    try:
        services.start_services()
        services.wait_ready(60)
        yield receiver, services
    finally:
        services.stop()
        receiver.stop()


def test_a_scripted_year_reaches_the_ops_as_every_webhook_type(
    broker: EmbeddedBroker, pipeline: tuple[Receiver, LocalPipeline], era_like_2026: int
) -> None:
    """Dates are 2026's (the era has its weekdays); review deadlines avoid Easter."""
    bs, (receiver, services), year = broker.bootstrap, pipeline, era_like_2026
    d = lambda m, day: dt.date(year, m, day)  # noqa: E731
    anna, ben = ev.pesel_from(year * 10 + 7), ev.pesel_from(year * 10 + 8)
    verifier = Verifier(SECRET)

    def webhooks() -> list[dict[str, Any]]:
        return [verifier.verify(r.body, r.headers) for r in delivered(receiver, "ops").values()]

    def types() -> Counter[str]:
        return Counter(w["type"] for w in webhooks())

    def tick(day: dt.date) -> None:
        send(
            bs,
            "pai.clock.v1",
            (b"", ev.tick(dt.datetime(year, day.month, day.day, 4, tzinfo=dt.UTC))),
        )

    def until(expected: dict[str, int], what: str) -> None:
        wait_for(lambda: all(types()[t] >= n for t, n in expected.items()), 60, what)

    tick(d(1, 10))
    send(
        bs,
        "pai.pup.program-editions.v1",
        ev.edition("ED-E2E", d(1, 2), d(1, 1), d(12, 31), ops_codes=(OPS,)),
    )
    # Anna: a social contract with the OPS, registered, profile III: eligible (priority)
    send(bs, "pai.ops.social-assistance.v1", ev.contract(anna, d(1, 5), d(12, 31), ops_code=OPS))
    send(bs, "pai.pup.profiles.v1", ev.registered(anna, d(1, 5)), ev.profile(anna, "III", d(1, 6)))
    # Ben: benefits from the OPS but profile II: not eligible under the seed rules
    send(bs, "pai.ops.social-assistance.v1", ev.benefits(ben, d(1, 5), None, ops_code=OPS))
    send(bs, "pai.pup.profiles.v1", ev.registered(ben, d(1, 5)), ev.profile(ben, "II", d(1, 6)))
    wait_for(
        lambda: any(
            w["type"] == "pai.eligibility.changed"
            and w["data"]["person_id"] == anna
            and w["data"]["eligible"]
            for w in webhooks()
        ),
        60,
        "anna's eligible decision at the OPS",
    )

    participation = "pai.pup.participation.v1"
    send(bs, participation, ev.referred(anna, "R1", d(2, 2), edition_id="ED-E2E", ops_code=OPS))
    send(bs, participation, ev.referred(ben, "R-BEN", d(2, 2), edition_id="ED-E2E", ops_code=OPS))
    until({"pai.referral.accepted": 1, "pai.referral.rejected": 1}, "the first referrals")
    send(bs, participation, ev.other_assistance(anna, "training", d(2, 10)))
    tick(d(4, 2))  # R1 ran 2 February to 1 April; no hours were ever reported
    until({"pai.profile_review.due": 1, "pai.exclusivity.conflict": 1}, "R1 ended")
    tick(d(4, 10))
    until({"pai.profile_review.overdue": 1}, "the review overdue")
    send(bs, participation, ev.profile_reviewed(anna, d(4, 10)))
    send(bs, participation, ev.referred(anna, "R2", d(4, 13), edition_id="ED-E2E", ops_code=OPS))
    until({"pai.profile_review.completed": 1, "pai.referral.accepted": 2}, "R2 accepted")
    tick(d(6, 13))  # R2: 13 April to 12 June
    until({"pai.profile_review.due": 2}, "R2 ended")
    # a social cooperative opens no re-referral; the latest review, RE_REFERRAL, does
    send(bs, participation, ev.profile_reviewed(anna, d(6, 15), "SOCIAL_COOPERATIVE"))
    send(bs, participation, ev.referred(anna, "R3", d(6, 15), edition_id="ED-E2E", ops_code=OPS))
    until({"pai.profile_review.completed": 2, "pai.referral.rejected": 2}, "R3 rejected")
    send(bs, participation, ev.profile_reviewed(anna, d(6, 15)))
    send(bs, participation, ev.referred(anna, "R3", d(6, 15), edition_id="ED-E2E", ops_code=OPS))
    until({"pai.profile_review.completed": 3, "pai.referral.accepted": 3}, "R3 accepted")
    # 11 hours of PSU in the week of 22 June: over the 10 allowed
    send(bs, participation, *[ev.psu_hours(anna, "R3", d(6, day), 5.5) for day in (22, 23)])
    until({"pai.psu_hours.exceeded": 1}, "PSU hours exceeded")
    tick(d(8, 15))  # R3: 15 June to 14 August, the cap used
    until({"pai.cap.exhausted": 1}, "the cap exhausted")

    scheduler_types = {
        "pai.referral.accepted": 3,
        "pai.referral.rejected": 2,
        "pai.cycle.started": 3,
        "pai.cycle.ending_soon": 3,
        "pai.cycle.ended": 3,
        "pai.profile_review.due": 3,
        "pai.profile_review.overdue": 1,
        "pai.profile_review.completed": 3,
        "pai.cap.exhausted": 1,
        "pai.exclusivity.conflict": 1,
        "pai.integration_hours.shortfall": 24,  # 8 full weeks in each cycle, none reported
        "pai.psu_hours.exceeded": 1,
    }
    received = webhooks()
    assert {t: n for t, n in types().items() if t != "pai.eligibility.changed"} == (scheduler_types)
    # every decision and scheduler event about these two, and nothing else, reached the OPS
    sources = {
        "pai.eligibility.decisions.v1": AvroCodec("eligibility-decisions"),
        "pai.scheduler.events.v1": AvroCodec("scheduler-events"),
    }
    published = {
        str(fields["event_id"]): fields["ops_code"]
        for topic, codec in sources.items()
        for record in asyncio.run(read_topic(bs, topic))
        if (fields := codec.decode(record.value).fields)["person_id"] in (anna, ben)
    }
    for_the_ops = {event_id for event_id, ops in published.items() if ops == OPS}
    # a decision taken before the person's first OPS event names no OPS: skipped by design
    assert set(published.values()) <= {OPS, None}
    received = wait_for(
        lambda: (got := webhooks()) and {w["data"]["event_id"] for w in got} >= for_the_ops and got,
        30,
        "a webhook for every event naming the OPS",
    )
    assert {w["data"]["event_id"] for w in received} == for_the_ops
    assert len(received) == len(for_the_ops)
    assert types()["pai.eligibility.changed"] >= 2  # anna eligible, ben not
    rejected = sorted(
        (w["data"]["person_id"] == anna, w["data"]["reasons"])
        for w in received
        if w["type"] == "pai.referral.rejected"
    )
    assert rejected == [(False, ["NOT_ELIGIBLE"]), (True, ["REVIEWED_SOCIAL_COOPERATIVE"])]
    for body in received:
        assert body_errors(body["type"], body) == [], body["type"]
    for service in services.services:
        text = service.log.read_text()
        assert anna not in text and ben not in text, service.log

    # each running service exports the metrics the dashboard and the alerts are built on
    ports = {service.name: service.port for service in services.services}
    families = {name: exported_families(port) for name, port in ports.items()}
    assert set().union(*families.values()) == set(registry_series().values())
    for name, exported in families.items():
        assert {"pai_events_consumed", "pai_consumer_lag", "pai_ready"} <= exported, name
    assert "pai_eligibility_decisions" in families["eligibility"]
    assert "pai_scheduler_events" in families["scheduler"]
    delivered_attempts = metric(ports["notifier"], "pai_notifier_attempts_total", partner=OPS)
    assert delivered_attempts == len(received)  # the receiver never failed: one attempt each
    assert metric(ports["scheduler"], "pai_scheduler_events_total", kind="CycleStarted") >= 3
