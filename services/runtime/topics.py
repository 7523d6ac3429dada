"""The topic catalogue: every Kafka topic of SPEC.md, its schema, key and retention.

Data only; creating topics on a broker is :mod:`services.runtime.kafka_admin`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TopicSpec:
    """One topic of the contract."""

    name: str
    schema: str | None
    """Name of the schema under ``schemas/`` its values use; None for dead letters of raw bytes."""
    key: str
    """What the Kafka key is (``person_id`` for per-person topics)."""
    summary: str
    compacted: bool = False
    per_person: bool = True
    """Keyed by PESEL and sharing the partition count (murmur2 co-partitioning)."""
    retention_ms: int = 30 * 24 * 3600 * 1000
    deleted_by_time: bool = False
    """With ``compacted``: records older than ``retention_ms`` are deleted too
    (``cleanup.policy=compact,delete``)."""

    @property
    def cleanup_policy(self) -> list[str]:
        """The topic's ``cleanup.policy``, as a list."""
        if self.compacted:
            return ["compact", "delete"] if self.deleted_by_time else ["compact"]
        return ["delete"]


PROFILES = TopicSpec(
    "pai.pup.profiles.v1",
    "profiles",
    "person_id",
    "PUP registry: registration, profile established, deregistration",
)
SOCIAL_ASSISTANCE = TopicSpec(
    "pai.ops.social-assistance.v1",
    "social-assistance",
    "person_id",
    "OPS or PUP: benefits granted/ended, social contract signed/ended",
)
PARTICIPATION = TopicSpec(
    "pai.pup.participation.v1",
    "participation",
    "person_id",
    "PUP registry: referral, participation ended, profile reviewed, other-assistance referral,"
    " PSU hours",
)
INTEGRATION_ACTIVITIES = TopicSpec(
    "pai.ops.integration-activities.v1",
    "integration-activities",
    "person_id",
    "OPS / NGO: integration hours reported per week",
)
PROGRAM_EDITIONS = TopicSpec(
    "pai.pup.program-editions.v1",
    "program-editions",
    "edition_id",
    "PUP registry: program editions (latest record per edition is its state)",
    compacted=True,
    per_person=False,
    retention_ms=-1,
)
ELIGIBILITY_DECISIONS = TopicSpec(
    "pai.eligibility.decisions.v1",
    "eligibility-decisions",
    "person_id",
    "eligibility: decisions with the period they hold over, emitted on change",
)
SCHEDULER_EVENTS = TopicSpec(
    "pai.scheduler.events.v1",
    "scheduler-events",
    "person_id",
    "scheduler: referral accepted/rejected, cycle started, deadline and compliance events,"
    " PSU hours exceeded",
)
CLOCK = TopicSpec(
    "pai.clock.v1",
    "clock",
    "none",
    "tests and simulations: clock ticks, read only when PAI_CLOCK=topic",
    per_person=False,
)
DLQ = TopicSpec(
    "pai.dlq.v1",
    None,
    "the original key",
    "every service: input it could not read or accept; original bytes, reason in"
    " Kafka Connect error headers",
    per_person=False,
)
NOTIFIER_DLQ = TopicSpec(
    "pai.notifier.dlq.v1",
    "notifier-dlq",
    "webhook_id",
    "notifier: webhooks not delivered after the whole retry schedule",
    per_person=False,
)
NOTIFIER_REPLAY = TopicSpec(
    "pai.notifier.replay.v1",
    "notifier-dlq",
    "webhook_id",
    "pai dlq replay: dead-lettered webhooks to deliver again (no delay, a fresh schedule)",
    per_person=False,
)
TEN_YEARS_MS = 3653 * 24 * 3600 * 1000
DISCLOSURES = TopicSpec(
    "pai.notifier.disclosures.v1",
    "disclosures",
    "person_id:webhook_id",
    "notifier: the disclosure register, one record per webhook delivered with a person's data",
    compacted=True,
    deleted_by_time=True,
    retention_ms=TEN_YEARS_MS,
)
AUDIT = TopicSpec(
    "pai.audit.v1",
    "audit",
    "person_id:audit_id (an erasure: erased:<hash>:<audit_id>)",
    "the access log: reads of a person's data by operators, and erasures (no PESEL)",
    compacted=True,
    deleted_by_time=True,
    retention_ms=TEN_YEARS_MS,
)
"""Both are per person (their records sit on the partition of the person's PESEL) but keyed
``<PESEL>:<id>``: compaction keeps one record per disclosure or read, and an erasure
removes each by its key."""
ERASURES = TopicSpec(
    "pai.erasures.v1",
    "erasures",
    "erased:<hash> (HMAC of the PESEL)",
    "pai forget: the erasure marker of each erased person (no PESEL); the services drop"
    " what is still in flight for the person from before it",
    compacted=True,
    per_person=False,
    retention_ms=-1,
)
DEFAULT_RETRY_LEVELS = 7


def notifier_retry(level: int) -> TopicSpec:
    """The topic a webhook waits in after its ``level``-th failed attempt."""
    return TopicSpec(
        f"pai.notifier.retry.{level}",
        "notifier-dlq",
        "webhook_id",
        f"notifier: webhooks waiting for attempt {level + 1}"
        f" (the {level}. delay of PAI_NOTIFIER_RETRY_SCHEDULE)",
        per_person=False,
        retention_ms=7 * 24 * 3600 * 1000,
    )


ALL_TOPICS: tuple[TopicSpec, ...] = (
    PROFILES,
    SOCIAL_ASSISTANCE,
    PARTICIPATION,
    INTEGRATION_ACTIVITIES,
    PROGRAM_EDITIONS,
    ELIGIBILITY_DECISIONS,
    SCHEDULER_EVENTS,
    CLOCK,
    DLQ,
    NOTIFIER_DLQ,
    NOTIFIER_REPLAY,
    DISCLOSURES,
    AUDIT,
    ERASURES,
    *(notifier_retry(level) for level in range(1, DEFAULT_RETRY_LEVELS + 1)),
)
BY_NAME = {t.name: t for t in ALL_TOPICS}


def topic(name: str) -> TopicSpec:
    try:
        return BY_NAME[name]
    except KeyError:
        known = ", ".join(sorted(BY_NAME))
        raise KeyError(f"unknown topic {name!r}; the contract has {known}") from None
