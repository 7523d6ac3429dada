"""``pai disclosures``, ``pai audit`` and ``pai forget``: a person's data, as an office answers
for it (RODO art. 15 and 17), from the command line.

Each command that shows a person's data records the read in the access log
(``pai.audit.v1``) before it shows anything, under the name of the caller's operator token
(``PAI_OPERATOR_TOKEN``, verified against ``PAI_OPERATOR_TOKENS`` / ``PAI_ADMIN_TOKEN``),
with the login name as the user; nothing is shown if the read cannot be recorded.
``pai forget`` erases the person in the running eligibility and scheduler workers
(``DELETE`` on their operator views, which tombstones the table's changelog), writes
tombstones for the person's keys on every compacted per-person topic (the two changelogs,
the disclosure register, the access log), and records only the fact of the erasure, with
a keyed hash for the PESEL.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
import os
import sys
from collections.abc import Callable
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.personal_data import access_log, disclosures, erasures
from services.personal_data.person_records import (
    AccessLog,
    RecordsUnavailable,
    producer_send,
    read_person,
)
from services.runtime.codec import AvroCodec, UndecodableRecord
from services.runtime.identifiers import is_valid_pesel
from services.runtime.operator_views import ERASURE_REASON
from services.runtime.operators import identify
from services.runtime.partitioning import expected_partition
from services.runtime.settings import Settings, kafka_client_kwargs, load_settings, producer_kwargs
from services.runtime.topic_reader import read_until_now
from services.runtime.topics import AUDIT, CLOCK, DISCLOSURES, ERASURES

CHANGELOGS = ("pai-eligibility-persons-changelog", "pai-scheduler-schedules-changelog")
"""The services' table changelogs, keyed by the PESEL bytes."""
HTTP_TIMEOUT_S = 30.0


class CommandFailed(Exception):
    """The command stops with this message (exit status 1)."""


OPERATOR_TOKEN_ENV = "PAI_OPERATOR_TOKEN"
"""The variable holding the caller's own operator token (``--token-env`` names another):
read by these commands only, never a service setting, so no workload sets it
(``tests/deploy/test_settings_coverage.py`` exempts it and checks that)."""
CLI_ONLY_VARIABLES = frozenset({OPERATOR_TOKEN_ENV})


def _operator(settings: Settings, args: argparse.Namespace) -> tuple[str, str]:
    """(name, token) of the operator running the command: the token in the variable
    ``--token-env`` names (``PAI_OPERATOR_TOKEN``), verified against the named tokens
    (``PAI_OPERATOR_TOKENS``, ``PAI_ADMIN_TOKEN``); the access log records its name."""
    token = os.environ.get(args.token_env, "").strip()
    if not token:
        raise CommandFailed(
            f"set {args.token_env} to your operator token: the access log records the name of"
            " the token, not a name given on the command line"
        )
    name = identify(settings.operator_tokens_by_name(), f"Bearer {token}".encode())
    if name is None:
        raise CommandFailed(
            f"the token in {args.token_env} is none of the operator tokens (PAI_OPERATOR_TOKENS,"
            " or PAI_ADMIN_TOKEN)"
        )
    if args.operator is not None and args.operator != name:
        raise CommandFailed(
            f"--operator {args.operator} is not the name of the token in {args.token_env}"
        )
    return name, token


def _pesel(text: str) -> str:
    if not is_valid_pesel(text):
        raise argparse.ArgumentTypeError("not a valid PESEL (11 digits with a valid check digit)")
    return text


