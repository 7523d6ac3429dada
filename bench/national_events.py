"""A seeded year of events for a country of PUPs and OPS, as their registries would write them.

340 PUPs (four-digit county codes) and 2,479 OPS (seven-digit commune codes, each under
the PUP of its county); every person belongs to one PUP and one OPS of it. Per person,
with fixed odds from a generator seeded by (seed, person): a registration and a
profile; benefits (some with an end date, some ended early) or a social contract, or
neither; for about half of the supported, a referral to their PUP's programme edition,
weekly integration hours, and an early or on-time end; for some, a profile review.
The same seed gives the same bytes (event ids included), so a run can be repeated.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from services.runtime.codec import AvroCodec

PUPS = 340
OPS = 2479
YEAR = dt.date(2026, 1, 1)
CODECS = {
    "pai.pup.profiles.v1": AvroCodec("profiles"),
    "pai.ops.social-assistance.v1": AvroCodec("social-assistance"),
    "pai.pup.participation.v1": AvroCodec("participation"),
    "pai.ops.integration-activities.v1": AvroCodec("integration-activities"),
    "pai.pup.program-editions.v1": AvroCodec("program-editions"),
}
Record = tuple[str, bytes, bytes, str]
"""(topic, key, Avro value, event id)."""


def pup_code(i: int) -> str:
    return f"{2 + (i // 22) * 2:02d}{1 + i % 22:02d}"


def ops_code(j: int) -> str:
    """The j-th OPS: in the county of PUP ``j % PUPS``."""
    return f"{pup_code(j % PUPS)}{1 + j // PUPS:02d}1"


def ops_of(pup: int) -> list[str]:
    return [ops_code(j) for j in range(pup, OPS, PUPS)]


def pesel(n: int) -> str:
    """The n-th valid PESEL of a series with 168 million distinct numbers (born 1950-1999)."""
    serial, days = n % 10_000, n // 10_000
    year, month, day = 50 + days % 50, 1 + (days // 50) % 12, 1 + (days // 600) % 28
    body = f"{year:02d}{month:02d}{day:02d}{serial:04d}"
    check = (
        10 - sum(w * int(d) for w, d in zip((1, 3, 7, 9) * 2 + (1, 3), body, strict=True)) % 10
    ) % 10
    return body + str(check)


def editions() -> list[Record]:
    """One programme edition per PUP for the year, open to every OPS of its county."""
    codec, out = CODECS["pai.pup.program-editions.v1"], []
    for i in range(PUPS):
        edition_id = f"ED-{pup_code(i)}-2026"
        event_id = uuid.uuid5(uuid.NAMESPACE_URL, edition_id)
        fields = {
            "event_id": event_id,
            "occurred_at": dt.datetime(2025, 12, 15, 8, tzinfo=dt.UTC),
            "edition_id": edition_id,
            "pup_code": pup_code(i),
            "ops_codes": ops_of(i),
            "council_opinion_on": dt.date(2025, 12, 1),
            "valid_from": YEAR,
            "valid_to": dt.date(2026, 12, 31),
        }
        value = codec.encode("ProgramEdition", fields)
        out.append(("pai.pup.program-editions.v1", edition_id.encode(), value, str(event_id)))
    return out


@dataclass
class Person:
    """One person's generator: events appended in the order their registries write them."""

    n: int
    rng: random.Random

    def __post_init__(self) -> None:
        self.pesel = pesel(self.n)
        self.pup = self.rng.randrange(PUPS)
        self.ops = self.rng.choice(ops_of(self.pup))
        self.events: list[Record] = []
        self.seq = 0

    def add(self, topic: str, name: str, on: dt.date, **fields: Any) -> None:
        event_id = uuid.UUID(int=self.rng.getrandbits(128), version=4)
        self.seq += 1
        common = {
            "event_id": event_id,
            "occurred_at": dt.datetime.combine(on, dt.time(8), dt.UTC)
            + dt.timedelta(seconds=self.seq),
            "person_id": self.pesel,
        }
        value = CODECS[topic].encode(name, common | fields)
        self.events.append((topic, self.pesel.encode(), value, str(event_id)))

    def year(self) -> list[Record]:
        rng, pup, ops = self.rng, pup_code(self.pup), self.ops
        registered = YEAR + dt.timedelta(days=rng.randrange(200))
        profiles, assistance = "pai.pup.profiles.v1", "pai.ops.social-assistance.v1"
        self.add(
            profiles, "UnemployedRegistered", registered, pup_code=pup, registered_on=registered
        )
        level = rng.choices(("I", "II", "III"), (2, 5, 3))[0]
        profiled = registered + dt.timedelta(days=rng.randrange(14))
        self.add(
            profiles,
            "ProfileEstablished",
            profiled,
            pup_code=pup,
            profile=level,
            established_on=profiled,
        )
        supported = rng.random()
        granted = profiled + dt.timedelta(days=rng.randrange(30))
        if supported < 0.45:
            until = (
                granted + dt.timedelta(days=rng.randrange(60, 300)) if rng.random() < 0.5 else None
            )
            self.add(
                assistance,
                "BenefitsGranted",
                granted,
                ops_code=ops,
                granted_on=granted,
                valid_until=until,
            )
        elif supported < 0.65:
            until = granted + dt.timedelta(days=rng.randrange(90, 365))
            self.add(
                assistance,
                "SocialContractSigned",
                granted,
                ops_code=ops,
                contract_id=f"KS/{self.n}",
                signed_on=granted,
                valid_until=until,
            )
        else:
            return self.events
        if level == "III" and rng.random() < 0.6:
            self._participation(pup, ops, granted)
        return self.events

    def _participation(self, pup: str, ops: str, granted: dt.date) -> None:
        rng, participation = self.rng, "pai.pup.participation.v1"
        referral = f"R/{self.n}"
        start = granted + dt.timedelta(days=7 + rng.randrange(30))
        edition = f"ED-{pup}-2026"
        self.add(
            participation,
            "ReferredToProgram",
            start - dt.timedelta(days=7),
            pup_code=pup,
            referral_id=referral,
            edition_id=edition,
            ops_code=ops,
            start_on=start,
        )
        week = start - dt.timedelta(days=start.weekday())
        for k in range(rng.randrange(2, 8)):
            monday = week + dt.timedelta(weeks=k)
            self.add(
                "pai.ops.integration-activities.v1",
                "IntegrationHoursReported",
                monday + dt.timedelta(days=7),
                ops_code=ops,
                referral_id=referral,
                week_start=monday,
                hours=float(rng.choice((2, 4, 6, 8, 10))),
                activity=rng.choice(("GROUP_COUNSELLING", "TRAINER_WORKSHOP", "SUPPORT_GROUP")),
            )
        end = rng.random()
        if end < 0.3:  # early: a job or a resignation
            ended = start + dt.timedelta(days=rng.randrange(20, 150))
            reason = rng.choice(("EMPLOYMENT", "RESIGNATION"))
        elif end < 0.6:
            ended, reason = start + dt.timedelta(days=182), "COMPLETED"
        else:
            return
        self.add(
            participation,
            "ParticipationEnded",
            ended,
            pup_code=pup,
            referral_id=referral,
            ended_on=ended,
            reason=reason,
        )
        if rng.random() < 0.5:
            reviewed = ended + dt.timedelta(days=rng.randrange(1, 30))
            self.add(
                participation,
                "ProfileReviewed",
                reviewed,
                pup_code=pup,
                reviewed_on=reviewed,
                outcome=rng.choice(("RE_REFERRAL", "SUPPORTED_EMPLOYMENT", "PROFILE_CHANGED")),
                new_profile=None,
            )


def people(count: int, seed: int) -> Iterator[list[Record]]:
    """Each person's year, person by person (the same for the same seed)."""
    for n in range(count):
        yield Person(n, random.Random(seed * 10_000_019 + n)).year()
