"""Avro single-object encoding of Kafka values (Avro specification, "Single object encoding").

Wire layout: ``C3 01`` + the writer schema's CRC-64-AVRO fingerprint (8 bytes,
little-endian) + the Avro binary body. :class:`AvroCodec` writes with the current
version of one schema and reads bytes written with any kept version of it,
resolving them to the current one. A union schema's bytes may also be written with
one of its record branches alone (what a class generated from the schema writes:
Apache Avro Java's ``toByteBuffer()``); Avro schema resolution of a record writer
against a union reader picks the branch of that name. Every reading failure is an
:class:`UndecodableRecord` whose ``reason`` is a stable code and whose message
says what the producer should fix.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fastavro import schemaless_reader, schemaless_writer
from fastavro.validation import ValidationError, validate

from services.runtime.schemas import SchemaStore, SchemaVersion, Writer, default_store

MAGIC = b"\xc3\x01"
HEADER_LEN = len(MAGIC) + 8


MAX_VALUE_BYTES = 64 * 1024
"""No event of the contract comes near this; a larger value is refused before decoding,
whichever topic it is read from (person events, editions, clock, the notifier's topics)."""


class DecodeFailure(StrEnum):
    """Why bytes could not be read; stable codes for dead letters and metrics."""

    EMPTY = "empty"
    OVERSIZED = "oversized"
    BAD_MAGIC = "bad-magic"
    TRUNCATED_HEADER = "truncated-header"
    UNKNOWN_FINGERPRINT = "unknown-fingerprint"
    WRONG_SCHEMA = "wrong-schema"
    TRUNCATED_BODY = "truncated-body"
    TRAILING_BYTES = "trailing-bytes"
    INVALID_BODY = "invalid-body"


def check_size(data: bytes) -> None:
    """Refuse a value over :data:`MAX_VALUE_BYTES` (before any decoding work)."""
    if len(data) > MAX_VALUE_BYTES:
        raise UndecodableRecord(
            DecodeFailure.OVERSIZED,
            f"the value has {len(data):,} bytes; events are at most {MAX_VALUE_BYTES:,} bytes",
        )


class UndecodableRecord(ValueError):
    """The bytes are not a record of this topic's schema. ``reason`` is a :class:`DecodeFailure`."""

    def __init__(self, reason: DecodeFailure, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class UnencodableRecord(ValueError):
    """A record does not match the schema it is written with."""


@dataclass(frozen=True, slots=True)
class Decoded:
    """A record read from the wire: record name (e.g. ``BenefitsGranted``), fields, writer."""

    type: str
    fields: dict[str, Any]
    writer_version: int


class AvroCodec:
    """Reads and writes the values of one schema (all kept versions of it)."""

    def __init__(self, schema_name: str, store: SchemaStore | None = None) -> None:
        self.store = store or default_store()
        self.schema_name = schema_name
        self.current: SchemaVersion = self.store.current(schema_name)
        self._is_union = isinstance(self.current.raw, list)
        names = self.current.record_names
        self._full_names = {name.rsplit(".", 1)[-1]: name for name in names}
        self._header = MAGIC + self.current.fingerprint
        self._renamed = self._current_names()

    def _current_names(self) -> dict[str, str]:
        """Each top-level record name of any kept version -> the current record it is read as.

        Avro schema resolution matches a writer record to the reader's record of the same
        name, or of the same unqualified name, or whose ``aliases`` name it; so a record
        renamed with an alias is returned under its current name, whichever form wrote it.
        """
        current = self.current.raw if self._is_union else [self.current.raw]
        by_full: dict[str, str] = {}
        by_short: dict[str, str] = {}
        for record in current:
            full = f"{record['namespace']}.{record['name']}"
            by_full[full] = full
            by_short.setdefault(record["name"], full)
            for alias in record.get("aliases", []):
                by_full.setdefault(
                    alias if "." in alias else f"{record['namespace']}.{alias}", full
                )
        found: dict[str, str] = {}
        for version in self.store.versions(self.schema_name):
            for name in version.record_names:
                target = by_full.get(name) or by_short.get(name.rsplit(".", 1)[-1])
                if target is not None:
                    found[name] = target
        return found

    # -- writing ---------------------------------------------------------------------------
    def encode(self, record_type: str, fields: dict[str, Any]) -> bytes:
        """Single-object bytes of ``fields`` as record ``record_type`` of the current version."""
        full_name = self._full_names.get(record_type)
        if full_name is None:
            raise UnencodableRecord(
                f"{self.schema_name} has no record {record_type!r};"
                f" it has {', '.join(sorted(self._full_names))}"
            )
        datum: Any = (full_name, fields) if self._is_union else fields
        buf = io.BytesIO()
        buf.write(self._header)
        try:
            schemaless_writer(buf, self.current.parsed, datum)
        except (ValueError, TypeError, AttributeError, KeyError, OverflowError) as exc:
            raise UnencodableRecord(self._explain(datum, exc)) from exc
        return buf.getvalue()

    def encode_branch(self, record_type: str, fields: dict[str, Any]) -> bytes:
        """The bytes a class generated from the schema writes: the record with its own schema.

        For a record schema these are :meth:`encode`'s bytes; for a union, the header
        carries the fingerprint of the branch alone and the body has no union index.
        """
        if not self._is_union:
            return self.encode(record_type, fields)
        try:
            branch = self.current.branch(record_type)
        except KeyError:
            raise UnencodableRecord(
                f"{self.schema_name} has no record {record_type!r};"
                f" it has {', '.join(sorted(self._full_names))}"
            ) from None
        buf = io.BytesIO()
        buf.write(MAGIC + branch.fingerprint)
        try:
            schemaless_writer(buf, branch.parsed, fields)
        except (ValueError, TypeError, AttributeError, KeyError, OverflowError) as exc:
            raise UnencodableRecord(self._explain((branch.full_name, fields), exc)) from exc
        return buf.getvalue()

    def _explain(self, datum: Any, exc: Exception) -> str:
        try:
            validate(datum, self.current.parsed, raise_errors=True)
        except ValidationError as verr:
            return f"{self.schema_name} v{self.current.version}: {verr}"
        return f"{self.schema_name} v{self.current.version}: {type(exc).__name__}: {exc}"

    # -- reading ---------------------------------------------------------------------------
    def decode(self, data: bytes | None) -> Decoded:
        """Read single-object bytes written with any kept version, as the current version."""
        if not data:
            raise UndecodableRecord(DecodeFailure.EMPTY, "the value is empty (or a tombstone)")
        check_size(data)
        writer = self._writer_of(data)
        version = writer.version
        buf = io.BytesIO(data)
        buf.seek(HEADER_LEN)
        # a branch of the current version is that version's record: no resolution needed
        reader = None if version is self.current else self.current.parsed
        try:
            value: Any = schemaless_reader(buf, writer.parsed, reader, return_record_name=True)
        except Exception as exc:  # fastavro raises many kinds on corrupt input
            # fastavro reports a body that ends early as EOFError, or as IndexError once
            # the buffer is spent; an IndexError before that is a union index out of range
            if isinstance(exc, EOFError) or (
                isinstance(exc, IndexError) and buf.tell() >= len(data)
            ):
                raise UndecodableRecord(
                    DecodeFailure.TRUNCATED_BODY,
                    f"the Avro body ends early for {self._what(writer)}"
                    f" ({len(data)} bytes): the record was cut",
                ) from None
            raise UndecodableRecord(
                DecodeFailure.INVALID_BODY,
                f"the Avro body is not a {self._what(writer)}: {type(exc).__name__}: {exc}"
                f"{self._form_hint(writer, data)}",
            ) from None
        if buf.tell() != len(data):
            raise UndecodableRecord(
                DecodeFailure.TRAILING_BYTES,
                f"{len(data) - buf.tell()} bytes follow the {self._what(writer)}:"
                f" one record per Kafka value{self._form_hint(writer, data)}",
            )
        if isinstance(value, tuple):  # a union written whole, read as a union
            full_name, fields = value
        elif not self._is_union:  # read as the current record schema: its record
            full_name, fields = self.current.record_names[0], value
        else:  # a record written alone (a branch, or a record schema) read as a union
            full_name = writer.branch.full_name if writer.branch else version.record_names[0]
            fields = value
        full_name = self._renamed.get(str(full_name), str(full_name))
        return Decoded(full_name.rsplit(".", 1)[-1], fields, version.version)

    def _what(self, writer: Writer) -> str:
        """The writer in a message: ``profiles v1`` or ``record X (a branch of profiles v1)``."""
        what = f"{writer.version.name} v{writer.version.version}"
        if writer.branch is None:
            return f"{what} {writer.form}"
        return f"record {writer.branch.full_name} written alone (a branch of {what})"

    def _form_hint(self, writer: Writer, data: bytes) -> str:
        """When the body reads as the other writer form of the same version, say so."""
        version = writer.version
        if not version.branches:
            return ""
        if writer.branch is None:  # union fingerprint: is the body one record alone?
            others = [(b.parsed, f"record {b.full_name} written alone") for b in version.branches]
        else:
            others = [(version.parsed, f"the whole union ({version.name} v{version.version})")]
        for parsed, label in others:
            buf = io.BytesIO(data)
            buf.seek(HEADER_LEN)
            try:
                schemaless_reader(buf, parsed, None)
            except Exception:  # fastavro raises many kinds: not this form either
                continue
            if buf.tell() == len(data):
                return (
                    f"; the body is {label}: the header must carry the fingerprint of the"
                    " schema the body was written with (a union-form value starts with the"
                    " branch index; a record written alone, as a generated class's"
                    " toByteBuffer() writes, carries its own record's fingerprint;"
                    " `pai schemas list` prints which fingerprint goes with which form)"
                )
        return ""

    def _writer_of(self, data: bytes) -> Writer:
        if data[:2] != MAGIC[: len(data)]:
            raise UndecodableRecord(
                DecodeFailure.BAD_MAGIC,
                f"the value starts with {data[:2].hex(' ')}, not C3 01: it is not Avro"
                " single-object encoding (raw Avro, JSON or a schema-registry framing?)",
            )
        if len(data) < HEADER_LEN:
            raise UndecodableRecord(
                DecodeFailure.TRUNCATED_HEADER,
                f"the value has {len(data)} bytes, fewer than the 10-byte single-object header",
            )
        fp = data[2:HEADER_LEN]
        writer = self.store.writer(self.schema_name, fp)
        if writer is not None:
            return writer
        elsewhere = self.store.writers_with(fp)
        if not elsewhere:
            raise UndecodableRecord(
                DecodeFailure.UNKNOWN_FINGERPRINT,
                f"no kept schema has fingerprint {fp[::-1].hex()} (CRC-64-AVRO, big-endian hex):"
                f" write with a published version of {self.schema_name}"
                " (see schemas/ and docs/asyncapi.yaml)",
            )
        whats = []
        for other in elsewhere:
            what = f"{other.version.name} v{other.version.version}"
            if other.branch is not None:
                what = f"{other.branch.full_name} (a record of {what})"
            whats.append(what)
        raise UndecodableRecord(
            DecodeFailure.WRONG_SCHEMA,
            f"the value was written with {' or '.join(dict.fromkeys(whats))},"
            f" but this topic carries {self.schema_name}",
        )
