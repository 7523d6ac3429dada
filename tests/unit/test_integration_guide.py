"""docs/integration-guide.md stays true: its snippets are the files the tests run, and it
names every reason a service can dead-letter an input with."""

from __future__ import annotations

import re
from pathlib import Path

from services.notifier import envelopes
from services.runtime.codec import DecodeFailure
from services.runtime.partitioning import MISPLACED_REASON

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "integration-guide.md"
SNIPPET = re.compile(r"<!-- snippet: (\S+) -->\n```\w+\n(.*?)```\n", re.DOTALL)
REJECTION = re.compile(r"(?:Rejected|InvalidInput|InvalidEvent)\(\s*\"([a-z]+(?:-[a-z]+)+)\"")


def test_every_snippet_is_its_file_verbatim() -> None:
    quoted = SNIPPET.findall(GUIDE.read_text(encoding="utf-8"))
    assert {path for path, _ in quoted} == {
        "clients/java/src/main/java/pl/pai/client/example/RegisterAndRefer.java",
        "clients/java/src/main/java/pl/pai/client/example/ReadDecisions.java",
        "examples/integration/Producer.cs",
        "examples/integration/producer_confluent.py",
        "examples/integration/producer_aiokafka.py",
    }
    for path, text in quoted:
        assert text == (ROOT / path).read_text(encoding="utf-8"), f"{path} differs from the guide"


def _reasons_in_the_services() -> set[str]:
    found = {failure.value for failure in DecodeFailure} | {MISPLACED_REASON}
    found |= {envelopes.OPS_CODE_MISMATCH, envelopes.PAYLOAD_MISMATCH, envelopes.PAYLOAD_INVALID}
    for source in (ROOT / "services").rglob("*.py"):
        found |= set(REJECTION.findall(source.read_text(encoding="utf-8")))
    return found


def test_every_dead_letter_reason_is_in_the_guide_with_its_fix() -> None:
    table = {
        code
        for line in GUIDE.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
        for code in re.findall(r"`([a-z]+(?:-[a-z]+)*)`", line.split("|")[1])
    }
    reasons = _reasons_in_the_services()
    assert len(reasons) > 25
    assert reasons - table == set()


def test_the_gateway_pointer_is_there() -> None:
    assert "[docs/gateway.md](gateway.md)" in GUIDE.read_text(encoding="utf-8")