def _since(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


async def _producer(settings: Settings, bootstrap: str | None) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(
        **kafka_client_kwargs(settings, bootstrap), **producer_kwargs(settings)
    )
    await producer.start()
    return producer


async def _read_as_operator(
    args: argparse.Namespace,
    topic: str,
    codec: AvroCodec,
    what: str,
    shown: Callable[[list[tuple[bytes, dict[str, Any] | None]]], list[dict[str, Any]]],
    lists_itself: bool = False,
) -> list[dict[str, Any]]:
    """Read the person's records of ``topic``, record the read (under the keyed hash when
    nothing of the person is ``shown``), then return what is shown (with ``lists_itself``,
    the access log, the read just recorded last)."""
    settings = load_settings()
    operator, _token = _operator(settings, args)
    producer = await _producer(settings, args.bootstrap)
    try:
        entries = shown(
            await read_person(
                kafka_client_kwargs(settings, args.bootstrap), topic, codec, args.pesel
            )
        )
        secret = settings.audit_hash_secret
        access = AccessLog(producer_send(producer), settings.topic_partitions, "cli")
        recorded = await access.record_lookup(
            bool(entries),
            None if secret is None else secret.get_secret_value(),
            args.pesel,
            operator,
            getpass.getuser(),
            what,
        )
        return [*entries, recorded] if entries and lists_itself else entries
    finally:
        await producer.stop()


def cmd_disclosures(args: argparse.Namespace) -> int:
    entries = [
        disclosures.as_json(e)
        for e in asyncio.run(
            _read_as_operator(
                args,
                DISCLOSURES.name,
                AvroCodec("disclosures"),
                "pai disclosures",
                lambda records: disclosures.listing(records, args.since),
            )
        )
    ]
    for entry in entries:
        if args.json:
            print(orjson.dumps(entry).decode())
        else:
            print(
                f"  {entry['delivered_at']}  {entry['type']:32} to OPS {entry['ops_code']}"
                f" ({entry['recipient']})  webhook {entry['webhook_id']}\n"
                f"      legal basis: {'; '.join(entry['legal_basis']) or '-'}\n"
                f"      purpose: {entry['purpose']}\n"
                f"      data: {', '.join(entry['data_categories'])}"
            )
    if not args.json:
        print(f"{len(entries)} disclosure(s) of this person on {DISCLOSURES.name}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    read = _read_as_operator(
        args, AUDIT.name, AvroCodec("audit"), "pai audit", access_log.reads, lists_itself=True
    )
    entries = [access_log.as_json(e) for e in asyncio.run(read)]
    for entry in entries:
        if args.json:
            print(orjson.dumps(entry).decode())
        else:
            user = f" ({entry['user']})" if entry["user"] else ""
            print(
                f"  {entry['at']}  {entry['operator']}{user}  {entry['service']:11} {entry['what']}"
            )
    if not args.json:
        print(f"{len(entries)} read(s) of this person's data on {AUDIT.name}")
    return 0


async def _erase_in_services(settings: Settings, pesel: str, token: str, reason: str) -> list[str]:
    removed: list[str] = []
    targets = (
        ("eligibility", f"{settings.eligibility_url.rstrip('/')}/persons/{pesel}"),
        ("scheduler", f"{settings.scheduler_url.rstrip('/')}/persons/{pesel}/cycles"),
    )
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as client:
        for service, url in targets:
            try:
                answer = await client.delete(
                    url, headers={"Authorization": f"Bearer {token}", ERASURE_REASON: reason}
                )
            except httpx.HTTPError as exc:
                raise CommandFailed(
                    f"the {service} service did not answer at {url.rsplit('/persons', 1)[0]}"
                    f" ({type(exc).__name__}); set PAI_{service.upper()}_URL. Done so far:"
                    f" {', '.join(removed) or 'nothing'}; pai forget can be run again"
                ) from exc
            if answer.status_code != 200:
                raise CommandFailed(
                    f"the {service} service answered {answer.status_code}: {answer.text[:200]}."
                    f" Done so far: {', '.join(removed) or 'nothing'}"
                )
            body = answer.json()
            removed.append(f"{service} table {body['table']}: {body['removed']}")
    return removed


async def _services_now(settings: Settings, client: dict[str, Any]) -> dt.datetime:
    """The services' time, which the erasure marker compares events with: the system
    clock, or with ``PAI_CLOCK=topic`` the latest tick when it is later (the services then
    date their decisions by the tick, and a decision from before the erasure must count
    as before it)."""
    now = dt.datetime.now(dt.UTC)
    if settings.clock != "topic":
        return now
    codec = AvroCodec(CLOCK.schema or "clock")
    ticks: list[dt.datetime] = []
    for record in await read_until_now(client, CLOCK.name):
        try:
            ticks.append(codec.decode(record.value).fields["now"])
        except UndecodableRecord:
            continue  # not a tick: the services skip it too
    return max([now, *ticks])


async def _forget(args: argparse.Namespace, settings: Settings, secret: str) -> list[str]:
    pesel: str = args.pesel
    operator, token = _operator(settings, args)
    client = kafka_client_kwargs(settings, args.bootstrap)
    producer = await _producer(settings, args.bootstrap)
    try:
        # the marker first: from now on the services drop what is in flight for the person
        # from before it (webhooks pending or dead-lettered, late input)
        key, fields = erasures.marker(secret, pesel, await _services_now(settings, client))
        await producer.send_and_wait(
            ERASURES.name, key=key, value=AvroCodec("erasures").encode("PersonErasure", fields)
        )
        removed = [f"{ERASURES.name}: the erasure marker (hash only)"]
        removed += await _erase_in_services(settings, pesel, token, " ".join(args.reason.split()))
        register = await read_person(client, DISCLOSURES.name, AvroCodec("disclosures"), pesel)
        reads = await read_person(client, AUDIT.name, AvroCodec("audit"), pesel)
        partition = expected_partition(pesel.encode(), settings.topic_partitions)
        sends = [
            await producer.send(topic, key=pesel.encode(), value=None, partition=partition)
            for topic in CHANGELOGS
        ]
        removed.append(f"tombstones on {', '.join(CHANGELOGS)}")
        for topic, records in ((DISCLOSURES.name, register), (AUDIT.name, reads)):
            keys = {key for key, fields in records if fields is not None}
            for key in sorted(keys):
                sends.append(await producer.send(topic, key=key, value=None, partition=partition))
            removed.append(f"{topic}: {len(keys)} record(s)")
        await asyncio.gather(*sends)
        key, fields = access_log.erasure_entry(
            secret, pesel, operator, args.reason, removed, dt.datetime.now(dt.UTC)
        )
        await producer.send_and_wait(
            AUDIT.name, key=key, value=AvroCodec("audit").encode("PersonErased", fields)
        )
    except KafkaError as exc:
        raise CommandFailed(f"Kafka refused a write ({exc!r}); run pai forget again") from exc
    finally:
        await producer.stop()
    return removed


def cmd_forget(args: argparse.Namespace, ask: Callable[[str], str] = input) -> int:
    settings = load_settings()
    if settings.audit_hash_secret is None:
        print(
            "pai forget: set PAI_AUDIT_HASH_SECRET (32+ characters): the access log records"
            " the erasure under a keyed hash of the PESEL, never the PESEL",
            file=sys.stderr,
        )
        return 2
    if not args.reason.strip():
        print(
            "pai forget: --reason must say why (e.g. a request under RODO art. 17)", file=sys.stderr
        )
        return 2
    if not args.yes:
        answer = ask(
            f"Erase {args.pesel[:2]}*******{args.pesel[-2:]} from the eligibility and scheduler"
            f" tables, {DISCLOSURES.name} and {AUDIT.name}? Type yes: "
        )
        if answer.strip().lower() != "yes":
            print("nothing was erased")
            return 1
    try:
        removed = asyncio.run(
            _forget(args, settings, settings.audit_hash_secret.get_secret_value())
        )
    except (CommandFailed, RecordsUnavailable) as exc:
        print(f"pai forget: {exc}", file=sys.stderr)
        return 1
    print("erased:")
    for line in removed:
        print(f"  {line}")
    print(f"recorded on {AUDIT.name} as an erasure, with a keyed hash instead of the PESEL")
    return 0


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (RecordsUnavailable, CommandFailed) as exc:
            print(f"pai {args.command}: {exc}", file=sys.stderr)
            return 1

    return run


def add_parsers(sub: Any) -> None:
    """``pai disclosures``, ``pai audit`` and ``pai forget``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("pesel", type=_pesel, help="the person's PESEL")
    common.add_argument("--bootstrap", help="host:port (PAI_KAFKA_BOOTSTRAP)")
    common.add_argument(
        "--token-env",
        default=OPERATOR_TOKEN_ENV,
        help="the environment variable holding your operator token (default"
        f" {OPERATOR_TOKEN_ENV}); the access log records the token's name",
    )
    common.add_argument(
        "--operator",
        help="your operator name, checked against the token's name (optional)",
    )
    listing = argparse.ArgumentParser(add_help=False, parents=[common])
    listing.add_argument("--json", action="store_true", help="one JSON object a line")
    dis = sub.add_parser(
        "disclosures",
        parents=[listing],
        help="a person's disclosures: every webhook delivered with their data",
        description="List the person's entries of the disclosure register"
        f" ({DISCLOSURES.name}) in order: webhook id, type, recipient OPS, when delivered,"
        " legal basis, purpose, categories of data. The read is recorded in the access log.",
    )
    dis.add_argument("--since", type=_since, help="delivered at or after (ISO 8601)")
    dis.set_defaults(func=_guarded(cmd_disclosures))
    aud = sub.add_parser(
        "audit",
        parents=[listing],
        help="who read a person's data, when and what (the access log)",
        description=f"List the reads of the person's data recorded on {AUDIT.name}: operator"
        " views and CLI commands, with the reader's name. This read is recorded too.",
    )
    aud.set_defaults(func=_guarded(cmd_audit))
    forget = sub.add_parser(
        "forget",
        parents=[common],
        help="erase a person from every table and compacted per-person topic",
        description="Erase the person in the running eligibility and scheduler workers"
        " (PAI_ELIGIBILITY_URL, PAI_SCHEDULER_URL, with the token of --operator), write"
        " tombstones for the person's keys on the changelogs, the disclosure register and"
        " the access log, and record the erasure with a keyed hash (PAI_AUDIT_HASH_SECRET)."
        " Asks before it acts unless --yes. Records on the event topics end with their"
        " retention.ms.",
    )
    forget.add_argument("--reason", required=True, help="why, e.g. 'RODO art. 17 request 12/2026'")
    forget.add_argument("--yes", action="store_true", help="do not ask")
    forget.set_defaults(func=_guarded(cmd_forget))
