"""An OPS endpoint down for a stretch of the retry schedule, then back: every webhook
arrives, under the id it had, and none is dead-lettered."""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path

import pytest
from standardwebhooks import Webhook as Verifier

from services.local.embedded_broker import EmbeddedBroker
from services.runtime.codec import AvroCodec
from services.runtime.processes import terminate
from services.runtime.topics import NOTIFIER_DLQ
from tests.integration.kafka_helpers import produce
from tests.integration.service_helpers import read_topic, wait_for
from tests.support import events as ev
from tests.support.receiver import Behaviour, Receiver, delivered, loopback_partner, write_partners
from tests.support.workers import WORKER_ENV, start_worker, wait_ready

pytestmark = pytest.mark.e2e
OPS = "9800002"
SECRET = "whsec_" + base64.b64encode(b"outage test secret of 32 bytes..").decode()


def test_a_partner_down_for_part_of_the_schedule_gets_every_webhook_once_back(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    bs = broker.bootstrap
    receiver = Receiver().start()
    receiver.behaviours["ops"] = Behaviour(down=True)
    partners = write_partners(
        tmp_path / "partners.yaml", loopback_partner(OPS, receiver.url("ops"), SECRET)
    )
    env = WORKER_ENV | {
        "PAI_PARTNERS_FILE": str(partners),
        "PAI_NOTIFIER_RETRY_SCHEDULE": "1,2,4,8",
    }
    log = tmp_path / "notifier.log"
    worker, port = start_worker("services.notifier", bs, tmp_path / "data", log, **env)
    try:
        wait_ready(worker, port, 60, log)
        records = [
            ev.outbound("CycleEndingSoon", ev.pesel_from(970_000 + n), OPS) for n in range(300)
        ]
        asyncio.run(produce(bs, "pai.scheduler.events.v1", records))
        wait_for(lambda: len(receiver.requests("ops")) >= 300, 30, "the first attempts")
        time.sleep(2.5)  # down through the first two delays (1 s, then 2 s)
        receiver.behaviours["ops"] = Behaviour()
        codec = AvroCodec("scheduler-events")
        ids = {str(codec.decode(v).fields["event_id"]) for _, v in records}
        wait_for(lambda: ids <= delivered(receiver, "ops").keys(), 60, "every webhook")
        verifier = Verifier(SECRET)
        for request in receiver.requests("ops"):
            verifier.verify(request.body, request.headers)
        attempts = [r.headers["webhook-id"] for r in receiver.requests("ops")]
        assert set(attempts) == ids  # every attempt under its event's id, no other id
        assert min(attempts.count(i) for i in ids) >= 2  # each failed at least once first
        dead = AvroCodec("notifier-dlq")
        assert not [
            r
            for r in asyncio.run(read_topic(bs, NOTIFIER_DLQ.name, seconds=0.5))
            if dead.decode(r.value).fields["webhook_id"] in ids
        ]
    finally:
        terminate(worker)
        receiver.stop()
