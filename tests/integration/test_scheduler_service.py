"""The scheduler service through the embedded broker, moving time with ``pai.clock.v1``:
one person's three cycles and the cap, bad input, and a worker killed between two ticks."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import signal
import subprocess
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.local.embedded_broker import EmbeddedBroker
from services.runtime.codec import AvroCodec
from services.runtime.processes import terminate
from tests.integration.kafka_helpers import produce
from tests.integration.service_helpers import dead_letters_from, read_topic, wait_for
from tests.support import events as ev
from tests.support.metrics import by_label, metric
from tests.support.workers import TOKEN, WORKER_ENV, start_worker, wait_ready

pytestmark = pytest.mark.integration
EVENTS = AvroCodec("scheduler-events")


def send(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    asyncio.run(produce(bootstrap, topic, records))


def tick(bootstrap: str, day: dt.date) -> None:
    """Move the shared clock to 06:00 Warsaw time of ``day``."""
    instant = dt.datetime(day.year, day.month, day.day, 4, tzinfo=dt.UTC)
    send(bootstrap, "pai.clock.v1", [(b"", ev.tick(instant))])


def scheduler_events(bootstrap: str, persons: set[str]) -> dict[str, list[dict[str, Any]]]:
    """Each person's scheduler events in topic order, as ``{"type": ..., **fields}``."""
    found: dict[str, list[dict[str, Any]]] = {p: [] for p in persons}
    for record in asyncio.run(read_topic(bootstrap, "pai.scheduler.events.v1", seconds=0.5)):
        decoded = EVENTS.decode(record.value)
        if decoded.fields["person_id"] in persons:
            found[decoded.fields["person_id"]].append({"type": decoded.type, **decoded.fields})
    return found


def cycles_view(port: int, pesel: str, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"http://127.0.0.1:{port}/persons/{pesel}/cycles", headers=headers, timeout=5)


def weekly_hours(pesel: str, referral: str, first: dt.date, last: dt.date, short: set[dt.date]):
    """12 h for every week from the Monday of ``first`` to ``last`` (8 h in the ``short`` ones)."""
    monday = first - dt.timedelta(days=first.weekday())
    records = []
    while monday <= last:
        records.append(ev.hours(pesel, referral, monday, 8 if monday in short else 12))
        monday += dt.timedelta(days=7)
    return records


def one_worker(
    bs: str, tmp_path: Path, today: dt.date, persons: set[str], eligible_from: dt.date
) -> tuple[subprocess.Popen[bytes], int, Path]:
    """The clock at ``today``, edition ED-1 for the year, a ready worker that has read
    the ``persons``' eligibility decisions (dated ``eligible_from``)."""
    tick(bs, today)
    year = today.year
    edition = ev.edition("ED-1", dt.date(year, 1, 2), dt.date(year, 1, 1), dt.date(year, 12, 31))
    send(bs, "pai.pup.program-editions.v1", [edition])
    log = tmp_path / "scheduler.log"
    worker, port = start_worker("services.scheduler", bs, tmp_path / "data", log, **WORKER_ENV)
    try:
        wait_ready(worker, port, 30, log)
        send(
            bs,
            "pai.eligibility.decisions.v1",
            [ev.decision(p, True, eligible_from) for p in persons],
        )
        wait_for(
            lambda: all(cycles_view(port, p).status_code == 200 for p in persons),
            30,
            "the eligibility decisions read",
        )
    except BaseException:
        terminate(worker)
        raise
    return worker, port, log


def summary(event: dict[str, Any]) -> tuple[Any, ...]:
    """What an OPS case worker reads from an event: its type and its dates and numbers."""
    keys = {
        "ReferralAccepted": (
            "referral_id",
            "cycle_number",
            "start_on",
            "last_day",
            "days_used",
            "days_left",
        ),
        "ReferralRejected": ("referral_id", "reasons"),
        "CycleStarted": ("referral_id", "start_on", "last_day"),
        "CycleEndingSoon": ("referral_id", "last_day"),
        "CycleEnded": (
            "referral_id",
            "ended_on",
            "early",
            "end_reason",
            "days_used",
            "days_used_total",
            "days_left",
        ),
        "ProfileReviewDue": ("referral_id", "due_on"),
        "ProfileReviewOverdue": ("referral_id", "due_on"),
        "ProfileReviewRecorded": ("referral_id", "outcome", "ops_agreement_required"),
        "CapExhausted": ("referral_id", "days_used_total"),
        "ExclusivityConflict": ("referral_id", "instrument", "referred_on"),
        "IntegrationHoursShortfall": ("referral_id", "week_start", "hours_reported"),
    }[event["type"]]
    return (event["type"], *(event[k] for k in keys))


