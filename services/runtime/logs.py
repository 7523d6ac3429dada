"""How services log: one JSON object a line (``PAI_LOG_FORMAT=json``) or text, PESEL masked.

A JSON line carries ``time`` (UTC, ISO 8601), ``level``, ``service``, ``logger``,
``message`` and, when the code passes them with ``extra=where(...)``,
``topic``, ``partition``, ``offset``, ``event_id``, ``webhook_id``, ``ops_code`` and
``reason`` (of a dead letter);
an exception adds ``exception`` (its traceback as text). Log collectors
(Loki, Elasticsearch, Cloud Logging) index these fields without parsing.

Code masks a PESEL itself (:func:`~services.runtime.identifiers.mask_pesel`);
both formatters also mask every run of exactly eleven digits in the message
and the traceback, and every PESEL inside a longer run of digits (the
``repr()`` of Avro bytes puts a length byte's hex escape right before it:
``b'\\x1644051401359'``), so a PESEL that slips into a library's message or an
exception text is not written either. Every handler the services and ``pai
run`` configure uses one of these formatters.
"""

from __future__ import annotations

import datetime as dt
import logging
import logging.config
import re
from typing import Any

import orjson

from services.runtime.identifiers import looks_like_pesel, mask_pesel

FIELDS = ("topic", "partition", "offset", "event_id", "webhook_id", "ops_code", "reason")
"""Record attributes copied into a JSON line when present."""
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "error": 40}
_DIGIT_RUN = re.compile(r"\d{11,}")


def _mask_run(run: str) -> str:
    if len(run) == 11:  # a PESEL's shape: masked whether or not it is a valid one
        return mask_pesel(run)
    hidden = [False] * len(run)
    for start in range(len(run) - 10):
        if looks_like_pesel(run[start : start + 11]):
            for n in range(start + 2, start + 10):
                hidden[n] = True
    return "".join("*" if h else c for c, h in zip(run, hidden, strict=True))


def mask_personal(text: str) -> str:
    """``text`` with every PESEL masked: each run of exactly eleven digits, and each PESEL
    inside a longer run of digits (e.g. after a hex escape in the ``repr()`` of bytes)."""
    return _DIGIT_RUN.sub(lambda m: _mask_run(m.group(0)), text)


def where(
    topic: str | None = None,
    partition: int | None = None,
    offset: int | None = None,
    event_id: str | None = None,
    **more: str | None,
) -> dict[str, Any]:
    """``extra=`` for a log call about one record: ``log.warning(..., extra=where(...))``."""
    fields = {"topic": topic, "partition": partition, "offset": offset, "event_id": event_id}
    fields.update(more)
    return {name: value for name, value in fields.items() if value is not None}


class JsonFormatter(logging.Formatter):
    """One JSON object a line; see the module docstring for the fields."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": mask_personal(record.getMessage()),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = mask_personal(self.formatException(record.exc_info))
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """``time level logger: message [topic[partition]@offset]``, for a terminal."""

    def __init__(self, service: str) -> None:
        super().__init__(f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        topic = getattr(record, "topic", None)
        if topic is not None and topic not in text:
            partition, offset = getattr(record, "partition", "?"), getattr(record, "offset", "?")
            text += f" [{topic}[{partition}]@{offset}]"
        return mask_personal(text)


def logging_config(service: str, log_format: str, level: str) -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` dict: everything to standard error, formatted."""
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    number = LEVELS[level]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"pai": {"()": formatter, "service": service}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "pai",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": number, "handlers": ["default"]},
        # libraries at INFO at most, whatever the root level: below a WARN root Faust's
        # spinner left debug records enabled, and aiokafka built one per produced message
        # (9% of an eligibility worker's time, measured with py-spy)
        "loggers": {
            **{
                name: {"level": max(number, logging.INFO)}
                for name in ("aiokafka", "kafka", "faust", "mode")
            },
            # ours at the level asked for: a WARN root is what keeps Faust's spinner, which
            # then sets the root to DEBUG, and every decision built a debug record that
            # no handler wrote (4 % of an eligibility worker's samples, py-spy, 2026-12-02)
            "services": {"level": number},
        },
    }


def configure(service: str, log_format: str, level: str) -> None:
    """Set up the process's logging (services that do not run under Faust's worker)."""
    logging.config.dictConfig(logging_config(service, log_format, level))
