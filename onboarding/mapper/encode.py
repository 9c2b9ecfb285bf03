"""Canonical events in the Schema Registry wire format: magic byte 0, the canonical schema's id (4 bytes, big
endian), then the payload written with that schema (Avro binary, or JSON text for JSON Schema).

The schema comes from the registry by id through the router's ``SchemaCache`` (fetched once, kept), and what
each id needs (the parsed Avro schema, a JSON Schema validator) is built once. The common case costs one write:
only an event that does not fit is checked again with the portal's own schema checks, for the path and reason
its dead-letter headers give (the same words the mapping preview shows).
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Callable

import fastavro

from onboarding.mapping.preview import event_checker
from onboarding.routing.decode import DecodeError, SchemaCache
from onboarding.schemas import _jsonschema

_HEADER = struct.Struct(">BI")


class EncodeError(ValueError):
    """The canonical event does not fit the canonical schema; ``path`` is where (``patient.birth_date``)."""

    def __init__(self, path: str, message: str):
        self.path, self.message = path, message
        super().__init__(f"{path}: {message}" if path else message)


class CanonicalEncoder:
    """``encode(schema_id, event)``: the wire-format bytes, or EncodeError (the event's fault, or a canonical
    schema the mapper cannot write). A registry that cannot be reached raises its client's error instead
    (PlatformError): the batch is redone later rather than dead-lettered."""

    def __init__(self, schemas: SchemaCache):
        self.schemas = schemas
        self._writers: dict[int, Callable[[object], bytes]] = {}

    def encode(self, schema_id: int, event: object) -> bytes:
        writer = self._writers.get(schema_id)
        if writer is None:
            try:
                writer = self._writers[schema_id] = self._writer(schema_id)
            except DecodeError as exc:  # not kept: the registry may know the id later (SchemaCache asks again)
                raise EncodeError("", f"canonical schema {schema_id}: {exc}") from None
        return writer(event)

    def _writer(self, schema_id: int) -> Callable[[object], bytes]:
        schema = self.schemas.get(schema_id)
        if schema.problem:
            return _refusing(f"canonical schema {schema_id}: {schema.problem}")
        header = _HEADER.pack(0, schema_id)
        if schema.schema_type == "AVRO":
            return _avro_writer(header, schema.avro, schema.text)
        if schema.schema_type == "JSON":
            return _json_writer(header, schema.text)
        return _refusing(f"canonical schema {schema_id} is {schema.schema_type}: the mapper writes Avro and "
                         f"JSON Schema canonical events")


def _avro_writer(header: bytes, parsed, text: str) -> Callable[[object], bytes]:
    explain = _explainer(text, "AVRO")

    def write(event) -> bytes:
        buffer = io.BytesIO()
        buffer.write(header)
        try:
            fastavro.schemaless_writer(buffer, parsed, event)
        except Exception as exc:  # fastavro raises many types for a value that does not fit
            raise explain(event, f"{type(exc).__name__}: {exc}") from None
        return buffer.getvalue()
    return write


def _json_writer(header: bytes, text: str) -> Callable[[object], bytes]:
    validator = _jsonschema.event_validator(json.loads(text))
    explain = _explainer(text, "JSON")

    def write(event) -> bytes:
        if not validator.is_valid(event):
            raise explain(event, "does not fit the canonical JSON Schema")
        return header + json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return write


def _explainer(text: str, fmt: str) -> Callable[[object, str], EncodeError]:
    """The first problem of an event that did not fit, by path; ``fallback`` when the checks find none."""
    check = event_checker(text, fmt)

    def explain(event, fallback: str) -> EncodeError:
        problems = check(event)
        if not problems:
            return EncodeError("", fallback)
        path, messages = next(iter(sorted(problems.items())))
        return EncodeError(path, "; ".join(messages))
    return explain


def _refusing(reason: str) -> Callable[[object], bytes]:
    def refuse(event) -> bytes:
        raise EncodeError("", reason)
    return refuse
