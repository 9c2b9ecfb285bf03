"""Decode Kafka message values so filters can read them.

Two shapes of value are understood:

* the Schema Registry wire format: magic byte 0, the writer schema's id as 4 big-endian bytes, then
  the payload. Avro payloads are read with the writer schema fetched from the registry by id;
  JSON Schema payloads are JSON; Protobuf payloads start with the message indexes that say which
  message of the schema it is, and are read with the schema compiled (references included) by
  ``protobuf_schemas.py``, then written as the proto3 JSON mapping with the .proto field names
  (``order_id``, not ``orderId``) and every field, defaults included, so a filter on ``status ==
  'NEW'`` (an enum's zero value) matches. As in that mapping, 64-bit integers come out as text.
* plain JSON (UTF-8, optionally with a byte-order mark).

Decoded values are plain JSON-like Python (dict, list, str, int, float, bool, None), whatever the
format, so a filter reads an Avro event exactly as it would read the same event sent as JSON:
Avro decimals become numbers, timestamps/dates/times ISO 8601 text, UUIDs text, and bytes/fixed
text with one character per byte (Avro's own JSON encoding).

Anything wrong with the *event* raises DecodeError (the router sends it to the dead-letter topic).
A registry that cannot be reached raises the registry client's own error (PlatformError for
``Registry``): that is not the event's fault, and the router should retry rather than dead-letter.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import struct
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from urllib.parse import quote

import fastavro
from google.protobuf import json_format
from google.protobuf.message import DecodeError as ProtobufDecodeError

from onboarding.platform.errors import PlatformError
from onboarding.routing.protobuf_schemas import ProtobufSchema, ProtobufSchemaError, compile_schema, read_indexes

MAGIC_BYTE = 0
_HEADER = struct.Struct(">BI")
HEADER_SIZE = _HEADER.size  # 5
_MAX_SCHEMA_ID = 2**32 - 1
# Registry error codes meaning "no schema with this id" (Confluent's code, and a bare 404).
_SCHEMA_NOT_FOUND_CODES = {"40403", "404"}
_MAX_REFERENCE_DEPTH = 32


class DecodeError(ValueError):
    """The value cannot be decoded: not JSON, unknown schema id, payload not matching its schema..."""


@dataclass(frozen=True)
class WriterSchema:
    """One registry schema as the decoder needs it."""

    schema_id: int
    schema_type: str  # AVRO, JSON or PROTOBUF
    text: str
    avro: object = None  # fastavro's parsed schema, for AVRO
    protobuf: ProtobufSchema | None = None  # the compiled file, for PROTOBUF
    problem: str | None = None  # why the schema cannot be used, when it cannot


class SchemaCache:
    """Writer schemas by id, fetched once from the registry and kept in a small LRU.

    ``source`` is either an object with ``request(method, path)`` returning parsed JSON (such as
    ``onboarding.platform.registry.Registry``: all registry I/O goes through it), or a callable
    ``fetch(schema_id)`` returning the schema text (Avro) or the registry's answer as a dict
    (``{"schema": ..., "schemaType": ..., "references": [...]}``), and None for an unknown id.
    Schema references (Avro named types and Protobuf imports from other subjects) are resolved only
    with a ``request`` source.

    Ids the registry does not know are remembered for ``unknown_ttl`` seconds, so a topic full of
    foreign wire-format events does not send one registry request per event. Safe to share between
    threads (a lock guards the cache; fetches happen outside it).
    """

    def __init__(self, source, *, max_size: int = 256, unknown_ttl: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        if hasattr(source, "request"):
            self._request = source.request
            self._fetch = None
        elif callable(source):
            self._request = None
            self._fetch = source
        else:
            raise TypeError("SchemaCache needs an object with request(method, path) or a callable fetch(schema_id).")
        self.max_size = max_size
        self.unknown_ttl = unknown_ttl
        self._clock = clock
        self._schemas: OrderedDict[int, WriterSchema] = OrderedDict()
        self._unknown: dict[int, float] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._schemas)

    def clear(self) -> None:
        with self._lock:
            self._schemas.clear()
            self._unknown.clear()

    def get(self, schema_id: int) -> WriterSchema:
        """The writer schema with this id; DecodeError when the registry does not know it."""
        with self._lock:
            schema = self._schemas.get(schema_id)
            if schema is not None:
                self._schemas.move_to_end(schema_id)
                return schema
            expires = self._unknown.get(schema_id)
            if expires is not None:
                if self._clock() < expires:
                    raise DecodeError(f"unknown schema id {schema_id}")
                del self._unknown[schema_id]
        answer = self._answer(schema_id)
        if answer is None:
            with self._lock:
                self._unknown[schema_id] = self._clock() + self.unknown_ttl
                if len(self._unknown) > self.max_size * 4:
                    now = self._clock()
                    self._unknown = {k: v for k, v in self._unknown.items() if v > now}
            raise DecodeError(f"unknown schema id {schema_id}")
        schema = self._build(schema_id, answer)
        with self._lock:
            self._schemas[schema_id] = schema
            self._schemas.move_to_end(schema_id)
            while len(self._schemas) > self.max_size:
                self._schemas.popitem(last=False)
        return schema

    # ------------------------------------------------------------------ registry answers
    def _answer(self, schema_id: int) -> dict | None:
        if self._fetch is not None:
            try:
                answer = self._fetch(schema_id)
            except LookupError:
                return None
            if answer is None:
                return None
            return {"schema": answer} if isinstance(answer, str) else dict(answer)
        try:
            return self._request("GET", f"/schemas/ids/{schema_id}")
        except PlatformError as exc:
            if exc.code in _SCHEMA_NOT_FOUND_CODES:
                return None
            raise

    def _build(self, schema_id: int, answer: dict) -> WriterSchema:
        text = answer.get("schema")
        schema_type = (answer.get("schemaType") or "AVRO").upper()
        if not isinstance(text, str):
            return WriterSchema(schema_id, schema_type, "", problem=f"the registry sent no text for schema {schema_id}")
        if schema_type == "PROTOBUF":
            return self._build_protobuf(schema_id, text, answer.get("references") or [])
        if schema_type != "AVRO":
            return WriterSchema(schema_id, schema_type, text)
        try:
            named: dict = {}
            self._parse_references(answer.get("references") or [], named, depth=0)
            parsed = fastavro.parse_schema(json.loads(text), named_schemas=named)
        except DecodeError as exc:
            return WriterSchema(schema_id, schema_type, text, problem=str(exc))
        except Exception as exc:  # any failure means the schema cannot be used
            return WriterSchema(schema_id, schema_type, text,
                                problem=f"schema {schema_id} from the registry cannot be read as Avro: {exc}")
        return WriterSchema(schema_id, schema_type, text, avro=parsed)

    def _build_protobuf(self, schema_id: int, text: str, references: list) -> WriterSchema:
        try:
            if references and self._request is None:
                raise DecodeError("the schema has references, which a fetch function cannot resolve")
            compiled = compile_schema(text, references, self._reference, schema_id=schema_id)
        except (DecodeError, ProtobufSchemaError) as exc:
            return WriterSchema(schema_id, "PROTOBUF", text, problem=str(exc))
        return WriterSchema(schema_id, "PROTOBUF", text, protobuf=compiled)

    def _reference(self, subject: str, version) -> dict:
        try:
            return self._request("GET", f"/subjects/{quote(str(subject), safe='')}/versions/{version}")
        except PlatformError as exc:
            if exc.code in _SCHEMA_NOT_FOUND_CODES | {"40401", "40402"}:
                raise DecodeError(f"referenced schema {subject} version {version} is not in the registry") from None
            raise

    def _parse_references(self, references: list, named: dict, *, depth: int) -> None:
        """Parse referenced schemas (depth first) into ``named``, so the referring schema can use their types."""
        if not references:
            return
        if depth >= _MAX_REFERENCE_DEPTH:
            raise DecodeError("schema references nest too deeply (a cycle?)")
        if self._request is None:
            raise DecodeError("the schema has references, which a fetch function cannot resolve")
        for reference in references:
            subject, version = reference.get("subject"), reference.get("version")
            data = self._reference(subject, version)
            self._parse_references(data.get("references") or [], named, depth=depth + 1)
            fastavro.parse_schema(json.loads(data["schema"]), named_schemas=named)


def decode_value(raw: bytes | None, schemas: SchemaCache) -> object:
    """The message value as JSON-like Python; None for a tombstone (None). DecodeError when it cannot be read."""
    if raw is None:
        return None
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise DecodeError(f"a message value must be bytes, not {type(raw).__name__}")
    raw = bytes(raw)
    if not raw:
        raise DecodeError("the value is empty (0 bytes): not JSON and not in the Schema Registry wire format")
    if raw[0] == MAGIC_BYTE:
        return _decode_wire_format(raw, schemas)
    return _decode_plain_json(raw)


def encode_avro(schema_id: int, schema_text: str, value) -> bytes:
    """``value`` in the Schema Registry wire format with Avro schema ``schema_id`` (for tests and tools).

    ValueError when the id is out of range, the schema is not Avro, or the value does not match it.
    """
    if not isinstance(schema_id, int) or not 0 <= schema_id <= _MAX_SCHEMA_ID:
        raise ValueError(f"a schema id is a number from 0 to {_MAX_SCHEMA_ID}, not {schema_id!r}")
    try:
        parsed = _parse_avro_text(schema_text)
    except Exception as exc:
        raise ValueError(f"not an Avro schema: {exc}") from None
    buffer = io.BytesIO()
    buffer.write(_HEADER.pack(MAGIC_BYTE, schema_id))
    try:
        fastavro.schemaless_writer(buffer, parsed, value)
    except Exception as exc:  # fastavro raises many types for a mismatched value
        raise ValueError(f"the value does not match Avro schema {schema_id}: {exc}") from None
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------- internals
def _decode_wire_format(raw: bytes, schemas: SchemaCache):
    if len(raw) < HEADER_SIZE:
        raise DecodeError(f"the value ({len(raw)} bytes) starts with the wire-format magic byte 0 but is shorter "
                          f"than the {HEADER_SIZE}-byte header: not JSON and not in the Schema Registry wire format")
    _, schema_id = _HEADER.unpack_from(raw)
    schema = schemas.get(schema_id)
    if schema.problem:
        raise DecodeError(schema.problem)
    payload = raw[HEADER_SIZE:]
    if schema.schema_type == "AVRO":
        return _decode_avro(schema, payload)
    if schema.schema_type == "JSON":
        try:
            return json.loads(payload.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise DecodeError(f"JSON payload of schema {schema_id} is not UTF-8: {exc.reason} at byte "
                              f"{exc.start + HEADER_SIZE}") from None
        except json.JSONDecodeError as exc:
            raise DecodeError(f"JSON payload of schema {schema_id} is not valid JSON at line {exc.lineno}, "
                              f"column {exc.colno}: {exc.msg}") from None
    if schema.schema_type == "PROTOBUF":
        return _decode_protobuf(schema, payload)
    raise DecodeError(f"schema {schema_id} is of type {schema.schema_type}, which cannot be decoded for filtering")


def _decode_avro(schema: WriterSchema, payload: bytes):
    buffer = io.BytesIO(payload)
    try:
        value = fastavro.schemaless_reader(buffer, schema.avro)
    except EOFError:
        raise DecodeError(f"Avro payload does not match schema {schema.schema_id}: it ends too early "
                          f"({len(payload)} bytes)") from None
    except Exception as exc:  # garbage bytes make fastavro fail in many ways
        raise DecodeError(f"Avro payload does not match schema {schema.schema_id}: "
                          f"{exc.__class__.__name__}: {exc}") from None
    left = len(payload) - buffer.tell()
    if left:
        raise DecodeError(f"Avro payload does not match schema {schema.schema_id}: {left} bytes left over "
                          f"after reading {buffer.tell()} of {len(payload)}")
    return _plain(value)


def _decode_protobuf(schema: WriterSchema, payload: bytes):
    try:
        indexes, start = read_indexes(payload)
        message_class = schema.protobuf.message_class(indexes)
    except (ValueError, ProtobufSchemaError) as exc:  # ProtobufSchemaError is a ValueError; both say why
        raise DecodeError(f"Protobuf payload does not match schema {schema.schema_id}: {exc}") from None
    message = message_class()
    try:
        message.ParseFromString(payload[start:])
    except ProtobufDecodeError as exc:
        raise DecodeError(f"Protobuf payload does not match schema {schema.schema_id} (message "
                          f"{message_class.DESCRIPTOR.full_name}): {exc}") from None
    try:
        return json_format.MessageToDict(message, preserving_proto_field_name=True,
                                         always_print_fields_with_no_presence=True)
    except Exception as exc:  # an Any of a type the schema does not import, a Timestamp out of range...
        raise DecodeError(f"Protobuf message of schema {schema.schema_id} has no JSON form: "
                          f"{exc.__class__.__name__}: {exc}") from None


def _decode_plain_json(raw: bytes):
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DecodeError(f"the value is not JSON and not in the Schema Registry wire format "
                          f"(it starts with bytes {raw[:8].hex(' ')})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if text.lstrip()[:1] in ("{", "["):
            raise DecodeError(f"the value looks like JSON but is not valid at line {exc.lineno}, column "
                              f"{exc.colno}: {exc.msg}") from None
        preview = text[:20] + ("…" if len(text) > 20 else "")
        raise DecodeError(f"the value is not JSON and not in the Schema Registry wire format "
                          f"(it starts with {preview!r})") from None


def _plain(value):
    """Avro's Python values as JSON-like ones, so filters see the same shapes as for JSON events."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    return str(value)


@lru_cache(maxsize=64)
def _parse_avro_text(schema_text: str):
    return fastavro.parse_schema(json.loads(schema_text))
