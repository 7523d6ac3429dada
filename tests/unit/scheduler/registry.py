"""A PUP registry and an OPS in a test: one person's inbound events fed through
:func:`services.scheduler.handling.handle`, each with a fresh event id unless given."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from services.scheduler import domain, handling
from services.scheduler.domain import Config, Edition, Outgoing, Schedule

D = dt.date
PESEL = "44051401359"
PUP = "1465"
OPS = "1465011"
EDITION = Edition("ED-1", PUP, frozenset({OPS}), D(2025, 12, 1), D(2025, 12, 1), D(2028, 12, 31))


class Registry:
    def __init__(self, config: Config | None = None, editions: list[Edition] | None = None):
        self.schedule = Schedule(person_id=PESEL)
        self.config = config or Config()
        self.editions = {e.edition_id: e for e in (editions or [EDITION])}
        self.today = D(2026, 1, 1)
        self.wall: dt.date | None = None
        """The wall clock's day (None: the same as ``today``)."""
        self.n = 0

    def send(self, kind: str, event_id: str | None = None, **fields: Any) -> list[Outgoing]:
        """Handle one event on ``self.today``; raises :class:`handling.InvalidInput`."""
        self.n += 1
        base = {"event_id": event_id or str(uuid.uuid4()), "person_id": PESEL, "pup_code": PUP}
        return handling.handle(
            self.schedule,
            kind,
            base | fields,
            self.editions.get,
            self.today,
            self.config,
            self.wall,
        )

    def day(self, today: dt.date) -> list[Outgoing]:
        self.today = today
        return domain.on_day(self.schedule, today, self.config)

    def decision(
        self,
        eligible: bool,
        effective_from: dt.date | None,
        changes_on: dt.date | None = None,
        decided_on: dt.date | None = None,
    ) -> list[Outgoing]:
        return self.send(
            "EligibilityDecision",
            decided_on=decided_on or self.today,
            eligible=eligible,
            effective_from=effective_from,
            changes_on=changes_on,
        )

    def refer(
        self,
        referral: str,
        start: dt.date,
        edition: str = "ED-1",
        ops: str = OPS,
        event_id: str | None = None,
        pup: str = PUP,
    ) -> list[Outgoing]:
        return self.send(
            "ReferredToProgram",
            event_id=event_id,
            referral_id=referral,
            edition_id=edition,
            ops_code=ops,
            start_on=start,
            pup_code=pup,
        )

    def end(self, referral: str, on: dt.date, reason: str = "EMPLOYMENT") -> list[Outgoing]:
        return self.send("ParticipationEnded", referral_id=referral, ended_on=on, reason=reason)

    def review(
        self, on: dt.date, outcome: str = "RE_REFERRAL", new_profile: str | None = None
    ) -> list[Outgoing]:
        return self.send(
            "ProfileReviewed", reviewed_on=on, outcome=outcome, new_profile=new_profile
        )

    def hours(self, referral: str, week: dt.date, hours: float, activity: str) -> list[Outgoing]:
        return self.send(
            "IntegrationHoursReported",
            ops_code=OPS,
            referral_id=referral,
            week_start=week,
            hours=hours,
            activity=activity,
        )

    def psu(self, referral: str, worked_on: dt.date, hours: float) -> list[Outgoing]:
        return self.send("PsuHoursReported", referral_id=referral, worked_on=worked_on, hours=hours)


def kinds(events: list[Outgoing]) -> list[str]:
    return [e.kind.value for e in events]


def only(events: list[Outgoing], kind: str) -> Outgoing:
    [found] = [e for e in events if e.kind.value == kind]
    return found