def test_three_cycles_one_ended_early_then_a_capped_fourth_and_a_rejected_fifth(
    broker: EmbeddedBroker, tmp_path: Path, era_like_2026: int
) -> None:
    """Dates are those of 2026 (the era has its weekdays); review deadlines avoid Easter."""
    bs, year = broker.bootstrap, era_like_2026
    d = lambda m, day: dt.date(year, m, day)  # noqa: E731
    anna = ev.pesel_from(year * 10 + 1)
    worker, port, log = one_worker(bs, tmp_path, d(3, 20), {anna}, d(3, 2))
    try:
        expected: list[tuple[Any, ...]] = []

        def step(records: list[tuple[str, tuple[bytes, bytes]]], *events: tuple[Any, ...]) -> None:
            """Send ``records`` (topic, record) in order, then see exactly ``events`` follow."""
            for topic, record in records:
                send(bs, topic, [record])
            expected.extend(events)
            deadline = time.monotonic() + 30
            while True:
                seen = [summary(e) for e in scheduler_events(bs, {anna})[anna]]
                if seen == expected or time.monotonic() > deadline:
                    break
            assert seen == expected

        def report_hours(
            pesel: str, referral: str, first: dt.date, last: dt.date, short: set[dt.date]
        ) -> None:
            """The OPS reports every week's hours; wait until the worker has them."""
            records = weekly_hours(pesel, referral, first, last, short)
            send(bs, "pai.ops.integration-activities.v1", records)
            wait_for(
                lambda: (
                    len(
                        next(
                            c["weekly_hours"]
                            for c in cycles_view(port, pesel).json()["cycles"]
                            if c["referral_id"] == referral
                        )
                    )
                    == len(records)
                ),
                30,
                f"the hours of {referral} read",
            )

        participation = "pai.pup.participation.v1"
        # cycle 1: 1 April (Wednesday) to 31 May, full; the week of 13 April has 8 hours
        step(
            [(participation, ev.referred(anna, "R1", d(4, 1)))],
            ("ReferralAccepted", "R1", 1, d(4, 1), d(5, 31), 0, 120),
        )
        report_hours(anna, "R1", d(4, 1), d(5, 31), short={d(4, 13)})
        tick(bs, d(4, 1))
        step([], ("CycleStarted", "R1", d(4, 1), d(5, 31)))
        tick(bs, d(6, 1))
        step(
            [],
            ("IntegrationHoursShortfall", "R1", d(4, 13), 8.0),
            ("CycleEndingSoon", "R1", d(5, 31)),
            ("CycleEnded", "R1", d(5, 31), False, None, 60, 60, 120),
            ("ProfileReviewDue", "R1", d(6, 8)),  # 7 June is a Sunday: art. 115 moves it
        )
        # cycle 2: from 15 June, ended early on 3 July (employment): 19 days
        step(
            [
                (participation, ev.profile_reviewed(anna, d(6, 5))),
                (participation, ev.referred(anna, "R2", d(6, 15))),
            ],
            ("ProfileReviewRecorded", "R1", "RE_REFERRAL", False),
            ("ReferralAccepted", "R2", 2, d(6, 15), d(8, 14), 60, 60),
        )
        report_hours(anna, "R2", d(6, 15), d(7, 3), short=set())
        tick(bs, d(6, 15))
        step([], ("CycleStarted", "R2", d(6, 15), d(8, 14)))
        tick(bs, d(7, 3))
        step(
            [(participation, ev.participation_ended(anna, "R2", d(7, 3), "EMPLOYMENT"))],
            ("CycleEnded", "R2", d(7, 3), True, "EMPLOYMENT", 19, 79, 101),
            ("ProfileReviewDue", "R2", d(7, 10)),
        )
        # the review comes late
        tick(bs, d(7, 13))
        step([], ("ProfileReviewOverdue", "R2", d(7, 10)))
        # a social cooperative needs the OPS's agreement, and opens no re-referral
        step(
            [
                (participation, ev.profile_reviewed(anna, d(7, 13), "SOCIAL_COOPERATIVE")),
                (participation, ev.referred(anna, "R3", d(7, 20))),
            ],
            ("ProfileReviewRecorded", "R2", "SOCIAL_COOPERATIVE", True),
            ("ReferralRejected", "R3", ["REVIEWED_SOCIAL_COOPERATIVE"]),
        )
        # cycle 3: re-reviewed (RE_REFERRAL, the latest review counts), then referred again:
        # 20 July to 19 September, full, with another assistance referral inside it
        step(
            [
                (participation, ev.profile_reviewed(anna, d(7, 14))),
                (participation, ev.referred(anna, "R3", d(7, 20))),
            ],
            ("ProfileReviewRecorded", "R2", "RE_REFERRAL", False),
            ("ReferralAccepted", "R3", 3, d(7, 20), d(9, 19), 79, 41),
        )
        report_hours(anna, "R3", d(7, 20), d(9, 19), short=set())
        tick(bs, d(8, 3))
        step([], ("CycleStarted", "R3", d(7, 20), d(9, 19)))
        step(
            [(participation, ev.other_assistance(anna, "training", d(8, 3)))],
            ("ExclusivityConflict", "R3", "training", d(8, 3)),
        )
        tick(bs, d(9, 21))
        step(
            [],
            ("CycleEndingSoon", "R3", d(9, 19)),
            ("CycleEnded", "R3", d(9, 19), False, None, 60, 139, 41),
            ("ProfileReviewDue", "R3", d(9, 28)),  # 26 September is a Saturday
        )
        # cycle 4: only 41 days-equivalent are left, so 5 October to 14 November
        step(
            [
                (participation, ev.profile_reviewed(anna, d(9, 25))),
                (participation, ev.referred(anna, "R4", d(10, 5))),
            ],
            ("ProfileReviewRecorded", "R3", "RE_REFERRAL", False),
            ("ReferralAccepted", "R4", 4, d(10, 5), d(11, 14), 139, 0),
        )
        report_hours(anna, "R4", d(10, 5), d(11, 14), short=set())
        tick(bs, d(11, 16))
        step(
            [],
            ("CycleStarted", "R4", d(10, 5), d(11, 14)),
            ("CycleEndingSoon", "R4", d(11, 14)),
            ("CycleEnded", "R4", d(11, 14), False, None, 41, 180, 0),
            ("ProfileReviewDue", "R4", d(11, 23)),  # 21 November is a Saturday
            ("CapExhausted", "R4", 180),
        )
        # the cap is used: a fifth referral is rejected
        step(
            [
                (participation, ev.profile_reviewed(anna, d(11, 20))),
                (participation, ev.referred(anna, "R5", d(12, 1))),
            ],
            ("ProfileReviewRecorded", "R4", "RE_REFERRAL", False),
            ("ReferralRejected", "R5", ["CAP_EXHAUSTED"]),
        )

        events = scheduler_events(bs, {anna})[anna]
        assert len({e["event_id"] for e in events}) == len(events)
        assert {e["ops_code"] for e in events} == {"1465011"}
        assert cycles_view(port, anna, token=None).status_code == 401
        view = cycles_view(port, anna).json()
        assert (view["days_used"], view["days_left"]) == (180, 0)
        assert [(c["referral_id"], c["days_used"]) for c in view["cycles"]] == [
            ("R1", 60),
            ("R2", 19),
            ("R3", 60),
            ("R4", 41),
        ]
        assert view["pending_deadlines"] == []
        assert anna not in log.read_text()  # PESEL masked in logs
        # /metrics counts what the topic holds, kind by kind; anna has no deadline left
        kinds = Counter(e["type"] for e in events)
        assert by_label(port, "pai_scheduler_events_total", "kind") == kinds
        assert kinds["ProfileReviewOverdue"] == 1 and kinds["CycleStarted"] == 4
        assert metric(port, "pai_scheduler_pending_deadlines") == 0
    finally:
        terminate(worker)


