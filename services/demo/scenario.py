"""The demo's story: two PUPs, three OPS and six people through 2026, as events.

Pure data: every record is in the ``pai send`` form (``{topic, type, fields}``),
grouped into phases. A phase is what the PUP and OPS systems publish on one day,
then the clock moved to that day through ``pai.clock.v1``; it declares the
webhooks each OPS receives because of it, which is what the demo waits for and
checks. Dates follow the rules in SPEC.md: a cycle from 2 February runs to
1 April (art. 112 KC), three full cycles use the 180-day cap (art. 114 KC), a
profile review is due 7 days after a cycle ends, on a working day (art. 115 KC).

The people:

- Anna (PUP Warszawa, OPS Warszawa-Wola): a social contract, three full cycles, the
  cap, then one referral too many;
- Bartosz (PUP Warszawa, OPS Warszawa-Mokotów): finds a job and ends his cycle early;
- Celina (PUP Kraków, OPS Kraków): referred to a training during her cycle (an
  exclusivity conflict), one week short of the 10 hours, and 12 hours of PSU (prace
  społecznie użyteczne) in one week, over the 10 allowed;
- Dawid (PUP Kraków, OPS Kraków): profile II, not eligible under the seed rules,
  referred anyway and rejected;
- Ewa (PUP Warszawa, OPS Warszawa-Wola): her profile review comes late (overdue);
- Filip (PUP Kraków, OPS Kraków): first referred to an edition the county council
  has not given its opinion on (rejected), then to the right one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from services.scheduler.calendar import cycle_last_day, full_weeks

YEAR = 2026
WARSAW = ZoneInfo("Europe/Warsaw")
NAMESPACE = uuid.UUID("5f0c6a52-2f4e-4a8e-9d0e-6d656d6f2026")  # ids of demo events

PROFILES = "pai.pup.profiles.v1"
ASSISTANCE = "pai.ops.social-assistance.v1"
PARTICIPATION = "pai.pup.participation.v1"
ACTIVITIES = "pai.ops.integration-activities.v1"
EDITIONS = "pai.pup.program-editions.v1"


@dataclass(frozen=True)
class Office:
    code: str
    name: str


PUP_WARSZAWA = Office("1465", "PUP m.st. Warszawy")
PUP_KRAKOW = Office("1261", "PUP Kraków")
OPS_WOLA = Office("1465011", "OPS Warszawa-Wola")
OPS_MOKOTOW = Office("1465038", "OPS Warszawa-Mokotów")
OPS_KRAKOW = Office("1261011", "MOPS Kraków")
OPS_OFFICES = (OPS_WOLA, OPS_MOKOTOW, OPS_KRAKOW)


@dataclass(frozen=True)
class Person:
    name: str
    pesel: str
    pup: Office
    ops: Office


ANNA = Person("Anna", "85031405620", PUP_WARSZAWA, OPS_WOLA)
BARTOSZ = Person("Bartosz", "79112307914", PUP_WARSZAWA, OPS_MOKOTOW)
CELINA = Person("Celina", "92070803445", PUP_KRAKOW, OPS_KRAKOW)
DAWID = Person("Dawid", "88011904531", PUP_KRAKOW, OPS_KRAKOW)
EWA = Person("Ewa", "96022708284", PUP_WARSZAWA, OPS_WOLA)
FILIP = Person("Filip", "83060509157", PUP_KRAKOW, OPS_KRAKOW)
PEOPLE = (ANNA, BARTOSZ, CELINA, DAWID, EWA, FILIP)

ED_WARSZAWA = "PAI-1465-2026-1"
ED_KRAKOW = "PAI-1261-2026-1"
ED_KRAKOW_NO_OPINION = "PAI-1261-2026-2"  # the county council has not given its opinion


@dataclass
class Phase:
    """What is published on ``day``; then the clock moves to 06:00 Warsaw time that day."""

    day: dt.date
    title: str
    records: list[dict[str, Any]] = field(default_factory=list)
    expect: Counter[tuple[str, str]] = field(default_factory=Counter)  # (ops, type) → webhooks

    def tick(self) -> dict[str, Any]:
        now = dt.datetime.combine(self.day, dt.time(6), WARSAW).astimezone(dt.UTC)
        return {"topic": "pai.clock.v1", "type": "ClockTick", "fields": {"now": now}}


def _d(month: int, day: int) -> dt.date:
    return dt.date(YEAR, month, day)


class _Story:
    """Builds records with deterministic ids and increasing ``occurred_at``."""

    def __init__(self) -> None:
        self.seq = 0

    def record(self, topic: str, kind: str, on: dt.date, **fields: Any) -> dict[str, Any]:
        self.seq += 1
        at = dt.datetime.combine(on, dt.time(8), WARSAW) + dt.timedelta(seconds=self.seq)
        return {
            "topic": topic,
            "type": kind,
            "fields": {
                "event_id": str(uuid.uuid5(NAMESPACE, f"{self.seq}|{kind}")),
                "occurred_at": at.astimezone(dt.UTC),
                **fields,
            },
        }

    def edition(
        self, edition_id: str, pup: Office, ops: list[Office], opinion: dt.date | None
    ) -> dict[str, Any]:
        return self.record(
            EDITIONS,
            "ProgramEdition",
            _d(1, 12),
            edition_id=edition_id,
            pup_code=pup.code,
            ops_codes=[o.code for o in ops],
            council_opinion_on=opinion,
            valid_from=_d(1, 15),
            valid_to=_d(12, 31),
        )

    def registered(self, p: Person, on: dt.date, profile: str) -> list[dict[str, Any]]:
        who = {"person_id": p.pesel, "pup_code": p.pup.code}
        return [
            self.record(PROFILES, "UnemployedRegistered", on, **who, registered_on=on),
            self.record(
                PROFILES, "ProfileEstablished", on, **who, profile=profile, established_on=on
            ),
        ]

    def benefits(self, p: Person, on: dt.date) -> dict[str, Any]:
        return self.record(
            ASSISTANCE,
            "BenefitsGranted",
            on,
            person_id=p.pesel,
            ops_code=p.ops.code,
            granted_on=on,
            valid_until=None,
        )

    def contract(self, p: Person, on: dt.date) -> dict[str, Any]:
        return self.record(
            ASSISTANCE,
            "SocialContractSigned",
            on,
            person_id=p.pesel,
            ops_code=p.ops.code,
            contract_id=f"KS/{YEAR}/{p.name.upper()}",
            signed_on=on,
            valid_until=_d(12, 31),
        )

    def referred(
        self, p: Person, referral: str, edition: str, start: dt.date, on: dt.date
    ) -> dict[str, Any]:
        return self.record(
            PARTICIPATION,
            "ReferredToProgram",
            on,
            person_id=p.pesel,
            pup_code=p.pup.code,
            referral_id=referral,
            edition_id=edition,
            ops_code=p.ops.code,
            start_on=start,
        )

    def ended(self, p: Person, referral: str, on: dt.date, reason: str) -> dict[str, Any]:
        return self.record(
            PARTICIPATION,
            "ParticipationEnded",
            on,
            person_id=p.pesel,
            pup_code=p.pup.code,
            referral_id=referral,
            ended_on=on,
            reason=reason,
        )

    def reviewed(self, p: Person, on: dt.date, outcome: str) -> dict[str, Any]:
        return self.record(
            PARTICIPATION,
            "ProfileReviewed",
            on,
            person_id=p.pesel,
            pup_code=p.pup.code,
            reviewed_on=on,
            outcome=outcome,
            new_profile=None,
        )

    def other_assistance(self, p: Person, instrument: str, on: dt.date) -> dict[str, Any]:
        return self.record(
            PARTICIPATION,
            "OtherAssistanceReferral",
            on,
            person_id=p.pesel,
            pup_code=p.pup.code,
            instrument=instrument,
            referred_on=on,
        )

    def psu(self, p: Person, referral: str, on: dt.date, hours: float) -> dict[str, Any]:
        return self.record(
            PARTICIPATION,
            "PsuHoursReported",
            on,
            person_id=p.pesel,
            pup_code=p.pup.code,
            referral_id=referral,
            worked_on=on,
            hours=hours,
        )

    def hours(
        self, p: Person, referral: str, start: dt.date, last: dt.date, after: dt.date, upto: dt.date
    ) -> list[dict[str, Any]]:
        """The OPS reports for the full weeks of the cycle that ended in (after, upto]."""
        out = []
        for monday in full_weeks(start, last):
            sunday = monday + dt.timedelta(days=6)
            if after < sunday <= upto:
                value = 6.0 if (p is CELINA and monday == _d(2, 23)) else 12.0
                out.append(
                    self.record(
                        ACTIVITIES,
                        "IntegrationHoursReported",
                        sunday,
                        person_id=p.pesel,
                        ops_code=p.ops.code,
                        referral_id=referral,
                        week_start=monday,
                        hours=value,
                        activity="GROUP_COUNSELLING",
                    )
                )
        return out


def phases() -> list[Phase]:
    """The whole story, in order."""
    s = _Story()
    anna1, anna2, anna3 = _d(2, 2), _d(4, 13), _d(6, 15)
    cycles = {  # (person, referral, start, last day) of every cycle that runs
        "A1": (ANNA, "SK/1465/2026/001", anna1, cycle_last_day(anna1)),
        "A2": (ANNA, "SK/1465/2026/014", anna2, cycle_last_day(anna2)),
        "A3": (ANNA, "SK/1465/2026/027", anna3, cycle_last_day(anna3)),
        "B1": (BARTOSZ, "SK/1465/2026/002", _d(2, 2), _d(3, 13)),  # ended early
        "C1": (CELINA, "SK/1261/2026/001", _d(2, 2), cycle_last_day(_d(2, 2))),
        "E1": (EWA, "SK/1465/2026/003", _d(2, 2), cycle_last_day(_d(2, 2))),
        "F1": (FILIP, "SK/1261/2026/005", _d(2, 9), cycle_last_day(_d(2, 9))),
    }

    def hours(after: dt.date, upto: dt.date) -> list[dict[str, Any]]:
        return [
            r
            for p, ref, start, last in cycles.values()
            for r in s.hours(p, ref, start, last, after, upto)
        ]

    def expect(**by_type: list[Office]) -> Counter[tuple[str, str]]:
        found: Counter[tuple[str, str]] = Counter()
        for kind, offices in by_type.items():
            for office in offices:
                found[(office.code, "pai." + kind.replace("__", "."))] += 1
        return found

    out = [
        Phase(
            _d(1, 12),
            "Editions published; the PUPs register six people and set their profiles",
            [
                s.edition(ED_WARSZAWA, PUP_WARSZAWA, [OPS_WOLA, OPS_MOKOTOW], _d(1, 8)),
                s.edition(ED_KRAKOW, PUP_KRAKOW, [OPS_KRAKOW], _d(1, 9)),
                s.edition(ED_KRAKOW_NO_OPINION, PUP_KRAKOW, [OPS_KRAKOW], None),
                *[
                    r
                    for p in PEOPLE
                    for r in s.registered(p, _d(1, 12), "II" if p is DAWID else "III")
                ],
            ],
        ),
        Phase(
            _d(1, 19),
            "The OPS report a week's social assistance: contracts for Anna and Ewa, benefits"
            " for the rest (from 12 January)",
            [
                s.contract(p, _d(1, 12)) if p in (ANNA, EWA) else s.benefits(p, _d(1, 12))
                for p in PEOPLE
            ],
            expect(eligibility__changed=[p.ops for p in PEOPLE]),
        ),
        Phase(
            _d(2, 2),
            "Referrals from 2 February; Dawid is not eligible, Filip's edition lacks the"
            " council's opinion",
            [
                s.referred(ANNA, cycles["A1"][1], ED_WARSZAWA, anna1, _d(1, 26)),
                s.referred(BARTOSZ, cycles["B1"][1], ED_WARSZAWA, _d(2, 2), _d(1, 26)),
                s.referred(CELINA, cycles["C1"][1], ED_KRAKOW, _d(2, 2), _d(1, 26)),
                s.referred(EWA, cycles["E1"][1], ED_WARSZAWA, _d(2, 2), _d(1, 26)),
                s.referred(DAWID, "SK/1261/2026/002", ED_KRAKOW, _d(2, 2), _d(1, 26)),
                s.referred(FILIP, "SK/1261/2026/003", ED_KRAKOW_NO_OPINION, _d(2, 2), _d(1, 26)),
            ],
            expect(
                referral__accepted=[OPS_WOLA, OPS_MOKOTOW, OPS_KRAKOW, OPS_WOLA],
                cycle__started=[OPS_WOLA, OPS_MOKOTOW, OPS_KRAKOW, OPS_WOLA],
                referral__rejected=[OPS_KRAKOW, OPS_KRAKOW],
            ),
        ),
        Phase(
            _d(2, 9),
            "Filip referred again, to the edition with the council's opinion",
            [s.referred(FILIP, cycles["F1"][1], ED_KRAKOW, _d(2, 9), _d(2, 4))],
            expect(referral__accepted=[OPS_KRAKOW], cycle__started=[OPS_KRAKOW]),
        ),
        Phase(
            _d(2, 18),
            "The PUP Kraków refers Celina to a training during her cycle; hours reported",
            [s.other_assistance(CELINA, "training", _d(2, 16)), *hours(_d(1, 1), _d(2, 15))],
            expect(exclusivity__conflict=[OPS_KRAKOW]),
        ),
        Phase(
            _d(3, 4),
            "Hours reported; Celina had 6 hours in the week of 23 February, and 12 hours of"
            " PSU that week",
            [
                *hours(_d(2, 15), _d(3, 1)),
                *[s.psu(CELINA, cycles["C1"][1], _d(2, day), 4.0) for day in (23, 25, 27)],
            ],
            expect(integration_hours__shortfall=[OPS_KRAKOW], psu_hours__exceeded=[OPS_KRAKOW]),
        ),
        Phase(
            _d(3, 16),
            "Bartosz found a job: his cycle ends early on 13 March",
            [
                *hours(_d(3, 1), _d(3, 15)),
                s.ended(BARTOSZ, cycles["B1"][1], _d(3, 13), "EMPLOYMENT"),
            ],
            expect(cycle__ended=[OPS_MOKOTOW], profile_review__due=[OPS_MOKOTOW]),
        ),
        Phase(
            _d(3, 26),
            "A week before the cycles of 2 February end; Bartosz's profile reviewed",
            [*hours(_d(3, 15), _d(3, 22)), s.reviewed(BARTOSZ, _d(3, 18), "PROFILE_CHANGED")],
            expect(
                cycle__ending_soon=[OPS_WOLA, OPS_KRAKOW, OPS_WOLA],
                profile_review__completed=[OPS_MOKOTOW],
            ),
        ),
        Phase(
            _d(4, 2),
            "The cycles of 2 February ended on 1 April; reviews due by 8 April",
            hours(_d(3, 22), _d(3, 29)),
            expect(
                cycle__ended=[OPS_WOLA, OPS_KRAKOW, OPS_WOLA],
                profile_review__due=[OPS_WOLA, OPS_KRAKOW, OPS_WOLA],
                cycle__ending_soon=[OPS_KRAKOW],  # Filip's ends on 8 April
            ),
        ),
        Phase(
            _d(4, 9),
            "Anna and Celina reviewed on 7 April, Ewa not (overdue); Filip's cycle ended",
            [
                *hours(_d(3, 29), _d(4, 5)),
                s.reviewed(ANNA, _d(4, 7), "RE_REFERRAL"),
                s.reviewed(CELINA, _d(4, 7), "SOCIAL_COOPERATIVE"),
            ],
            expect(
                profile_review__completed=[OPS_WOLA, OPS_KRAKOW],
                profile_review__overdue=[OPS_WOLA],
                cycle__ended=[OPS_KRAKOW],
                profile_review__due=[OPS_KRAKOW],
            ),
        ),
        Phase(
            _d(4, 14),
            "Anna's second cycle from 13 April; Ewa and Filip reviewed",
            [
                s.referred(ANNA, cycles["A2"][1], ED_WARSZAWA, anna2, _d(4, 9)),
                s.reviewed(EWA, _d(4, 14), "PROFILE_CHANGED"),
                s.reviewed(FILIP, _d(4, 14), "SUPPORTED_EMPLOYMENT"),
            ],
            expect(
                referral__accepted=[OPS_WOLA],
                cycle__started=[OPS_WOLA],
                profile_review__completed=[OPS_WOLA, OPS_KRAKOW],
            ),
        ),
        Phase(
            _d(6, 13),
            "Anna's second cycle ended on 12 June",
            hours(_d(4, 5), _d(6, 12)),
            expect(
                cycle__ending_soon=[OPS_WOLA],
                cycle__ended=[OPS_WOLA],
                profile_review__due=[OPS_WOLA],
            ),
        ),
        Phase(
            _d(6, 15),
            "Anna reviewed and referred for a third cycle",
            [
                s.reviewed(ANNA, _d(6, 15), "RE_REFERRAL"),
                s.referred(ANNA, cycles["A3"][1], ED_WARSZAWA, anna3, _d(6, 15)),
            ],
            expect(
                profile_review__completed=[OPS_WOLA],
                referral__accepted=[OPS_WOLA],
                cycle__started=[OPS_WOLA],
            ),
        ),
        Phase(
            _d(8, 15),
            "Anna's third cycle ended on 14 August: 180 days used, the cap",
            hours(_d(6, 12), _d(8, 14)),
            expect(
                cycle__ending_soon=[OPS_WOLA],
                cycle__ended=[OPS_WOLA],
                profile_review__due=[OPS_WOLA],
                cap__exhausted=[OPS_WOLA],
            ),
        ),
        Phase(
            _d(8, 24),
            "Anna reviewed; one referral too many is rejected",
            [
                s.reviewed(ANNA, _d(8, 17), "RE_REFERRAL"),
                s.referred(ANNA, "SK/1465/2026/041", ED_WARSZAWA, _d(8, 24), _d(8, 18)),
            ],
            expect(profile_review__completed=[OPS_WOLA], referral__rejected=[OPS_WOLA]),
        ),
    ]
    return out


def expected_totals(story: list[Phase]) -> Counter[tuple[str, str]]:
    """Every webhook the story yields, per (OPS code, webhook type)."""
    total: Counter[tuple[str, str]] = Counter()
    for phase in story:
        total.update(phase.expect)
    return total
