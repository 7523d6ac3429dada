"""Service logs: one JSON object a line with the record's coordinates, and never a PESEL."""

from __future__ import annotations

import io
import logging
import logging.config

import orjson
import pytest

from services.runtime.logs import (
    JsonFormatter,
    TextFormatter,
    logging_config,
    mask_personal,
    where,
)

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
    root, ours = logging.getLogger(), logging.getLogger("services")
    handlers, level, our_level = root.handlers[:], root.level, ours.level
    yield None
    root.handlers[:] = handlers
    root.setLevel(level)
    ours.setLevel(our_level)


@pytest.mark.parametrize(("level", "debug_on"), [("warn", False), ("info", False), ("debug", True)])
def test_the_services_debug_records_follow_the_level_asked_for_whatever_the_root(
    level: str, debug_on: bool
) -> None:
    """Faust's worker sets the root logger to DEBUG for its spinner when the level is WARN:
    the services' own loggers keep the level asked for, so no debug record is built."""
    logging.config.dictConfig(logging_config("eligibility", "json", level))
    logging.getLogger().setLevel(logging.DEBUG)  # what Faust's spinner does
    assert logging.getLogger("services.eligibility.app").isEnabledFor(logging.DEBUG) is debug_on


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


def test_a_pesel_inside_the_repr_of_bytes_or_next_to_other_digits_is_masked() -> None:
    # Avro puts the string's length (22, zigzag: 0x16) right before it: repr shows \x16
    avro_bytes = b"\x02\x16" + PESEL.encode() + b"\x0244"
    assert PESEL not in mask_personal(repr(avro_bytes))
    assert mask_personal(repr(avro_bytes)) == "b'\\x02\\x1644********9\\x0244'"
    assert mask_personal(f"key=0{PESEL}7 id={PESEL}123") == "key=044********97 id=44********9123"
    assert PESEL not in mask_personal(f"{PESEL}{PESEL}")


def test_long_numbers_that_hold_no_pesel_are_left_alone() -> None:
    # millisecond timestamps and offsets: no 11 of their digits form a valid PESEL with a date
    for number in ("1764620000000", "12345678901234", "99999999999999999"):
        assert mask_personal(number) == number


def test_the_log_file_of_pai_run_is_masked(tmp_path) -> None:
    """``pai run`` writes the libraries' logs to a file: masked like the services' logs."""
    from services.runner import log_to_file

    log_to_file(tmp_path / "logs" / "pai-run.log")
    logging.getLogger("aiokafka").warning("connection to %s lost", PESEL)
    root = logging.getLogger()
    assert root.handlers and all(isinstance(h.formatter, TextFormatter) for h in root.handlers)
    for handler in root.handlers:
        handler.flush()
        handler.close()
    text = (tmp_path / "logs" / "pai-run.log").read_text()
    assert "connection to 44********9 lost" in text
    assert PESEL not in text


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_every_handler_a_service_configures_masks(log_format: str) -> None:
    logging.config.dictConfig(logging_config("eligibility", log_format, "debug"))
    formatters = {h.formatter.__class__ for h in logging.getLogger().handlers}
    assert formatters == {JsonFormatter if log_format == "json" else TextFormatter}
