"""``pai``: the operator command line (broker, topics, schemas, sending events, replay,
a person's disclosures, access log and erasure).

Every subcommand has ``--help``. Kafka settings come from the same ``PAI_``
environment variables as the services, and flags override them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import sys
import unicodedata
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from services import runner
from services.demo import receiver
from services.local.embedded_broker import BrokerError, EmbeddedBroker
from services.notifier import replay
from services.personal_data import commands as personal_data_commands
from services.runtime import event_files, partners
from services.runtime.contract_checks import check_store
from services.runtime.deadletter import read_error_headers
from services.runtime.kafka_admin import create_topics, partition_counts
from services.runtime.logs import mask_personal
from services.runtime.processes import sigterm_like_ctrl_c
from services.runtime.schemas import SchemaLoadError, SchemaStore
from services.runtime.settings import kafka_client_kwargs, load_settings, producer_kwargs
from services.runtime.topic_reader import read_until_now
from services.runtime.topics import ALL_TOPICS, DLQ


def _print_topic_results(client: dict[str, Any], partitions: int, replication: int) -> int:
    results = asyncio.run(create_topics(client, partitions, replication))
    failed = 0
    for result in results:
        if result.error:
            failed += 1
            print(f"  {result.name}: FAILED {result.error}", file=sys.stderr)
        else:
            state = "created" if result.created else "exists"
            print(f"  {result.name}: {state}")
    return 1 if failed else 0


def cmd_broker(args: argparse.Namespace) -> int:
    settings = load_settings()
    partitions = args.partitions or settings.topic_partitions
    broker = EmbeddedBroker(port=args.port, host=args.host, log_file=args.log_file)

    sigterm_like_ctrl_c()
    try:
        broker.start()
    except BrokerError as exc:
        print(f"pai broker: {exc}", file=sys.stderr)
        return 1
    try:
        print(f"embedded broker (tansu, memory only) listening on {broker.bootstrap}")
        if not args.no_topics:
            print(f"topics ({partitions} partitions):")
            if _print_topic_results({"bootstrap_servers": broker.bootstrap}, partitions, 1):
                return 1
        print(f"ready: export PAI_KAFKA_BOOTSTRAP={broker.bootstrap}   (Ctrl-C stops it)")
        sys.stdout.flush()
        code = broker.wait()
        print(f"pai broker: the broker exited with {code}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping the embedded broker (everything it held is gone)")
        return 0
    finally:
        broker.stop()


def cmd_topics_create(args: argparse.Namespace) -> int:
    settings = load_settings()
    client = kafka_client_kwargs(settings, args.bootstrap)
    partitions = args.partitions or settings.topic_partitions
    print(f"topics on {client['bootstrap_servers']} ({partitions} partitions):")
    return _print_topic_results(client, partitions, settings.topic_replication_factor)


def cmd_topics_list(args: argparse.Namespace) -> int:
    settings = load_settings()
    counts = asyncio.run(partition_counts(kafka_client_kwargs(settings, args.bootstrap)))
    for spec in ALL_TOPICS:
        have = counts.get(spec.name)
        state = f"{have} partitions" if have is not None else "MISSING"
        print(f"{spec.name:40} {state:15} {spec.summary}")
    return 0 if all(t.name in counts for t in ALL_TOPICS) else 1


def _schema_store(args: argparse.Namespace) -> SchemaStore | None:
    """The store of ``--schemas-dir``, or None with the file at fault on stderr."""
    try:
        return SchemaStore(args.schemas_dir)
    except (SchemaLoadError, FileNotFoundError) as refused:
        print(f"1 problem(s):\n  {refused}", file=sys.stderr)
        return None


def cmd_schemas_check(args: argparse.Namespace) -> int:
    store = _schema_store(args)
    if store is None:
        return 1
    problems = check_store(store)
    for name in store.names:
        versions = store.versions(name)
        print(f"{name}: v{versions[-1].version} current, {len(versions)} kept")
    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print("all schemas are documented and BACKWARD_TRANSITIVE compatible; none takes anything away")
    return 0


def cmd_schemas_list(args: argparse.Namespace) -> int:
    store = _schema_store(args)
    if store is None:
        return 1
    for name in store.names:
        for version in store.versions(name):
            fp = version.fingerprint[::-1].hex()
            print(f"{name:24} v{version.version}  fingerprint {fp}  {version.path}")
            for branch in version.branches:  # a record written alone (a generated class)
                print(f"{'':24}      {branch.fingerprint[::-1].hex()}  {branch.full_name}")
    return 0


def _instant(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def cmd_dlq_replay(args: argparse.Namespace) -> int:
    settings = load_settings()
    client = kafka_client_kwargs(settings, args.bootstrap)
    filters = replay.Filters(args.partner, args.type, args.webhook_id, args.since, args.until)
    secret = settings.audit_hash_secret
    chosen, erased = asyncio.run(
        replay.replay(
            client,
            filters,
            args.dry_run,
            producer_kwargs(settings),
            None if secret is None else secret.get_secret_value(),
        )
    )
    for fields in chosen:
        attempts = fields["attempts"]
        last = attempts[-1]["error"] if attempts else "-"
        print(
            f"  {fields['webhook_id']}  {fields['webhook_type']:32} to {fields['ops_code']}"
            f"  dead-lettered {fields['occurred_at']:%Y-%m-%d %H:%M:%S}Z"
            f"  after {len(attempts)} attempts (last: {last})"
        )
    for fields in erased:
        print(f"  {fields['webhook_id']}  skipped: its person was erased (pai forget)")
    verb = "would replay" if args.dry_run else "replayed"
    print(f"{verb} {len(chosen)} webhook(s) from pai.notifier.dlq.v1")
    if erased:
        print(f"skipped {len(erased)} webhook(s) of erased persons (pai.erasures.v1)")
    return 0


def for_terminal(text: str) -> str:
    """``text`` with control and format characters (ANSI escapes, carriage returns, bidi
    overrides) shown as ``\\xNN``/``\\uNNNN``: header values come from whoever produced the
    record, and must not move the cursor, clear the screen or disguise a line."""
    return "".join(
        (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
        if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")
        else c
        for c in text
    )


def cmd_dlq_list(args: argparse.Namespace) -> int:
    client = kafka_client_kwargs(load_settings(), args.bootstrap)
    shown = 0
    for record in asyncio.run(read_until_now(client, DLQ.name)):
        error = read_error_headers(list(record.headers))
        if any(
            wanted is not None and error.get(header) != wanted
            for header, wanted in (
                ("reason", args.reason),
                ("topic", args.topic),
                ("connector.name", args.service),
            )
        ):
            continue
        shown += 1
        safe = {name: for_terminal(value) for name, value in error.items()}
        where = f"{safe.get('topic')}[{safe.get('partition')}]@{safe.get('offset')}"
        print(
            f"  {where:40} {safe.get('reason', '-'):22} {safe.get('connector.name', '-'):12}"
            f" {mask_personal(safe.get('exception.message', ''))}"
        )
    print(f"{shown} dead letter(s) on {DLQ.name}")
    return 0


def cmd_receiver(args: argparse.Namespace) -> int:
    found = partners.load(args.partners)
    sigterm_like_ctrl_c()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(receiver.serve_partners(found, args.bind, args.port))
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    try:
        records = event_files.read(args.file)
    except event_files.EventFileError as exc:
        print(f"nothing sent:\n{exc}", file=sys.stderr)
        return 1
    if args.check:
        print(f"{len(records)} records are valid; nothing sent (--check)")
        return 0
    settings = load_settings()
    client = kafka_client_kwargs(settings, args.bootstrap)
    asyncio.run(_send_all(client | producer_kwargs(settings), records))
    by_topic: dict[str, int] = {}
    for record in records:
        by_topic[record.topic] = by_topic.get(record.topic, 0) + 1
    for topic, count in sorted(by_topic.items()):
        print(f"  {topic}: {count}")
    print(f"sent {len(records)} records from {args.file}")
    return 0


async def _send_all(client: dict[str, Any], records: list[event_files.OutboundRecord]) -> None:
    producer = AIOKafkaProducer(**client, linger_ms=5)
    await producer.start()
    progress = Progress(len(records))
    try:
        pending = []
        for record in records:
            pending.append(await producer.send(record.topic, value=record.value, key=record.key))
            if len(pending) >= 1000:
                await asyncio.gather(*pending)
                progress.advance(len(pending))
                pending = []
        await asyncio.gather(*pending)
        progress.advance(len(pending))
    finally:
        progress.done()
        await producer.stop()


class Progress:
    """``sent 12,000/50,000`` on standard error, rewritten in place on a terminal."""

    def __init__(self, total: int) -> None:
        self.total, self.sent = total, 0
        self.live = sys.stderr.isatty() and total >= 1000

    def advance(self, count: int) -> None:
        self.sent += count
        if self.live:
            print(f"\rsent {self.sent:,}/{self.total:,}", end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.live:
            print(file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pai", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    broker = sub.add_parser(
        "broker",
        help="run the embedded Kafka-protocol broker (tansu)",
        description="Run the embedded broker on loopback and create the"
        " topics. Memory only: for laptops, demos and tests.",
    )
    broker.add_argument("--port", type=int, default=9092, help="TCP port (default 9092)")
    broker.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback)")
    broker.add_argument(
        "--partitions", type=int, help="partitions per topic (PAI_TOPIC_PARTITIONS)"
    )
    broker.add_argument("--no-topics", action="store_true", help="do not create the topics")
    broker.add_argument("--log-file", type=Path, help="write the broker's own log here")
    broker.set_defaults(func=cmd_broker)

    topics = sub.add_parser("topics", help="create or list the contract's topics")
    topics_sub = topics.add_subparsers(dest="topics_command", required=True)
    create = topics_sub.add_parser("create", help="create missing topics (existing ones stay)")
    create.add_argument("--bootstrap", help="host:port (PAI_KAFKA_BOOTSTRAP)")
    create.add_argument(
        "--partitions", type=int, help="partitions per topic (PAI_TOPIC_PARTITIONS)"
    )
    create.set_defaults(func=cmd_topics_create)
    listing = topics_sub.add_parser("list", help="show the contract's topics on the broker")
    listing.add_argument("--bootstrap", help="host:port (PAI_KAFKA_BOOTSTRAP)")
    listing.set_defaults(func=cmd_topics_list)

    schemas = sub.add_parser("schemas", help="check or list the Avro schemas")
    schemas_sub = schemas.add_subparsers(dest="schemas_command", required=True)
    check = schemas_sub.add_parser(
        "check", help="every version BACKWARD_TRANSITIVE compatible and documented"
    )
    check.add_argument("--schemas-dir", type=Path, help="directory of <name>/vN.avsc files")
    check.set_defaults(func=cmd_schemas_check)
    lst = schemas_sub.add_parser(
        "list", help="every kept version with its fingerprint, and those of its records alone"
    )
    lst.add_argument("--schemas-dir", type=Path, help="directory of <name>/vN.avsc files")
    lst.set_defaults(func=cmd_schemas_list)

    send = sub.add_parser(
        "send",
        help="publish events written as JSON or YAML",
        description="Publish the records of FILE (JSON or YAML: a list of"
        " {topic, type, fields[, key]}) with the topics' Avro schemas. Every record is"
        " checked first; with any error nothing is sent, and each error names its line."
        " event_id and occurred_at may be left out; dates are YYYY-MM-DD, instants ISO 8601.",
    )
    send.add_argument("file", type=Path, help="the events file (.json, .yaml or .yml)")
    send.add_argument("--bootstrap", help="host:port (PAI_KAFKA_BOOTSTRAP)")
    send.add_argument("--check", action="store_true", help="check the file, send nothing")
    send.set_defaults(func=cmd_send)

    dlq = sub.add_parser("dlq", help="dead letters: list the inbound ones, replay webhooks")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True)
    rep = dlq_sub.add_parser(
        "replay",
        help="send dead-lettered webhooks again, with the same webhook-id",
        description="Read pai.notifier.dlq.v1 and write the matching webhooks to"
        " pai.notifier.replay.v1; the notifier delivers them at once, with a fresh retry"
        " schedule and the same webhook-id. Without filters, every dead letter.",
    )
    rep.add_argument("--bootstrap", help="host:port (PAI_KAFKA_BOOTSTRAP)")
    rep.add_argument("--partner", metavar="OPS_CODE", help="only this partner's webhooks")
    rep.add_argument("--type", help="only this webhook type, e.g. pai.cycle.started")
    rep.add_argument("--webhook-id", help="only this webhook")
    rep.add_argument(
        "--since", type=_instant, help="dead-lettered at or after (ISO 8601; UTC if no offset)"
    )
    rep.add_argument("--until", type=_instant, help="dead-lettered before (ISO 8601)")
    rep.add_argument("--dry-run", action="store_true", help="list what would be replayed")
    rep.set_defaults(func=cmd_dlq_replay)
    listing_dlq = dlq_sub.add_parser(
        "list",
        help="show the input records the services dead-lettered (pai.dlq.v1)",
        description="Read pai.dlq.v1 and print, for each dead letter, where the record came"
        " from (topic[partition]@offset), the reason, the service and what is wrong. These"
        " need the producer to fix the record; `pai dlq replay` is for webhooks only.",
    )
    listing_dlq.add_argument("--bootstrap", help="host:port (PAI_KAFKA_BOOTSTRAP)")
    listing_dlq.add_argument("--reason", help="only this reason, e.g. invalid-pesel")
    listing_dlq.add_argument("--topic", help="only records from this topic")
    listing_dlq.add_argument(
        "--service", choices=["eligibility", "scheduler", "notifier"], help="only this service's"
    )
    listing_dlq.set_defaults(func=cmd_dlq_list)

    rec = sub.add_parser(
        "receiver",
        help="a demo OPS webhook receiver for the partners of a partners file",
        description="Serve POST /ops/<ops_code> for every partner of FILE (the notifier's"
        " PAI_PARTNERS_FILE format, secrets included): each webhook's Standard Webhooks"
        " signature is verified with that partner's secret (401 otherwise), a person of"
        " another OPS is refused (400), a repeated webhook-id is acknowledged once."
        " GET /health answers while it runs. For docker-compose and trying things out.",
    )
    rec.add_argument("--partners", type=Path, required=True, help="partners file (YAML)")
    rec.add_argument("--bind", default="127.0.0.1", help="address to listen on")
    rec.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    rec.set_defaults(func=cmd_receiver)

    runner.add_parser(sub)
    personal_data_commands.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    sys.exit(args.func(args))


if __name__ == "__main__":
    main()
