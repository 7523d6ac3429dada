"""The notifier through the embedded broker and a real HTTP receiver on loopback: every
webhook type signed and as documented, retries, dead letters and replay, a hanging
partner, and a worker killed while deliveries are in flight."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import itertools
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from standardwebhooks import Webhook as Verifier

from services.local.embedded_broker import EmbeddedBroker
from services.notifier.webhooks import webhook_for
from services.runtime.codec import AvroCodec
from services.runtime.processes import terminate
from services.runtime.topics import NOTIFIER_DLQ, NOTIFIER_REPLAY
from tests.integration.kafka_helpers import produce
from tests.integration.service_helpers import dead_letters_from, read_topic, wait_for
from tests.support import events as ev
from tests.support.metrics import metric, samples
from tests.support.openapi import body_errors
from tests.support.raw_listener import GARBAGE, RawListener
from tests.support.receiver import Behaviour, Receiver, delivered
from tests.support.workers import start_worker, wait_ready

pytestmark = pytest.mark.integration
NOTIFIER_ENV = {
    "PAI_KAFKA_SESSION_TIMEOUT_S": "6",
    "PAI_KAFKA_HEARTBEAT_INTERVAL_S": "1",
    "PAI_NOTIFIER_RETRY_SCHEDULE": "0.3,0.3,0.3",
    "PAI_NOTIFIER_CONNECT_TIMEOUT_S": "1",
    "PAI_NOTIFIER_READ_TIMEOUT_S": "3",
    # a no-profile deployment: a scheduler event that carries no provisions cites this one's
    "PAI_RULESET": "no-profile",
}
# ops_codes of their own (TERYT-shaped, used by no other test): other tests' events name
# 1465011, which this notifier does not know and dead-letters
ALL, CYCLE_ONLY, FLAKY, DOWN, HANGING, STEADY, SLOW = (f"99{n:05d}" for n in range(1, 8))
HEALTHY, FORGED_A, FORGED_B, GARBLED = (f"99{n:05d}" for n in range(8, 12))
PATHS = {
    ALL: "all",
    CYCLE_ONLY: "cycle-only",
    FLAKY: "flaky",
    DOWN: "down",
    HANGING: "hanging",
    STEADY: "steady",
    SLOW: "slow",
    HEALTHY: "healthy",
    FORGED_A: "forged-a",
    FORGED_B: "forged-b",
    GARBLED: "garbled",  # a raw TCP listener answering bytes that are not HTTP
}


def secret_of(ops: str) -> str:
    return "whsec_" + base64.b64encode(f"secret of OPS {ops}, 32 bytes..".encode()).decode()


def partners_file(path: Path, receiver: Receiver, garbage: RawListener) -> Path:
    entries = [
        {
            "ops_code": ops,
            "name": f"OPS {name}",
            "url": garbage.url(name) if ops == GARBLED else receiver.url(name),
            "secret_env" if ops == ALL else "secret": f"SECRET_{ops}"
            if ops == ALL
            else secret_of(ops),
            "events": ["pai.cycle.started"] if ops == CYCLE_ONLY else ["*"],
            "allow_http": True,
            "allow_private_network": True,
            "max_in_flight": 4 if ops == HANGING else 16,
        }
        for ops, name in PATHS.items()
    ]
    path.write_text(yaml.safe_dump({"partners": entries}), encoding="utf-8")
    return path


def send(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    asyncio.run(produce(bootstrap, topic, records))


def event_id_of(record: tuple[bytes, bytes], codec: AvroCodec = ev.SCHEDULER_EVENTS) -> str:
    return str(codec.decode(record[1]).fields["event_id"])


@pytest.fixture(scope="module")
def garbage() -> Iterator[RawListener]:
    running = RawListener(GARBAGE).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def notifier(
    broker: EmbeddedBroker,
    receiver: Receiver,
    garbage: RawListener,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    tmp = tmp_path_factory.mktemp("notifier")
    log = tmp / "notifier.log"
    env = NOTIFIER_ENV | {
        "PAI_PARTNERS_FILE": str(partners_file(tmp / "partners.yaml", receiver, garbage)),
        f"SECRET_{ALL}": secret_of(ALL),
    }
    process, port = start_worker("services.notifier", broker.bootstrap, tmp / "data", log, **env)
    try:
        wait_ready(process, port, 40, log)
        yield process, port, log
    finally:
        terminate(process)


def verified(receiver: Receiver, path: str, ops: str) -> dict[str, Any]:
    """The bodies ``path`` answered 2xx, by webhook-id, each verified with the partner's secret."""
    verifier = Verifier(secret_of(ops))
    return {
        webhook_id: verifier.verify(r.body, r.headers)
        for webhook_id, r in delivered(receiver, path).items()
    }


