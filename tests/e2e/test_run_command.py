"""The README's run command: ``pai run`` shows the demo to its end with the expected
webhook counts, and Ctrl-C in the middle stops every process it started."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from services.demo.scenario import PEOPLE, phases
from services.gateway.contract import ACCEPTED
from services.local.embedded_broker import free_port
from services.runtime.logs import mask_personal
from services.runtime.processes import terminate

pytestmark = pytest.mark.e2e
PAI = str(Path(sys.executable).parent / "pai")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _refused(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_the_demo_runs_to_its_end_with_the_expected_webhooks_per_ops(tmp_path: Path) -> None:
    port = free_port()
    command = [PAI, "run", "--exit-after-demo", "--port", str(port), "--workdir", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=400)
    out = result.stdout
    assert result.returncode == 0, out[-4000:] + result.stderr[-4000:]
    assert "[15/15] 2026-08-24" in out
    assert "Demo complete: 55 webhooks to 3 OPS" in out
    summary = out.split("Summary per OPS", 1)[1]
    rows = {line[:32].strip(): line[32:].split() for line in summary.splitlines()[2:] if line}
    assert rows["webhooks received/expected"] == ["29/29", "6/6", "20/20"]
    assert rows["signatures verified"] == ["29", "6", "20"]
    assert rows["refused by the receiver"] == ["0", "0", "0"]
    for kind in ("cap.exhausted", "exclusivity.conflict", "integration_hours.shortfall"):
        assert all(re.fullmatch(r"(\d+)/\1", cell) for cell in rows[kind]), rows[kind]
    assert rows["referral.rejected"] == ["1/1", "0/0", "2/2"]
    # webhook lines name people and mask their PESEL; neither output nor logs show one
    assert re.search(r"→ MOPS Kraków +Dawid 88\*{8}1 +referral\.rejected +NOT_ELIGIBLE", out)
    logs = "".join(p.read_text(errors="replace") for p in (tmp_path / "logs").iterdir())
    for person in PEOPLE:
        assert person.pesel not in out and person.pesel not in logs, person.name
    pids = [int(pid) for pid in re.findall(r"ready in +[\d.]+ s +pid (\d+)", out)]
    assert len(pids) == 4 and all(_gone(pid) for pid in pids)
    # every OPS event of the story went through the gateway, signed, once
    ops_events = [r for phase in phases() for r in phase.records if r["type"] in ACCEPTED]
    written = re.findall(r"event (\S+) \((\w+)\) written for", logs)
    # (the logs mask any run of 11 digits, a UUID's included)
    expected = [mask_personal(r["fields"]["event_id"]) for r in ops_events]
    assert len(expected) > 20 and sorted(e for e, _ in written) == sorted(expected)
    assert _refused(port)


def test_ctrl_c_in_the_middle_of_the_demo_stops_every_process(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [PAI, "run", "--port", str(port), "--workdir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # so that the cleanup's terminate() reaches its group
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 180
        while not any(line.startswith("[4/15]") for line in lines):
            assert process.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.2)
        pids = [int(p) for p in re.findall(r"ready in +[\d.]+ s +pid (\d+)", "".join(lines))]
        assert len(pids) == 4
        process.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends
        assert process.wait(30) == 0
    finally:
        terminate(process)
    reader.join(5)
    if process.stdout is not None:
        process.stdout.close()
    out = "".join(lines)
    assert out.rstrip().endswith("stopped"), out[-2000:]
    assert all(_gone(pid) for pid in pids)
    assert _refused(port)
    assert "Traceback" not in out
