"""Where webhooks may go, which offsets may be committed, and what an event's webhook is."""

from __future__ import annotations

import datetime as dt
import uuid

import orjson
import pytest

from services.notifier import addresses
from services.notifier.offsets import OffsetTracker
from services.notifier.webhooks import NotAWebhook, webhook_for


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.8",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "fd00:ec2::254",
        "0.0.0.0",
        "100.64.0.1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_inward_addresses_are_refused(address: str) -> None:
    assert addresses.refusal(address) is not None


@pytest.mark.parametrize("address", ["193.0.96.129", "2001:4860:4860::8888", "8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert addresses.refusal(address) is None


def test_offsets_are_committed_only_below_the_lowest_record_in_flight() -> None:
    tracker: OffsetTracker[str] = OffsetTracker()
    for offset in (10, 11, 12, 13):
        tracker.started("p0", offset)
    tracker.finished("p0", 11)
    tracker.finished("p0", 13)
    assert tracker.committable() == {"p0": 10}
    assert tracker.in_flight("p0") == 2
    tracker.finished("p0", 10)
    assert tracker.committable() == {"p0": 12}
    tracker.finished("p0", 12)
    assert tracker.committable() == {"p0": 14}
    tracker.forget("p0")
    assert tracker.committable() == {}


def test_an_event_becomes_a_webhook_with_its_id_type_and_json_data() -> None:
    event_id = uuid.uuid4()
    fields = {
        "event_id": event_id,
        "occurred_at": dt.datetime(2026, 3, 2, 5, 0, 0, 123000, tzinfo=dt.UTC),
        "person_id": "44051401359",
        "pup_code": "1465",
        "ops_code": "1465011",
        "referral_id": "R1",
        "cycle_id": "c-1",
        "start_on": dt.date(2026, 3, 2),
        "last_day": dt.date(2026, 5, 1),
    }
    webhook = webhook_for("CycleStarted", fields, "seed")
    assert (webhook.webhook_id, webhook.type, webhook.ops_code) == (
        str(event_id),
        "pai.cycle.started",
        "1465011",
    )
    body = orjson.loads(webhook.body)
    assert body["timestamp"] == "2026-03-02T05:00:00.123Z"
    assert body["data"]["start_on"] == "2026-03-02" and body["data"]["event_id"] == str(event_id)
    with pytest.raises(NotAWebhook):
        webhook_for("ClockTick", fields, "seed")


@pytest.mark.parametrize(
    "address",
    [
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2002:a9fe:a9fe::",  # 6to4 of the metadata address
        "64:ff9b::7f00:1",  # NAT64 (well-known prefix) of 127.0.0.1
        "64:ff9b::c0a8:101",  # NAT64 of 192.168.1.1
        "64:ff9b:1::808:808",  # local-use NAT64 prefix: refused whatever it embeds
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "2001:0:7f00:1::80ff:fffe",  # Teredo, server and client 127.0.0.1
        "::ffff:10.0.0.1",
        "::127.0.0.1",  # IPv4-compatible (deprecated)
        "198.18.0.1",
        "240.0.0.1",
        "255.255.255.255",
    ],
)
def test_ipv6_embeddings_of_inward_addresses_are_refused(address: str) -> None:
    assert addresses.refusal(address) is not None


@pytest.mark.parametrize("address", ["2002:808:808::1", "64:ff9b::808:808", "64:ff9b::c100:6081"])
def test_6to4_and_nat64_of_a_public_address_are_allowed(address: str) -> None:
    """An IPv6-only cluster reaches an IPv4 partner through DNS64/NAT64: 64:ff9b::<public>."""
    assert addresses.refusal(address) is None