def test_every_event_type_arrives_signed_and_as_documented(
    broker: EmbeddedBroker, receiver: Receiver, notifier: tuple[Any, int, Path]
) -> None:
    bs, (_, port, log) = broker.bootstrap, notifier
    pesel = ev.pesel_from(900_001)
    kinds = [
        "ReferralAccepted",
        "ReferralRejected",
        "CycleStarted",
        "CycleEndingSoon",
        "CycleEnded",
        "ProfileReviewDue",
        "ProfileReviewOverdue",
        "ProfileReviewRecorded",
        "CapExhausted",
        "ExclusivityConflict",
        "IntegrationHoursShortfall",
    ]
    records = [ev.outbound(kind, pesel, ALL) for kind in kinds]
    decision = ev.outbound("EligibilityDecision", pesel, ALL)
    send(bs, "pai.scheduler.events.v1", records)
    send(bs, "pai.eligibility.decisions.v1", [decision])
    ids = {event_id_of(r) for r in records} | {event_id_of(decision, ev.DECISIONS)}
    bodies = wait_for(
        lambda: (found := verified(receiver, "all", ALL)).keys() >= ids and found,
        30,
        "all twelve webhooks",
    )
    assert sorted(bodies[i]["type"] for i in ids) == sorted(
        [
            "pai.eligibility.changed",
            "pai.referral.accepted",
            "pai.referral.rejected",
            "pai.cycle.started",
            "pai.cycle.ending_soon",
            "pai.cycle.ended",
            "pai.profile_review.due",
            "pai.profile_review.overdue",
            "pai.profile_review.completed",
            "pai.cap.exhausted",
            "pai.exclusivity.conflict",
            "pai.integration_hours.shortfall",
        ]
    )
    for webhook_id in ids:
        body = bodies[webhook_id]
        assert body["data"]["event_id"] == webhook_id
        assert body_errors(body["type"], body) == [], body["type"]
    # the records carry no legal_basis (as written before schema v3): a scheduler event is
    # cited under the configured rule set, a decision under the one it names (seed)
    ours = [bodies[i] for i in ids]
    [rejection] = [b for b in ours if b["type"] == "pai.referral.rejected"]
    cited = {c["applies_to"]: c["provision"] for c in rejection["legal_basis"]}
    assert "2019 poz. 986" in cited["NOT_ELIGIBLE"], cited
    [changed] = [b for b in ours if b["type"] == "pai.eligibility.changed"]
    assert not any("2019" in c["provision"] for c in changed["legal_basis"]), changed
    logged = log.read_text()
    assert pesel not in logged
    assert not any(secret_of(ops).split("_", 1)[1] in logged for ops in PATHS)

    # a partner subscribed to cycle starts only; an OPS no partner has
    skipped_before = metric(port, "pai_notifier_events_skipped_total", reason="not-subscribed")
    unsubscribed = ev.outbound("CycleEnded", pesel, CYCLE_ONLY)
    subscribed = ev.outbound("CycleStarted", pesel, CYCLE_ONLY)
    stranger = ev.outbound("CycleStarted", pesel, "9999999")
    baseless = ev.outbound("ReferralRejected", pesel, ALL, reasons=[])  # nothing to cite
    send(bs, "pai.scheduler.events.v1", [unsubscribed, subscribed, stranger, baseless])
    wait_for(
        lambda: event_id_of(subscribed) in verified(receiver, "cycle-only", CYCLE_ONLY),
        30,
        "the subscribed webhook",
    )
    assert event_id_of(unsubscribed) not in {
        r.headers["webhook-id"] for r in receiver.requests("cycle-only")
    }
    assert (
        metric(port, "pai_notifier_events_skipped_total", reason="not-subscribed")
        == skipped_before + 1
    )
    letters = wait_for(
        lambda: [
            x
            for x in dead_letters_from(bs, "pai.scheduler.events.v1")
            if x["reason"] == "unknown-ops-code" and "9999999" in x["exception.message"]
        ],
        30,
        "the unknown OPS dead-lettered",
    )
    assert letters[0]["key"] == pesel
    [unfounded] = wait_for(
        lambda: [
            x
            for x in dead_letters_from(bs, "pai.scheduler.events.v1")
            if x["reason"] == "no-legal-basis" and "cites no reason" in x["exception.message"]
        ],
        30,
        "the webhook with no legal basis dead-lettered",
    )
    assert unfounded["key"] == pesel
    assert event_id_of(baseless) not in {r.headers["webhook-id"] for r in receiver.requests("all")}


