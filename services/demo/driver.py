"""Plays the demo story through a running pipeline and reports what each OPS received.

For every phase: publish its records (the OPS's through the gateway, signed, as an OPS
system without a Kafka producer does; the PUP's to Kafka), wait until eligibility and
the scheduler have committed everything they read (so a clock tick never overtakes the
events before it), move the clock, then wait for the webhooks the phase declares. Each
webhook is printed as it arrives, PESELs masked. At the end a summary per OPS: decisions
and scheduler events that name it (read back from the topics), webhooks received and
verified, and whether that is exactly what the story expects, with every event naming an
OPS delivered there under its own id.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from aiokafka import AIOKafkaProducer

from services.demo.ops_client import GatewayRefused, OpsGateway
from services.demo.receiver import DemoReceiver
from services.demo.scenario import OPS_OFFICES, PEOPLE, Phase, expected_totals
from services.notifier.webhooks import TYPES
from services.runtime.codec import AvroCodec
from services.runtime.event_files import encode_record
from services.runtime.group_progress import caught_up
from services.runtime.identifiers import mask_pesel
from services.runtime.topic_reader import read_until_now

ELIGIBILITY_INPUTS = ("pai.pup.profiles.v1", "pai.ops.social-assistance.v1")
SCHEDULER_INPUTS = (
    "pai.pup.participation.v1",
    "pai.ops.integration-activities.v1",
    "pai.eligibility.decisions.v1",
)
OUTPUTS = {
    "pai.eligibility.decisions.v1": "eligibility-decisions",
    "pai.scheduler.events.v1": "scheduler-events",
}
NAMES = {p.pesel: p.name for p in PEOPLE}
OFFICES = {o.code: o for o in OPS_OFFICES}


class DemoFailed(RuntimeError):
    """The pipeline did not do what the story expects; the message says what is missing."""


def describe(body: dict[str, Any]) -> str:
    """One line a person can read about one webhook."""
    d, kind = body["data"], body["type"].removeprefix("pai.")
    details: dict[str, Callable[[], str]] = {
        "eligibility.changed": lambda: (
            ("eligible" + (", priority (social contract)" if d["priority"] else ""))
            if d["eligible"]
            else "not eligible: " + ", ".join(d["reasons"])
        ),
        "referral.accepted": lambda: (
            f"cycle {d['cycle_number']}: {d['start_on']} to {d['last_day']},"
            f" {d['days_left']} days of the cap left after it"
        ),
        "referral.rejected": lambda: ", ".join(d["reasons"]),
        "cycle.started": lambda: f"{d['start_on']} to {d['last_day']}",
        "cycle.ending_soon": lambda: f"last day {d['last_day']}",
        "cycle.ended": lambda: (
            ("corrected: " if d.get("corrected") else "")
            + f"on {d['ended_on']}"
            + (f", early ({d['end_reason']})" if d["early"] else "")
            + f", {d['days_used_total']} of 180 days used"
        ),
        "profile_review.due": lambda: f"due {d['due_on']}",
        "profile_review.overdue": lambda: f"was due {d['due_on']}",
        "profile_review.completed": lambda: (
            d["outcome"] + (", needs the OPS's agreement" if d["ops_agreement_required"] else "")
        ),
        "cap.exhausted": lambda: f"{d['days_used_total']} days used",
        "exclusivity.conflict": lambda: f"{d['instrument']} on {d['referred_on']}",
        "integration_hours.shortfall": lambda: (
            f"week of {d['week_start']}: {d['hours_reported']:g} h of {d['hours_required']:g}"
        ),
        "psu_hours.exceeded": lambda: (
            f"PSU {d['period'].lower()} from {d['period_start']}: {d['hours_reported']:g} h,"
            f" over {d['hours_limit']:g}"
        ),
    }
    who = f"{NAMES.get(d['person_id'], 'PESEL')} {mask_pesel(d['person_id'])}"
    return f"{who:<20} {kind:<28} {details[kind]()}"


@dataclass
class Driver:
    bootstrap: str
    receiver: DemoReceiver
    story: list[Phase]
    out: TextIO
    gateway: OpsGateway | None = None
    """Where the OPS post their events; None: every record goes to Kafka directly."""
    phase_timeout_s: float = 120.0

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def _on_webhook(self, ops: str, body: dict[str, Any]) -> None:
        self.say(f"    → {OFFICES[ops].name:<21} {describe(body)}")

    async def play(self) -> None:
        """The whole story; DemoFailed when a phase does not yield what it declares."""
        self.receiver.listeners.append(self._on_webhook)
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=5)
        await producer.start()
        try:
            await self._send(producer, [self.story[0].tick()])
            wanted: Counter[tuple[str, str]] = Counter()
            for number, phase in enumerate(self.story, 1):
                self.say(f"\n[{number}/{len(self.story)}] {phase.day} · {phase.title}")
                await self._send(producer, phase.records)
                await self._settle()
                await self._send(producer, [phase.tick()])
                wanted.update(phase.expect)
                await self._webhooks(wanted, phase)
        finally:
            await producer.stop()

    async def _send(self, producer: AIOKafkaProducer, records: list[dict[str, Any]]) -> None:
        if self.gateway is not None:
            try:
                records = await self.gateway.post(records)
            except GatewayRefused as exc:
                raise DemoFailed(str(exc)) from exc
        futures = []
        for item in records:
            topic, key, value = encode_record(item)
            futures.append(await producer.send(topic, value=value, key=key))
        await asyncio.gather(*futures)

    async def _settle(self) -> None:
        client = {"bootstrap_servers": self.bootstrap}
        for group, topics in (
            ("pai-eligibility", ELIGIBILITY_INPUTS),
            ("pai-scheduler", SCHEDULER_INPUTS),
        ):
            deadline = time.monotonic() + self.phase_timeout_s
            while not await caught_up(client, group, topics):
                if time.monotonic() > deadline:
                    raise DemoFailed(f"{group} did not read its input within the time allowed")
                await asyncio.sleep(0.3)

    async def _webhooks(self, wanted: Counter[tuple[str, str]], phase: Phase) -> None:
        deadline = time.monotonic() + self.phase_timeout_s
        while True:
            missing = wanted - self.receiver.counts()
            if not missing:
                return
            if time.monotonic() > deadline:
                listed = ", ".join(f"{n} x {t} for {ops}" for (ops, t), n in missing.items())
                raise DemoFailed(f"after '{phase.title}', still missing: {listed}")
            self.receiver.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.receiver.changed.wait(), 1.0)

    async def summary(self, quiet_s: float = 2.0) -> bool:
        """Print the table per OPS; True when everything is exactly as expected."""
        await asyncio.sleep(quiet_s)  # a webhook the story does not expect would show now
        published = await self._published()
        expected, got = expected_totals(self.story), self.receiver.counts()
        self.say("\nSummary per OPS")
        header = f"  {'':<30}" + "".join(f"{o.name:>24}" for o in OPS_OFFICES)
        self.say(header)

        def row(label: str, values: list[Any]) -> None:
            self.say(f"  {label:<30}" + "".join(f"{v!s:>24}" for v in values))

        row("decisions naming the OPS", [published[o.code]["decisions"] for o in OPS_OFFICES])
        row("scheduler events naming it", [published[o.code]["scheduler"] for o in OPS_OFFICES])
        for kind in TYPES.values():
            row(
                "  " + kind.removeprefix("pai."),
                [f"{got[(o.code, kind)]}/{expected[(o.code, kind)]}" for o in OPS_OFFICES],
            )
        totals = [
            f"{sum(n for (ops, _), n in got.items() if ops == o.code)}"
            f"/{sum(n for (ops, _), n in expected.items() if ops == o.code)}"
            for o in OPS_OFFICES
        ]
        row("webhooks received/expected", totals)
        row("signatures verified", [len(self.receiver.received[o.code]) for o in OPS_OFFICES])
        row("repeats (same webhook-id)", [self.receiver.repeats[o.code] for o in OPS_OFFICES])
        row("refused by the receiver", [self.receiver.refused[o.code] for o in OPS_OFFICES])
        self.say(f"  decisions before any OPS was known (no webhook): {published['']['decisions']}")
        problems = []
        if got != expected:
            problems.append(
                f"webhooks differ from the story: got {dict(got - expected)} more,"
                f" {dict(expected - got)} fewer"
            )
        undelivered = set()
        for ops, entry in published.items():
            if ops:
                received = {b["data"]["event_id"] for b in self.receiver.received[ops].values()}
                undelivered |= entry["ids"] - received
        if undelivered:
            problems.append(f"{len(undelivered)} events naming an OPS never reached it")
        if sum(self.receiver.refused.values()):
            problems.append("the receiver refused webhooks (bad signature or another OPS's person)")
        total = sum(got.values())
        if problems:
            self.say("\nDEMO FAILED: " + "; ".join(problems))
            return False
        self.say(
            f"\nDemo complete: {total} webhooks to {len(OPS_OFFICES)} OPS, every one signed,"
            " verified and as expected; every decision and scheduler event naming an OPS"
            " reached that OPS."
        )
        return True

    async def _published(self) -> dict[str, dict[str, Any]]:
        """Per OPS code ('' for none): decisions, scheduler events, and their event ids."""
        found: dict[str, dict[str, Any]] = {
            o: {"decisions": 0, "scheduler": 0, "ids": set()} for o in ["", *OFFICES]
        }
        for topic, schema in OUTPUTS.items():
            codec = AvroCodec(schema)
            kind = "decisions" if schema == "eligibility-decisions" else "scheduler"
            for record in await read_until_now({"bootstrap_servers": self.bootstrap}, topic):
                assert record.value is not None
                fields = codec.decode(record.value).fields
                entry = found.setdefault(
                    fields["ops_code"] or "", {"decisions": 0, "scheduler": 0, "ids": set()}
                )
                entry[kind] += 1
                if fields["ops_code"]:
                    entry["ids"].add(str(fields["event_id"]))
        return found
