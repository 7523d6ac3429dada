"""Service logs: one JSON object a line with the record's coordinates, and never a PESEL."""

from __future__ import annotations

import io
import logging
import logging.config

import orjson
import pytest

from services.runtime.logs import logging_config, mask_personal, where

PESEL = "44051401359"


@pytest.fixture
def captured() -> io.StringIO:
    """The root logger configured as a service configures it, writing to a buffer."""
    return io.StringIO()


def configure(captured: io.StringIO, log_format: str) -> logging.Logger:
    config = logging_config("scheduler", log_format, "info")
    config["handlers"]["default"]["stream"] = captured
    logging.config.dictConfig(config)
    return logging.getLogger("services.scheduler.app")


@pytest.fixture(autouse=True)
def restore_logging() -> object:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield None
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_json_line_names_the_service_and_the_record(captured: io.StringIO) -> None:
    log = configure(captured, "json")
    log.warning(
        "dead letter %s from %s",
        "invalid-pesel",
        "pai.pup.participation.v1",
        extra=where("pai.pup.participation.v1", 3, 1207, "5c1e...", reason="invalid-pesel"),
    )
    line = orjson.loads(captured.getvalue())
    assert line["service"] == "scheduler"
    assert line["level"] == "warning"
    assert line["logger"] == "services.scheduler.app"
    assert line["message"] == "dead letter invalid-pesel from pai.pup.participation.v1"
    assert (line["topic"], line["partition"], line["offset"]) == (
        "pai.pup.participation.v1",
        3,
        1207,
    )
    assert (line["event_id"], line["reason"]) == ("5c1e...", "invalid-pesel")
    assert line["time"].endswith("+00:00")


def test_a_pesel_that_slips_into_a_message_or_a_traceback_is_masked(
    captured: io.StringIO,
) -> None:
    log = configure(captured, "json")
    try:
        raise ValueError(f"no schedule for {PESEL}")
    except ValueError:
        log.exception("failed for %s", PESEL)
    text = captured.getvalue()
    assert PESEL not in text
    line = orjson.loads(text)
    assert line["message"] == "failed for 44********9"
    assert "no schedule for 44********9" in line["exception"]


def test_every_line_is_one_json_object(captured: io.StringIO) -> None:
    log = configure(captured, "json")
    log.info("first\nwith a newline")
    log.info("second")
    lines = captured.getvalue().splitlines()
    assert [orjson.loads(line)["message"] for line in lines] == ["first\nwith a newline", "second"]


def test_text_lines_are_for_people_and_masked_too(captured: io.StringIO) -> None:
    log = configure(captured, "text")
    log.warning("no person %s", PESEL, extra=where("pai.pup.profiles.v1", 1, 42))
    text = captured.getvalue()
    assert PESEL not in text
    assert "WARNING scheduler services.scheduler.app: no person 44********9" in text
    assert text.rstrip().endswith("[pai.pup.profiles.v1[1]@42]")


def test_masking_leaves_other_numbers_alone() -> None:
    assert (
        mask_personal("offset 12345678901234, ops 1465011") == "offset 12345678901234, ops 1465011"
    )
    assert mask_personal(f"a{PESEL}b {PESEL}") == "a44********9b 44********9"