def test_a_failing_partner_gets_the_webhook_on_a_later_attempt_with_the_same_id(
    broker: EmbeddedBroker, receiver: Receiver, notifier: tuple[Any, int, Path]
) -> None:
    port = notifier[1]
    receiver.behaviours["flaky"] = Behaviour(fail_first=2)
    record = ev.outbound("CycleStarted", ev.pesel_from(900_002), FLAKY)
    send(broker.bootstrap, "pai.scheduler.events.v1", [record])
    webhook_id = event_id_of(record)
    wait_for(lambda: webhook_id in verified(receiver, "flaky", FLAKY), 30, "the third attempt")
    attempts = [r for r in receiver.requests("flaky") if r.headers["webhook-id"] == webhook_id]
    assert [r.status for r in attempts] == [500, 500, 204]
    verifier = Verifier(secret_of(FLAKY))
    assert len({verifier.verify(r.body, r.headers)["data"]["event_id"] for r in attempts}) == 1
    gaps = [b.at - a.at for a, b in itertools.pairwise(attempts)]
    assert all(gap >= 0.25 for gap in gaps), gaps  # the schedule's 0.3 s, not at once
    # what an operator sees: two 5xx answers, then a delivery; retried from levels 1 and 2
    attempts_seen = {
        (labels["outcome"], labels["status_class"]): value
        for name, labels, value in samples(port)
        if name == "pai_notifier_attempts_total" and labels["partner"] == FLAKY
    }
    assert attempts_seen == {("http_error", "5xx"): 2, ("delivered", "2xx"): 1}
    assert metric(port, "pai_notifier_webhooks_retried_total", partner=FLAKY, level="1") == 1
    assert metric(port, "pai_notifier_webhooks_retried_total", partner=FLAKY, level="2") == 1