def test_bad_input_is_dead_lettered_with_its_reason_and_the_worker_goes_on(
    broker: EmbeddedBroker, tmp_path: Path, era_like_2026: int
) -> None:
    bs, year = broker.bootstrap, era_like_2026
    d = lambda m, day: dt.date(year, m, day)  # noqa: E731
    ben = ev.pesel_from(year * 10 + 2)
    worker, _, _ = one_worker(bs, tmp_path, d(2, 2), {ben}, d(1, 5))
    try:
        send(bs, "pai.pup.participation.v1", [ev.referred(ben, "R1", d(2, 4))])
        wait_for(lambda: scheduler_events(bs, {ben})[ben], 30, "ben's referral accepted")
        activities, participation = "pai.ops.integration-activities.v1", "pai.pup.participation.v1"
        bad = {
            activities: [
                (ev.hours(ben, "R-404", d(2, 9), 12), "unknown-referral"),
                (ev.hours(ben, "R1", d(2, 10), 12), "week-start-not-monday"),
                (ev.hours(ben, "R1", dt.date(9999, 12, 27), 12), "date-out-of-range"),
                (ev.hours(ben, "R1", d(2, 9), 200), "hours-out-of-range"),
                (ev.hours(ben, "R1", d(2, 9), 12, ops_code="1465022"), "wrong-ops"),
            ],
            participation: [
                (ev.participation_ended(ben, "R1", d(2, 3)), "end-before-start"),
                (ev.participation_ended(ben, "R-404", d(3, 1)), "unknown-referral"),
            ],
        }
        for topic, cases in bad.items():
            send(bs, topic, [record for record, _ in cases])
        # then a good record: the worker went on
        send(bs, participation, [ev.participation_ended(ben, "R1", d(2, 20), "RESIGNATION")])
        tick(bs, d(2, 20))  # an end dated after the clock's today ends the cycle on that date
        wait_for(
            lambda: any(e["type"] == "CycleEnded" for e in scheduler_events(bs, {ben})[ben]),
            30,
            "the cycle ended after the bad input",
        )
        for topic, cases in bad.items():
            letters = wait_for(
                lambda topic=topic, cases=cases: (
                    (found := [x for x in dead_letters_from(bs, topic) if x["key"] == ben])
                    and len(found) >= len(cases)
                    and found
                ),
                30,
                f"dead letters from {topic}",
            )
            assert sorted(x["reason"] for x in letters) == sorted(reason for _, reason in cases)
            assert all(x["partition"] and x["offset"] and x["exception.message"] for x in letters)
        assert worker.poll() is None
    finally:
        terminate(worker)


