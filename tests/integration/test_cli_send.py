"""``pai send``: a file of events reaches the topics as the services read them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.local.embedded_broker import EmbeddedBroker
from services.runtime.codec import AvroCodec
from services.runtime.partitioning import expected_partition
from tests.integration.service_helpers import read_topic
from tests.support.events import pesel_from

pytestmark = pytest.mark.integration


def pai(*args: str, bootstrap: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env={**os.environ, "PAI_KAFKA_BOOTSTRAP": bootstrap},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_valid_file_is_published_keyed_and_partitioned_and_a_bad_one_not_at_all(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    bs, pesel = broker.bootstrap, pesel_from(950_001)
    good = tmp_path / "events.yaml"
    good.write_text(
        f"""- topic: pai.pup.profiles.v1
  type: UnemployedRegistered
  fields: {{person_id: "{pesel}", pup_code: "1465", registered_on: 2026-01-05}}
- topic: pai.pup.profiles.v1
  type: ProfileEstablished
  fields: {{person_id: "{pesel}", pup_code: "1465", profile: III, established_on: 2026-01-20}}
"""
    )
    sent = pai("send", str(good), bootstrap=bs)
    assert sent.returncode == 0, sent.stderr
    assert "sent 2 records" in sent.stdout
    codec = AvroCodec("profiles")
    mine = [
        r for r in asyncio.run(read_topic(bs, "pai.pup.profiles.v1")) if r.key == pesel.encode()
    ]
    assert [codec.decode(r.value).type for r in mine] == [
        "UnemployedRegistered",
        "ProfileEstablished",
    ]
    assert {r.partition for r in mine} == {expected_partition(pesel.encode(), 4)}

    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("profile: III", "profile: IV"))
    refused = pai("send", str(bad), bootstrap=bs)
    assert refused.returncode == 1
    assert f"{bad}:4: record 2:" in refused.stderr and "nothing sent" in refused.stderr
    again = [
        r for r in asyncio.run(read_topic(bs, "pai.pup.profiles.v1")) if r.key == pesel.encode()
    ]
    assert len(again) == 2  # the valid first record of the bad file was not sent either