def test_a_partner_down_past_the_schedule_gets_it_after_a_replay(
    broker: EmbeddedBroker, receiver: Receiver, notifier: tuple[Any, int, Path], tmp_path: Path
) -> None:
    bs = broker.bootstrap
    receiver.behaviours["down"] = Behaviour(down=True)
    record = ev.outbound("ProfileReviewOverdue", ev.pesel_from(900_003), DOWN)
    send(bs, "pai.scheduler.events.v1", [record])
    webhook_id = event_id_of(record)
    codec = AvroCodec("notifier-dlq")

    def dead_lettered() -> dict[str, Any] | None:
        for r in asyncio.run(read_topic(bs, NOTIFIER_DLQ.name, seconds=0.5)):
            fields = codec.decode(r.value).fields
            if fields["webhook_id"] == webhook_id:
                return fields
        return None

    letter = wait_for(dead_lettered, 30, "the dead letter")
    port = notifier[1]
    assert metric(port, "pai_notifier_webhooks_dead_lettered_total", partner=DOWN) == 1
    assert metric(port, "pai_notifier_attempts_total", partner=DOWN, outcome="http_error") == 4
    assert [(a["attempt"], a["status_code"], a["error"]) for a in letter["attempts"]] == [
        (n, 503, "HTTP 503") for n in (1, 2, 3, 4)
    ]
    assert (letter["ops_code"], letter["webhook_type"]) == (DOWN, "pai.profile_review.overdue")
    assert letter["source_topic"] == "pai.scheduler.events.v1"

    receiver.behaviours["down"] = Behaviour()  # the partner is back
    replay = subprocess.run(
        [sys.executable, "-m", "services.cli", "dlq", "replay", "--partner", DOWN],
        env={**os.environ, "PAI_KAFKA_BOOTSTRAP": bs},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert replay.returncode == 0, replay.stderr
    assert webhook_id in replay.stdout and "replayed" in replay.stdout
    body = wait_for(
        lambda: verified(receiver, "down", DOWN).get(webhook_id), 30, "the replayed webhook"
    )
    assert body["type"] == "pai.profile_review.overdue"


def test_a_hanging_partner_does_not_delay_another(
    broker: EmbeddedBroker, receiver: Receiver, notifier: tuple[Any, int, Path]
) -> None:
    bs, (_, port, _) = broker.bootstrap, notifier
    receiver.behaviours["hanging"] = Behaviour(hang_s=8)
    stuck = [ev.outbound("CycleStarted", ev.pesel_from(910_000 + n), HANGING) for n in range(40)]
    steady = [ev.outbound("CycleStarted", ev.pesel_from(920_000 + n), STEADY) for n in range(40)]
    send(bs, "pai.scheduler.events.v1", stuck)
    time.sleep(0.5)  # the hanging partner's requests are out and waiting
    lag = lambda: metric(port, "pai_consumer_lag", topic="pai.scheduler.events.v1")  # noqa: E731
    assert lag() > 0, "hanging deliveries hold their offsets back: the lag shows them"
    started = time.monotonic()
    send(bs, "pai.scheduler.events.v1", steady)
    ids = {event_id_of(r) for r in steady}
    wait_for(
        lambda: ids <= verified(receiver, "steady", STEADY).keys(),
        30,
        "every webhook of the steady partner",
        interval=0.05,
    )
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"{elapsed:.1f} s: the steady partner waited for the hanging one"
    wait_for(
        lambda: metric(port, "pai_notifier_partner_healthy", partner=HANGING) == 0,
        30,
        "the hanging partner marked unhealthy",
    )
    assert metric(port, "pai_notifier_partner_healthy", partner=STEADY) == 1
    # every stuck webhook is retried or dead-lettered in the end: nothing left behind
    wait_for(lambda: lag() == 0, 60, "the notifier's lag back to 0")
    assert metric(port, "pai_notifier_webhooks_retried_total", partner=HANGING) > 0
    backlog = lambda: metric(port, "pai_notifier_retry_backlog")  # noqa: E731
    wait_for(lambda: backlog() == 0, 60, "the retry topics emptied (retried, dead-lettered)")


def notifier_dead_letter(bootstrap: str, webhook_id: str) -> dict[str, Any] | None:
    codec = AvroCodec("notifier-dlq")
    for r in asyncio.run(read_topic(bootstrap, NOTIFIER_DLQ.name, seconds=0.5)):
        fields = codec.decode(r.value).fields
        if fields["webhook_id"] == webhook_id:
            return fields
    return None


def test_a_partner_answering_garbage_is_dead_lettered_and_stops_no_one(
    broker: EmbeddedBroker,
    receiver: Receiver,
    garbage: RawListener,
    notifier: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    """A reply that is not HTTP is a failed attempt like any other: retried on the schedule,
    then dead-lettered with the error; the worker keeps running and delivering to others."""
    bs, (process, port, _) = broker.bootstrap, notifier
    bad = ev.outbound("CycleStarted", ev.pesel_from(940_000), GARBLED)
    good = [ev.outbound("CycleStarted", ev.pesel_from(940_001 + n), HEALTHY) for n in range(5)]
    send(bs, "pai.scheduler.events.v1", [bad, *good])
    ids = {event_id_of(r) for r in good}
    wait_for(lambda: ids <= verified(receiver, "healthy", HEALTHY).keys(), 30, "the healthy")
    letter = wait_for(
        lambda: notifier_dead_letter(bs, event_id_of(bad)), 30, "the garbled webhook dead-lettered"
    )
    assert [a["attempt"] for a in letter["attempts"]] == [1, 2, 3, 4]  # the whole schedule
    assert all(a["status_code"] is None for a in letter["attempts"])
    assert all(a["error"].startswith("malformed reply:") for a in letter["attempts"]), letter
    assert garbage.connections >= 4
    assert metric(port, "pai_notifier_webhooks_dead_lettered_total", partner=GARBLED) == 1
    # still running, still delivering, and the garbled record's offset was committed past
    later = [ev.outbound("CycleStarted", ev.pesel_from(940_010 + n), HEALTHY) for n in range(3)]
    send(bs, "pai.scheduler.events.v1", later)
    ids = {event_id_of(r) for r in later}
    wait_for(lambda: ids <= verified(receiver, "healthy", HEALTHY).keys(), 30, "later webhooks")
    assert process.poll() is None, "the worker stopped"
    lag = lambda: metric(port, "pai_consumer_lag", topic="pai.scheduler.events.v1")  # noqa: E731
    wait_for(lambda: lag() == 0, 30, "the notifier's lag back to 0")


def test_a_forged_replay_naming_one_ops_with_anothers_payload_is_dead_lettered(
    broker: EmbeddedBroker, receiver: Receiver, notifier: tuple[Any, int, Path]
) -> None:
    """The envelope says OPS A, the signed body is about a person of OPS B: A gets nothing
    (nor does B), the record goes to pai.dlq.v1 with the reason."""
    bs = broker.bootstrap
    codec = AvroCodec("notifier-dlq")
    key, value = ev.outbound("CycleStarted", ev.pesel_from(950_000), FORGED_B)
    fields = ev.SCHEDULER_EVENTS.decode(value).fields
    webhook = webhook_for("CycleStarted", fields, "seed")  # the webhook B would get
    forged = {
        "webhook_id": webhook.webhook_id,
        "occurred_at": dt.datetime.now(dt.UTC),
        "ops_code": FORGED_A,
        "webhook_type": webhook.type,
        "payload": webhook.body.decode(),
        "source_topic": "pai.scheduler.events.v1",
        "source_partition": 0,
        "source_offset": 0,
        "attempts": [],
    }
    send(bs, NOTIFIER_REPLAY.name, [(key, codec.encode("WebhookDeadLettered", forged))])
    letters = wait_for(
        lambda: [
            x
            for x in dead_letters_from(bs, NOTIFIER_REPLAY.name)
            if x["reason"] == "envelope-ops-code-mismatch"
            and webhook.webhook_id in x["exception.message"]
        ],
        30,
        "the forged replay dead-lettered",
    )
    assert FORGED_A in letters[0]["exception.message"]
    # an honest replay to A on the same partition (same key) arrives after it: A got only that
    _, honest_value = ev.outbound("CycleStarted", ev.pesel_from(950_000), FORGED_A)
    honest = webhook_for("CycleStarted", ev.SCHEDULER_EVENTS.decode(honest_value).fields, "seed")
    envelope = forged | {
        "webhook_id": honest.webhook_id,
        "ops_code": FORGED_A,
        "payload": honest.body.decode(),
    }
    send(bs, NOTIFIER_REPLAY.name, [(key, codec.encode("WebhookDeadLettered", envelope))])
    wait_for(
        lambda: honest.webhook_id in verified(receiver, "forged-a", FORGED_A),
        30,
        "the honest replay",
    )
    assert {r.headers["webhook-id"] for r in receiver.requests("forged-a")} == {honest.webhook_id}
    assert receiver.requests("forged-b") == []


def test_an_oversized_record_on_the_replay_topic_is_dead_lettered_before_decoding(
    broker: EmbeddedBroker, notifier: tuple[Any, int, Path]
) -> None:
    """The 64 KiB cap holds for the notifier's own topics too."""
    bs = broker.bootstrap
    key = f"oversized-{uuid.uuid4().hex[:8]}".encode()
    huge = b"\xc3\x01" + b"\x00" * (70 * 1024)
    send(bs, NOTIFIER_REPLAY.name, [(key, huge)])
    letters = wait_for(
        lambda: [
            x
            for x in dead_letters_from(bs, NOTIFIER_REPLAY.name)
            if x["key"] == key.decode() and x["reason"] == "oversized"
        ],
        30,
        "the oversized replay record dead-lettered",
    )
    assert "71,682 bytes" in letters[0]["exception.message"]
    assert notifier[0].poll() is None, "the worker goes on"


def test_a_worker_killed_mid_delivery_loses_no_webhook(
    broker: EmbeddedBroker,
    receiver: Receiver,
    garbage: RawListener,
    notifier: tuple[subprocess.Popen[bytes], int, Path],
    tmp_path: Path,
) -> None:
    """The module's worker (so: the module's last test) is killed with SIGKILL while a slow
    partner has requests in flight; a new worker in its group delivers every webhook, and
    a repeat carries the same id."""
    bs, (process, _, log) = broker.bootstrap, notifier
    receiver.behaviours["slow"] = Behaviour(hang_s=0.5)
    records = [ev.outbound("CycleEndingSoon", ev.pesel_from(930_000 + n), SLOW) for n in range(60)]
    send(bs, "pai.scheduler.events.v1", records)
    wait_for(lambda: receiver.requests("slow"), 30, "the first slow deliveries")
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    before = set(delivered(receiver, "slow"))
    assert len(before) < len(records), "everything arrived before the kill: nothing was tested"
    env = NOTIFIER_ENV | {
        "PAI_PARTNERS_FILE": str(partners_file(tmp_path / "partners.yaml", receiver, garbage)),
        f"SECRET_{ALL}": secret_of(ALL),
    }
    again, port = start_worker("services.notifier", bs, tmp_path / "data", log, **env)
    try:
        wait_ready(again, port, 40, log)
        ids = {event_id_of(r) for r in records}
        wait_for(lambda: ids <= verified(receiver, "slow", SLOW).keys(), 60, "every slow webhook")
        bodies = [orjson.loads(r.body) for r in receiver.requests("slow")]
        assert {b["data"]["event_id"] for b in bodies} == ids  # repeats carry their own id
    finally:
        terminate(again)
