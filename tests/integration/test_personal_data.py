"""A person's data as an office answers for it, on Apache Kafka with the three services running:
every reason of a decision cites a provision; three delivered webhooks (one retried) are
three disclosures with basis and purpose; two operators' reads appear in the access log by
name; after ``pai forget`` no view returns the person, no compacted topic holds a record
of theirs once compacted, and workers restarted from their changelogs do not bring them back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml
from aiokafka import AIOKafkaProducer

from services.personal_data import access_log
from services.runtime.codec import AvroCodec
from services.runtime.processes import terminate
from services.runtime.topic_reader import read_until_now
from services.runtime.topics import AUDIT, DISCLOSURES, ERASURES, NOTIFIER_DLQ, notifier_retry
from tests.integration.kafka_helpers import (
    FAST_COMPACTION,
    produce,
    set_topic_configs,
    topic_configs,
)
from tests.integration.service_helpers import dead_letters_from, decisions_for, wait_for
from tests.support import events as ev
from tests.support.apache_kafka import KafkaCluster
from tests.support.receiver import Behaviour, Receiver, delivered
from tests.support.workers import PARTITIONS, WORKER_ENV, start_worker, wait_ready

pytestmark = pytest.mark.integration
OPS = "9900031"  # this test's own OPS: other tests' events name others
ANNA = "anna-kowalska:" + "a" * 40
PIOTR = "piotr.nowak:" + "p" * 40
HASH_SECRET = "h" * 40
CHANGELOGS = ("pai-eligibility-persons-changelog", "pai-scheduler-schedules-changelog")
DAY = dt.date(2026, 3, 2)
LONG_AGO = dt.date(2023, 3, 2)


def occurred(record: tuple[bytes, bytes], on: dt.date) -> tuple[bytes, bytes]:
    """A ``pai.pup.profiles.v1`` record that says it occurred on ``on``."""
    decoded = ev.PROFILES.decode(record[1])
    at = dt.datetime.combine(on, dt.time(8), dt.UTC)
    return record[0], ev.PROFILES.encode(decoded.type, decoded.fields | {"occurred_at": at})


def bearer(named: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {named.split(':', 1)[1]}"}


class Pipeline:
    """The three services on the session's Kafka, with named tokens and one OPS receiver."""

    def __init__(self, kafka: KafkaCluster, tmp: Path, receiver: Receiver) -> None:
        self.bootstrap = kafka.bootstrap
        self.tmp = tmp
        partners = tmp / "partners.yaml"
        partners.write_text(
            yaml.safe_dump(
                {
                    "partners": [
                        {
                            "ops_code": OPS,
                            "name": "OPS Testowo",
                            "url": receiver.url("ops"),
                            "secret": "whsec_" + "QUJD" * 8,
                            "events": ["*"],
                            "allow_http": True,
                            "allow_private_network": True,
                        }
                    ]
                }
            )
        )
        self.env = WORKER_ENV | {
            "PAI_OPERATOR_TOKENS": f"{ANNA},{PIOTR}",
            "PAI_OPERATOR_USER_HEADER": "X-Forwarded-User",
            "PAI_AUDIT_HASH_SECRET": HASH_SECRET,
            "PAI_PARTNERS_FILE": str(partners),
            "PAI_NOTIFIER_RETRY_SCHEDULE": "0.5,0.5",
            "PAI_PERSON_RETENTION_YEARS": "90",
        }
        self.workers: dict[str, tuple[subprocess.Popen[bytes], int]] = {}

    def start(self, service: str, generation: int = 0) -> None:
        name = f"{service}-{generation}"
        log = self.tmp / f"{name}.log"
        process, port = start_worker(
            f"services.{service}.__main__", self.bootstrap, self.tmp / name, log, **self.env
        )
        self.workers[service] = (process, port)
        wait_ready(process, port, 90, log)

    def stop(self, service: str) -> None:
        process, _port = self.workers.pop(service)
        terminate(process, grace_s=15)

    def url(self, service: str, path: str) -> str:
        return f"http://127.0.0.1:{self.workers[service][1]}{path}"

    def pai(self, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
        """``pai *args`` as the operator whose named token is ``token`` (name:token)."""
        env = (
            os.environ
            | self.env
            | {
                "PAI_KAFKA_BOOTSTRAP": self.bootstrap,
                "PAI_ELIGIBILITY_URL": self.url("eligibility", ""),
                "PAI_SCHEDULER_URL": self.url("scheduler", ""),
                "PAI_OPERATOR_TOKEN": token.split(":", 1)[1] if token else "",
            }
        )
        return subprocess.run(
            [sys.executable, "-m", "services.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="module")
def pipeline(
    kafka: KafkaCluster, receiver: Receiver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    running = Pipeline(kafka, Path(tmp_path_factory.mktemp("personal-data")), receiver)
    try:
        for service in ("eligibility", "scheduler", "notifier"):
            running.start(service)
        yield running
    finally:
        for service in list(running.workers):
            running.stop(service)


def persons_records(bootstrap: str, topic: str, pesel: str) -> list[tuple[bytes, Any]]:
    records = asyncio.run(read_until_now({"bootstrap_servers": bootstrap}, topic))
    return [(r.key, r.value) for r in records if r.key and r.key.startswith(pesel.encode())]


async def roll_every_partition(bootstrap: str, topics: list[str]) -> None:
    """A tombstone of a key no one has on each partition: the active segment rolls
    (it is never compacted) and no table gains an entry."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for topic in topics:
            for partition in range(PARTITIONS):
                key = f"roll-{uuid.uuid4().hex}".encode()
                await producer.send_and_wait(topic, None, key=key, partition=partition)
    finally:
        await producer.stop()


def test_a_persons_decisions_disclosures_reads_and_erasure(
    pipeline: Pipeline, receiver: Receiver, era: int
) -> None:
    person, other = ev.pesel_from(990_310), ev.pesel_from(990_311)
    recent = ev.pesel_from(990_312)
    receiver.behaviours["ops"] = Behaviour(fail_first=0)
    # eligibility state for all three (no OPS event yet: decisions go to no OPS); the other
    # person's last event was years ago (for the retention check at the end). The other and
    # the recent person are deregistered: an open registration keeps a person whatever the
    # day (review finding 3), and the check at the end is about the day the sweep counts to
    asyncio.run(
        produce(
            pipeline.bootstrap,
            "pai.pup.profiles.v1",
            [ev.registered(p, DAY, 0) for p in (person, recent)]
            + [ev.profile(p, "III", DAY, 1) for p in (person, recent)]
            + [ev.deregistered(recent, DAY)]
            + [occurred(ev.registered(other, LONG_AGO, 0), LONG_AGO)]
            + [occurred(ev.profile(other, "III", LONG_AGO, 1), LONG_AGO)]
            + [occurred(ev.deregistered(other, LONG_AGO), LONG_AGO)],
        )
    )
    decided = wait_for(
        lambda: (d := decisions_for(pipeline.bootstrap, {person}))[person] and d,
        60,
        "the person's decisions",
    )
    for decision in decided[person]:
        cited = {c["applies_to"]: c["provision"] for c in decision.fields["legal_basis"]}
        assert decision.fields["reasons"] and set(decision.fields["reasons"]) <= set(cited)
        assert all("art. 62a" in provision for provision in cited.values())

    # three referrals, each rejected (not eligible, no such edition): three webhooks, the
    # first one failing once before it is delivered
    def referral(n: int) -> tuple[bytes, bytes]:
        return ev.referred(person, f"R-{n}", DAY, "NO-SUCH-EDITION", OPS, seq=n)

    receiver.behaviours["ops"] = Behaviour(fail_first=1)
    asyncio.run(produce(pipeline.bootstrap, "pai.pup.participation.v1", [referral(0)]))
    [retried] = wait_for(lambda: delivered(receiver, "ops"), 60, "the first webhook, retried")
    receiver.behaviours["ops"].fail_first = 0
    asyncio.run(produce(pipeline.bootstrap, "pai.pup.participation.v1", [referral(1), referral(2)]))
    ids = sorted(
        wait_for(lambda: len(d := delivered(receiver, "ops")) == 3 and d, 60, "3 webhooks")
    )
    attempts = [r.headers["webhook-id"] for r in receiver.requests("ops")]
    assert attempts.count(retried) == 2, "the first webhook was retried once"
    # the same scheduler event again (as after a crash before the notifier's commit): a
    # second delivery with the same webhook id is the same disclosure
    again = [
        (r.key, r.value)
        for r in asyncio.run(
            read_until_now({"bootstrap_servers": pipeline.bootstrap}, "pai.scheduler.events.v1")
        )
        if r.value and retried.encode() in r.value
    ]
    assert again
    asyncio.run(produce(pipeline.bootstrap, "pai.scheduler.events.v1", again[:1]))
    wait_for(
        lambda: [r.headers["webhook-id"] for r in receiver.requests("ops")].count(retried) == 3,
        60,
        "the repeat delivery",
    )

    def register() -> list[dict[str, Any]] | None:
        listed = pipeline.pai("disclosures", person, "--json", token=ANNA)
        assert listed.returncode == 0, listed.stderr
        entries = [orjson.loads(line) for line in listed.stdout.splitlines()]
        return entries if len(entries) >= 3 else None

    time.sleep(1)  # the repeat's register write, if it were a second entry, would show

    entries = wait_for(register, 30, "three disclosures in the register")
    assert sorted(e["webhook_id"] for e in entries) == ids, "exactly the delivered webhooks"
    for entry in entries:
        assert entry["type"] == "pai.referral.rejected" and entry["ops_code"] == OPS
        assert any("art. 62a" in basis for basis in entry["legal_basis"])
        assert entry["purpose"] and "identifier" in entry["data_categories"]
        assert "person_id" in entry["fields"]
    assert [e["delivered_at"] for e in entries] == sorted(e["delivered_at"] for e in entries)
    view = httpx.get(
        pipeline.url("notifier", f"/persons/{person}/disclosures"), headers=bearer(PIOTR)
    )
    assert view.status_code == 200, view.text
    assert [d["webhook_id"] for d in view.json()["disclosures"]] == [
        e["webhook_id"] for e in entries
    ]
    assert httpx.get(pipeline.url("notifier", f"/persons/{person}/disclosures")).status_code == 401

    # two operators read the person's data through the views
    read = httpx.get(pipeline.url("eligibility", f"/persons/{person}"), headers=bearer(ANNA))
    assert read.status_code == 200, read.text
    last = read.json()["last_decision"]
    assert last["legal_basis"] and last["legal_basis_version"], "the view shows the provisions"
    assert all("art. 62a" in citation["provision"] for citation in last["legal_basis"])
    assert set(last["reasons"]) <= {citation["applies_to"] for citation in last["legal_basis"]}
    cycles = httpx.get(
        pipeline.url("scheduler", f"/persons/{person}/cycles"),
        headers=bearer(PIOTR) | {"X-Forwarded-User": "p.nowak@pup.example"},
    )
    assert cycles.status_code == 200, cycles.text
    # the CLI's reads are recorded under the name of a verified token, never a made-up name
    made_up = pipeline.pai("audit", person, "--operator", "kontrola")
    assert made_up.returncode == 1 and "PAI_OPERATOR_TOKEN" in made_up.stderr, made_up.stderr
    mismatch = pipeline.pai("audit", person, "--operator", "kontrola", token=PIOTR)
    assert mismatch.returncode == 1 and "not the name of the token" in mismatch.stderr
    unknown = pipeline.pai("audit", person, token="x:" + "u" * 40)
    assert unknown.returncode == 1 and "none of the operator tokens" in unknown.stderr
    audit = pipeline.pai("audit", person, "--json", token=PIOTR)
    assert audit.returncode == 0, audit.stderr
    reads = [orjson.loads(line) for line in audit.stdout.splitlines()]
    seen = [(r["operator"], r["service"], r["what"]) for r in reads]
    assert ("anna-kowalska", "eligibility", "GET /persons/{pesel}") in seen
    assert ("piotr.nowak", "scheduler", "GET /persons/{pesel}/cycles") in seen
    assert ("piotr.nowak", "notifier", "GET /persons/{pesel}/disclosures") in seen
    assert ("anna-kowalska", "cli", "pai disclosures") in seen
    assert ("piotr.nowak", "cli", "pai audit") in seen
    assert not any(r["operator"] == "kontrola" for r in reads)
    assert any(r["user"] == "p.nowak@pup.example" for r in reads)

    # a fourth webhook the OPS refuses: dead-lettered after its retries, it waits there (as
    # one could in a retry topic) when the person is erased
    receiver.behaviours["ops"] = Behaviour(fail_first=3)
    asyncio.run(produce(pipeline.bootstrap, "pai.pup.participation.v1", [referral(3)]))

    def dead_lettered() -> list[tuple[bytes, bytes]]:
        letters = asyncio.run(
            read_until_now({"bootstrap_servers": pipeline.bootstrap}, NOTIFIER_DLQ.name)
        )
        return [
            (r.key, r.value)
            for r in letters
            if r.value and person in AvroCodec("notifier-dlq").decode(r.value).fields["payload"]
        ]

    [(pending_id, pending)] = wait_for(dead_lettered, 60, "the fourth webhook dead-lettered")
    receiver.behaviours["ops"] = Behaviour(fail_first=0)

    # an erasure must say why; and it is asked before it is done
    unexplained = httpx.delete(
        pipeline.url("eligibility", f"/persons/{person}"), headers=bearer(ANNA)
    )
    assert unexplained.status_code == 400 and "x-pai-erasure-reason" in unexplained.text
    refused = subprocess.run(
        [sys.executable, "-m", "services.cli", "forget", person, "--reason", "RODO art. 17"],
        env=os.environ | pipeline.env | {"PAI_KAFKA_BOOTSTRAP": pipeline.bootstrap},
        input="no\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1 and "nothing was erased" in refused.stdout
    forgot = pipeline.pai(
        "forget",
        person,
        "--reason",
        "RODO art. 17, wniosek 7/2026",
        "--yes",
        token=ANNA,
    )
    assert forgot.returncode == 0, forgot.stderr
    assert "eligibility table" in forgot.stdout and "scheduler table" in forgot.stdout
    assert f"{DISCLOSURES.name}: 3 record(s)" in forgot.stdout, forgot.stdout
    assert person not in forgot.stdout + forgot.stderr
    assert f"{ERASURES.name}: the erasure marker" in forgot.stdout

    # after the erasure: input from before it that arrives late (a decision, a profile
    # event, sent again) is dead-lettered as person-erased and brings no state back
    last_decision = [
        (r.key, r.value)
        for r in asyncio.run(
            read_until_now(
                {"bootstrap_servers": pipeline.bootstrap}, "pai.eligibility.decisions.v1"
            )
        )
        if r.key == person.encode() and r.value
    ][-1]
    asyncio.run(produce(pipeline.bootstrap, "pai.eligibility.decisions.v1", [last_decision]))
    asyncio.run(
        produce(pipeline.bootstrap, "pai.pup.profiles.v1", [ev.profile(person, "II", DAY, 2)])
    )

    def refused_late() -> set[str]:
        letters = [
            letter
            for topic in ("pai.eligibility.decisions.v1", "pai.pup.profiles.v1")
            for letter in dead_letters_from(pipeline.bootstrap, topic)
            if letter["reason"] == "person-erased" and letter["key"] == person
        ]
        found = {letter["topic"] for letter in letters}
        return found if len(found) == 2 else set()

    wait_for(refused_late, 30, "both late events dead-lettered as person-erased")

    # after the erasure: the webhook pending for the person is not delivered nor recorded,
    # whether replayed or taken from a retry topic
    replayed = pipeline.pai("dlq", "replay", "--webhook-id", pending_id.decode())
    assert replayed.returncode == 0, replayed.stderr
    assert "skipped 1 webhook(s) of erased persons" in replayed.stdout, replayed.stdout
    asyncio.run(produce(pipeline.bootstrap, notifier_retry(1).name, [(pending_id, pending)]))

    def dropped() -> bool:
        exposed = httpx.get(pipeline.url("notifier", "/metrics")).text
        return any(
            line.startswith("pai_notifier_events_skipped_total{")
            and 'reason="person-erased"' in line
            and float(line.rsplit(" ", 1)[1]) >= 1
            for line in exposed.splitlines()
        )

    wait_for(dropped, 30, "the notifier to drop the erased person's webhook")
    assert pending_id.decode() not in delivered(receiver, "ops")
    assert person not in httpx.get(pipeline.url("notifier", "/metrics")).text
    on_register = persons_records(pipeline.bootstrap, DISCLOSURES.name, person)
    assert not [key for key, _ in on_register if key.endswith(b":" + pending_id)], "not recorded"

    # compaction: no compacted per-person topic keeps a record of the person
    compacted = [*CHANGELOGS, DISCLOSURES.name, AUDIT.name]

    async def compact() -> None:
        before = {t: await topic_configs(pipeline.bootstrap, t) for t in compacted}
        for topic in compacted:
            kept = {k: before[topic][k] for k in ("cleanup.policy", "retention.ms")}
            await set_topic_configs(pipeline.bootstrap, topic, kept | FAST_COMPACTION)

    asyncio.run(compact())

    found: dict[str, int] = {}
    tombstones: dict[str, int] = {}

    def left() -> dict[str, int] | None:
        asyncio.run(roll_every_partition(pipeline.bootstrap, compacted))
        records = {t: persons_records(pipeline.bootstrap, t, person) for t in compacted}
        found.update({t: len(kept) for t, kept in records.items()})
        tombstones.update({t: sum(v is None for _, v in kept) for t, kept in records.items()})
        return None if any(found.values()) else found

    try:
        wait_for(left, 90, "compaction to remove every record of the person", interval=1)
    except AssertionError as timed_out:
        raise AssertionError(
            f"{timed_out}; records left per topic: {found}, of them tombstones: {tombstones}"
        ) from None

    # no view returns the person, from the running workers or restarted ones
    def gone() -> bool:
        return (
            httpx.get(
                pipeline.url("eligibility", f"/persons/{person}"), headers=bearer(ANNA)
            ).status_code
            == 404
            and httpx.get(
                pipeline.url("scheduler", f"/persons/{person}/cycles"), headers=bearer(ANNA)
            ).status_code
            == 404
            and httpx.get(
                pipeline.url("notifier", f"/persons/{person}/disclosures"), headers=bearer(ANNA)
            ).json()["disclosures"]
            == []
        )

    assert gone()
    for service in ("eligibility", "scheduler"):
        pipeline.stop(service)
        pipeline.start(service, generation=1)  # a new data directory: all from the changelog
    assert gone()
    kept = httpx.get(pipeline.url("eligibility", f"/persons/{other}"), headers=bearer(ANNA))
    assert kept.status_code == 200, "erasing one person left the others"
    listed = pipeline.pai("disclosures", person, "--json", token=ANNA)
    assert listed.returncode == 0 and listed.stdout == "", listed.stderr
    raw_audit = asyncio.run(read_until_now({"bootstrap_servers": pipeline.bootstrap}, AUDIT.name))
    hashed = f"erased:{access_log.person_hash(HASH_SECRET, person)}:".encode()
    facts = [
        AvroCodec("audit").decode(r.value).fields for r in raw_audit if r.key.startswith(hashed)
    ]
    # one fact from each service's view and one from pai forget, with all it removed
    assert len(facts) == 3, facts
    assert {f["removed"][0] for f in facts if len(f["removed"]) == 1} == {
        "eligibility table persons",
        "scheduler table schedules",
    }
    assert all(f["operator"] == "anna-kowalska" and "art. 17" in f["reason"] for f in facts)
    # the reads after the erasure (gone(), twice; a CLI listing) wrote no PESEL back: they
    # are recorded under the keyed hash
    assert not any(person.encode() in (r.key or b"") + (r.value or b"") for r in raw_audit)
    absent = f"absent:{access_log.person_hash(HASH_SECRET, person)}:".encode()
    looked_up = [
        AvroCodec("audit").decode(r.value).fields for r in raw_audit if r.key.startswith(absent)
    ]
    assert {(f["service"], f["what"]) for f in looked_up} >= {
        ("eligibility", "GET /persons/{pesel}"),
        ("scheduler", "GET /persons/{pesel}/cycles"),
        ("notifier", "GET /persons/{pesel}/disclosures"),
        ("cli", "pai disclosures"),
    }

    # retention (review L5): the topic clock is in this test's era, far ahead of the wall
    # clock, where every person of this test would look past retention; the sweep counts to
    # the wall clock's day instead, so it removes the person whose last event (LONG_AGO) is
    # past retention by both clocks and keeps the one whose last event was in 2026
    years = dt.date.today().year - LONG_AGO.year - 1
    assert dt.date(era, 1, 1) - DAY > dt.timedelta(days=366 * years), (
        "the topic clock alone must call the 2026 person expired: a later era is needed"
    )

    def status(pesel: str) -> int:
        view = pipeline.url("eligibility", f"/persons/{pesel}")
        return httpx.get(view, headers=bearer(ANNA)).status_code

    wait_for(lambda: status(recent) == 200, 30, "the recent person's state")
    pipeline.env["PAI_PERSON_RETENTION_YEARS"] = str(years)
    pipeline.stop("eligibility")
    new_year = dt.datetime(era, 1, 1, 12, tzinfo=dt.UTC)
    asyncio.run(produce(pipeline.bootstrap, "pai.clock.v1", [(b"", ev.tick(new_year))]))
    pipeline.start("eligibility", generation=2)
    log = pipeline.tmp / "eligibility-2.log"
    wait_for(lambda: "person(s) with a last event over" in log.read_text(), 30, "the sweep")
    assert "ahead of the wall clock" in log.read_text()
    assert status(other) == 404, "past retention by both clocks: removed"
    assert status(recent) == 200, "past retention only by the topic clock: kept"
