"""``pai run``: the whole pipeline in one command, with the demo or for real use.

With the demo (the default): the embedded broker, the topics, the four services
as separate processes, a demo OPS receiver that verifies every signature, then
the story of ``services.demo.scenario`` with its progress and a summary per OPS
(the OPS post their events to the gateway, signed; the PUP records go to Kafka);
the pipeline keeps running afterwards until Ctrl-C (or stops at once with
``--exit-after-demo``). With ``--no-demo``: the broker (or ``--bootstrap`` for a
real cluster), the topics and the services with the ``PAI_`` settings of the
environment (the system clock, the partners file of ``PAI_PARTNERS_FILE``).
Ctrl-C or SIGTERM stops every service (SIGKILL after the grace period), then
the broker. The command's own library logs go to ``<workdir>/logs/pai-run.log``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import logging
import os
import sys
import time
from pathlib import Path

import yaml

from services.demo.driver import DemoFailed, Driver
from services.demo.ops_client import OpsGateway
from services.demo.receiver import DemoReceiver
from services.demo.scenario import OPS_OFFICES, expected_totals, phases
from services.local.embedded_broker import free_port
from services.local.pipeline import LocalPipeline, PipelineError
from services.runtime.logs import TextFormatter
from services.runtime.processes import sigterm_like_ctrl_c
from services.runtime.settings import load_settings

DEMO_ENV = {
    "PAI_CLOCK": "topic",  # the story moves the clock through pai.clock.v1
    "PAI_KAFKA_SESSION_TIMEOUT_S": "6",  # the embedded broker holds a join for half of it
    "PAI_KAFKA_HEARTBEAT_INTERVAL_S": "1",
    "PAI_NOTIFIER_RETRY_SCHEDULE": "1,2,5,10,30",
}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser(
        "run",
        help="run the whole pipeline (broker, topics, services), by default with the demo",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    run.add_argument("--no-demo", action="store_true", help="run the services only, for real use")
    run.add_argument(
        "--exit-after-demo", action="store_true", help="stop everything once the demo is over"
    )
    run.add_argument("--port", type=int, default=9092, help="embedded broker port (9092)")
    run.add_argument(
        "--bootstrap", help="use this Kafka (host:port) instead of the embedded broker"
    )
    run.add_argument(
        "--workdir", type=Path, default=Path("var/run"), help="logs and local state (var/run)"
    )
    run.add_argument("--partitions", type=int, help="partitions per topic (PAI_TOPIC_PARTITIONS)")
    run.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    sigterm_like_ctrl_c()
    settings = load_settings()
    demo = not args.no_demo
    if demo and args.bootstrap:
        print("pai run: the demo runs on the embedded broker; add --no-demo", file=sys.stderr)
        return 2
    log_to_file(args.workdir / "logs" / "pai-run.log")
    pipeline = LocalPipeline(
        args.workdir,
        bootstrap=args.bootstrap,
        broker_port=args.port,
        partitions=args.partitions or settings.topic_partitions,
    )
    secrets: dict[str, str] = {}
    inbound: dict[str, str] = {}
    receiver_port = 0
    if demo:
        receiver_port = free_port()
        secrets, inbound = (
            {o.code: "whsec_" + base64.b64encode(os.urandom(32)).decode() for o in OPS_OFFICES}
            for _ in range(2)
        )
        partners = args.workdir / "partners.yaml"
        write_private(
            partners,
            yaml.safe_dump({"partners": _demo_partners(receiver_port, secrets, inbound)}),
        )
        pipeline.env = DEMO_ENV | {"PAI_PARTNERS_FILE": str(partners)}
    elif args.bootstrap is None:
        pipeline.env = {k: v for k, v in DEMO_ENV.items() if "KAFKA" in k}
    try:
        pipeline.start_broker()
        where = "embedded, memory only" if args.bootstrap is None else "given"
        print(f"broker {pipeline.kafka} ({where}); topics ready", flush=True)
        pipeline.start_services()
        for name, took in pipeline.wait_ready().items():
            service = next(s for s in pipeline.services if s.name == name)
            assert service.process is not None
            print(
                f"{name:<12} ready in {took:4.1f} s   pid {service.process.pid:<7}"
                f" http://127.0.0.1:{service.port}   log {service.log}",
                flush=True,
            )
        if demo:
            return asyncio.run(
                _demo(pipeline, receiver_port, secrets, inbound, args.exit_after_demo)
            )
        print(
            f"\nrunning; send events with `pai send FILE --bootstrap {pipeline.kafka}`."
            " Ctrl-C stops everything.",
            flush=True,
        )
        while True:
            pipeline.check_alive()
            time.sleep(1)
    except PipelineError as exc:
        print(f"pai run: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping the services and the broker…", flush=True)
        return 0
    finally:
        pipeline.stop()
        print("stopped", flush=True)


def log_to_file(path: Path) -> None:
    """The command's own logging: to ``path``, PESEL masked like the services' logs.

    The console is for the person watching; client libraries log to the file (aiokafka
    logs a connection cut by Ctrl-C with a traceback, for instance).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(TextFormatter("pai-run"))
    logging.basicConfig(handlers=[handler], level=logging.WARNING, force=True)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` (secrets) to ``path``, readable by its owner only from the first byte.

    Created with mode 0600 (no window in which another user could open it); an existing
    file is truncated only after its mode is made 0600.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.ftruncate(fd, 0)
        data = memoryview(text.encode())
        while data:
            data = data[os.write(fd, data) :]
    finally:
        os.close(fd)


def _demo_partners(
    port: int, secrets: dict[str, str], inbound: dict[str, str]
) -> list[dict[str, object]]:
    return [
        {
            "ops_code": o.code,
            "name": o.name,
            "url": f"http://127.0.0.1:{port}/ops/{o.code}",
            "secret": secrets[o.code],
            "inbound_secret": inbound[o.code],  # what the OPS signs its posts to the gateway with
            "events": ["*"],
            "allow_http": True,  # the demo receiver is on loopback, without TLS
            "allow_private_network": True,
        }
        for o in OPS_OFFICES
    ]


async def _demo(
    pipeline: LocalPipeline,
    port: int,
    secrets: dict[str, str],
    inbound: dict[str, str],
    exit_after: bool,
) -> int:
    receiver = await DemoReceiver(secrets).start(port)
    try:
        story = phases()
        total = sum(expected_totals(story).values())
        print(
            f"\nDemo: {len(story)} days of 2026, 6 people, 2 PUPs, {len(OPS_OFFICES)} OPS;"
            f" {total} webhooks expected. Each line below is a webhook an OPS received and"
            " verified.",
            flush=True,
        )
        gateway = OpsGateway(f"http://127.0.0.1:{pipeline.port_of('gateway')}", inbound)
        driver = Driver(pipeline.kafka, receiver, story, sys.stdout, gateway)
        try:
            await driver.play()
        except DemoFailed as exc:
            pipeline.check_alive()
            print(f"\nDEMO FAILED: {exc}\nlogs: {pipeline.workdir / 'logs'}", flush=True)
            return 1
        ok = await driver.summary()
        if exit_after or not ok:
            return 0 if ok else 1
        print(
            f"\nThe pipeline keeps running on {pipeline.kafka} with the demo's clock"
            f" ({story[-1].day}); `pai send examples/events.yaml --bootstrap {pipeline.kafka}`"
            " reaches OPS Warszawa-Wola here. Ctrl-C stops everything.",
            flush=True,
        )
        while True:
            pipeline.check_alive()
            await asyncio.sleep(1)
    finally:
        await receiver.stop()