def test_a_worker_killed_between_two_ticks_loses_and_duplicates_no_deadline(
    broker: EmbeddedBroker, tmp_path: Path, era_like_2026: int
) -> None:
    """Two workers; one is killed with SIGKILL after the first tick; the second takes its
    persons over and emits the rest. Every deadline comes, each with exactly one id."""
    bs, year = broker.bootstrap, era_like_2026
    d = lambda m, day: dt.date(year, m, day)  # noqa: E731
    persons = {ev.pesel_from(year * 10 + n) for n in range(3, 15)}
    tick(bs, d(1, 2))
    send(bs, "pai.pup.program-editions.v1", [ev.edition("ED-1", d(1, 2), d(1, 1), d(12, 31))])
    workers = []
    for name in ("a", "b"):
        log = tmp_path / f"scheduler-{name}.log"
        process, port = start_worker("services.scheduler", bs, tmp_path / name, log, **WORKER_ENV)
        workers.append((process, port, log))
    try:
        for process, port, log in workers:
            wait_ready(process, port, 40, log)
        send(bs, "pai.eligibility.decisions.v1", [ev.decision(p, True, d(1, 2)) for p in persons])
        wait_for(
            lambda: all(cycles_view(workers[0][1], p).status_code == 200 for p in persons),
            30,
            "every decision read (asked of one worker, answered by the owner)",
        )
        # start Monday 5 January, last day 4 March: 8 full weeks with no hours reported
        send(bs, "pai.pup.participation.v1", [ev.referred(p, "R1", d(1, 5)) for p in persons])
        tick(bs, d(1, 5))
        wait_for(
            lambda: all(
                [e["type"] for e in evs] == ["ReferralAccepted", "CycleStarted"]
                for evs in scheduler_events(bs, persons).values()
            ),
            30,
            "every cycle started",
        )
        killed, _, killed_log = workers[0]
        assert re.search(
            r"due index rebuilt: \d+ persons .* on partitions \[\d", killed_log.read_text()
        )
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(10)
        tick(bs, d(3, 20))  # past the end, the review due date and its overdue
        weeks = [d(1, 5) + dt.timedelta(weeks=n) for n in range(8)]
        expected = sorted(
            [("ReferralAccepted", None), ("CycleStarted", None)]
            + [("IntegrationHoursShortfall", w) for w in weeks]
            + [
                ("CycleEndingSoon", None),
                ("CycleEnded", None),
                ("ProfileReviewDue", None),
                ("ProfileReviewOverdue", None),
            ],
            key=str,
        )

        def complete() -> dict[str, dict[tuple[str, Any], set[str]]] | None:
            ids: dict[str, dict[tuple[str, Any], set[str]]] = {p: defaultdict(set) for p in persons}
            for p, evs in scheduler_events(bs, persons).items():
                for e in evs:
                    ids[p][(e["type"], e.get("week_start"))].add(e["event_id"])
            done = all(sorted(found, key=str) == expected for found in ids.values())
            return ids if done else None

        ids = wait_for(complete, 60, "every deadline of every person")
        assert all(len(found) == 1 for person in ids.values() for found in person.values())
        survivor, _, _ = workers[1]
        assert survivor.poll() is None
    finally:
        for process, _, _ in workers:
            terminate(process)
