"""One record of a Confluent REST Proxy v3 produce request, checked, then turned into the bytes to produce.

The record's shape is Confluent's ``ProduceRequest`` (api/v3/openapi.yaml)::

    {"partition_id": int?, "headers": [{"name": str, "value": base64 str | null}]?,
     "key": {"type": ..., "subject"?, "schema_id"?, "schema_version"?, "subject_name_strategy"?, "data": any}?,
     "value": {same}?, "timestamp": RFC 3339 str?}

Where Confluent answers one code and one message, every problem is reported, each under the path of the field at
fault (``value.data.patient.birth_date``, ``key.type``, ``headers[1].value``), and nothing is produced.

Types of a key or value:

* BINARY: ``data`` is base64 (standard alphabet; padding may be left out, as Java's decoder allows);
* STRING: ``data`` is text, produced as UTF-8;
* JSON: ``data`` is any JSON, produced compactly;
* AVRO, JSONSCHEMA: checked with the portal's own schema checks (``onboarding/schemas/``), then written in the
  Confluent wire format (magic byte, schema id, Avro binary or the JSON document's UTF-8 bytes);
* PROTOBUF: ``data`` is the message's proto3 JSON mapping (the .proto or the JSON field names; 64-bit integers as
  numbers or text; enums by name or number; well-known types such as Timestamp in their JSON form), checked and
  built by protobuf's own ``json_format`` against the registered .proto and the files it imports (its
  ``references``), every problem under its path (``value.data.items[2].sku``); unknown fields are errors. Written
  in Confluent's Protobuf wire format: magic byte, schema id, the message indexes, the serialized message. The
  message is the file's first one, as Confluent's serializers and REST Proxy choose, unless ``message`` names
  another of the file (``Order.Item`` or ``shop.Order.Item``), a field of this gateway's only.

Without ``type``: the registered schema's type when the field names a schema (``subject``, ``schema_id``,
``schema_version`` or ``subject_name_strategy``), otherwise JSON. Confluent infers a type from the data in that
case; producing JSON is simpler to predict. A schema'd type without ``schema_id`` uses ``subject`` or else the
topic name strategy (``<topic>-key`` / ``<topic>-value``), at ``schema_version`` or else the latest version.
``"data": null`` produces a null key or value (a tombstone), as Confluent's serializers do; a key or value
without ``data`` at all is an error, since a forgotten field should not become a tombstone.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import difflib
import json
import re
from dataclasses import dataclass

from onboarding.gateway import wire
from onboarding.gateway.avro_json import to_datum
from onboarding.gateway.protobuf_json import serialize, to_message
from onboarding.gateway.record_error import BAD_REQUEST, INVALID_PAYLOAD, SCHEMA_NOT_FOUND, RecordError
from onboarding.gateway.stream import iter_records
from onboarding.gateway.writer_schemas import RegistrySchemas, SchemaNotFound, WriterSchema
from onboarding.routing.protobuf_schemas import ProtobufSchemaError, encode_indexes
from onboarding.schemas import _jsonschema
from onboarding.schemas._avro_values import check_value
from onboarding.schemas._common import show_value

__all__ = ["BAD_REQUEST", "INVALID_PAYLOAD", "SCHEMA_NOT_FOUND", "TYPES", "ProducibleRecord", "RecordError",
           "encode_record", "iter_records"]

TYPES = ("BINARY", "JSON", "STRING", "AVRO", "JSONSCHEMA", "PROTOBUF")
_PLAIN_TYPES = ("BINARY", "JSON", "STRING")
# The REST names of the schema'd types and the registry's (schemaType) names for them.
_REGISTRY_TYPES = {"AVRO": "AVRO", "JSONSCHEMA": "JSON", "PROTOBUF": "PROTOBUF"}
_REST_TYPES = {registry: rest for rest, registry in _REGISTRY_TYPES.items()}
_SCHEMA_FIELDS = ("subject", "schema_id", "schema_version", "subject_name_strategy")
_PART_FIELDS = ("type", "data", *_SCHEMA_FIELDS, "message")
_RECORD_FIELDS = ("partition_id", "headers", "key", "value", "timestamp")

_RFC3339 = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})\Z")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MS = dt.timedelta(milliseconds=1)


@dataclass(frozen=True)
class ProducibleRecord:
    """What to hand the producer; the sizes and types are for the delivery report."""

    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]
    partition: int | None
    timestamp_ms: int | None
    key_size: int
    value_size: int
    key_type: str | None
    value_type: str | None


class _Problems:
    """Problems by path, in the order found; a missing schema makes the whole answer SCHEMA_NOT_FOUND."""

    def __init__(self) -> None:
        self.by_path: dict[str, list[str]] = {}
        self.code = INVALID_PAYLOAD

    def add(self, path: str, message: str) -> None:
        self.by_path.setdefault(path, []).append(message)

    def schema_missing(self, path: str, message: str) -> None:
        self.add(path, message)
        self.code = SCHEMA_NOT_FOUND


def encode_record(body: object, *, topic: str, schemas: RegistrySchemas, validate: bool = True) -> ProducibleRecord:
    """The record ``body`` (decoded JSON) as bytes to produce to ``topic``; RecordError listing every problem.

    ``validate=False`` skips the portal's schema checks (the encoder still refuses data it cannot write).
    A registry that cannot be reached raises its PlatformError: not the record's fault, and worth a retry.
    """
    if not isinstance(body, dict):
        raise RecordError({"$": [f"a record is a JSON object, not {show_value(body)}"]})
    problems = _Problems()
    _unknown_fields(body, _RECORD_FIELDS, "", problems)
    partition = _partition(body.get("partition_id"), problems)
    headers = _headers(body.get("headers"), problems)
    timestamp_ms = _timestamp(body.get("timestamp"), problems)
    key, key_type = _encode_part(body.get("key"), side="key", topic=topic, schemas=schemas, validate=validate,
                                 problems=problems)
    value, value_type = _encode_part(body.get("value"), side="value", topic=topic, schemas=schemas,
                                     validate=validate, problems=problems)
    if problems.by_path:
        raise RecordError(problems.by_path, code=problems.code)
    return ProducibleRecord(key=key, value=value, headers=headers, partition=partition, timestamp_ms=timestamp_ms,
                            key_size=len(key) if key is not None else 0,
                            value_size=len(value) if value is not None else 0, key_type=key_type,
                            value_type=value_type)


# ---------------------------------------------------------------------------------------------- record fields
def _unknown_fields(obj: dict, known: tuple[str, ...], prefix: str, problems: _Problems) -> None:
    # A misspelt "vaule" would otherwise produce a record without its value and answer 200.
    for name in obj:
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.add(f"{prefix}{name}", f"unknown field{hint}; a record has {', '.join(known)}")


def _partition(raw: object, problems: _Problems) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        problems.add("partition_id", f"expected a partition number (0 or more), got {show_value(raw)}")
        return None
    return raw


def _headers(raw: object, problems: _Problems) -> list[tuple[str, bytes | None]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add("headers", f'expected a list of {{"name": ..., "value": base64}}, got {show_value(raw)}')
        return []
    headers = []
    for i, header in enumerate(raw):
        path = f"headers[{i}]"
        if not isinstance(header, dict):
            problems.add(path, f'expected {{"name": ..., "value": base64}}, got {show_value(header)}')
            continue
        _unknown_fields(header, ("name", "value"), f"{path}.", problems)
        name, value = header.get("name"), header.get("value")
        if not isinstance(name, str) or not name:
            problems.add(f"{path}.name", f"expected the header's name, got {show_value(name)}")
        decoded = None if value is None else _base64(value, f"{path}.value", problems)
        if isinstance(name, str) and name:
            headers.append((name, decoded))
    return headers


def _timestamp(raw: object, problems: _Problems) -> int | None:
    if raw is None:
        return None
    match = _RFC3339.match(raw) if isinstance(raw, str) else None
    if match is None:
        problems.add("timestamp", f"expected an RFC 3339 time such as 2024-05-01T12:00:00.000Z, got {show_value(raw)}")
        return None
    date, clock, fraction, zone = match.groups()
    # Python reads at most microseconds; clients written in Java or Go send nanoseconds.
    micros = f".{(fraction or '')[:6]:0<6}"
    zone = "+00:00" if zone in ("Z", "z") else zone
    try:
        moment = dt.datetime.fromisoformat(f"{date}T{clock}{micros}{zone}")
    except ValueError as exc:
        problems.add("timestamp", f"{raw!r} is not a valid time: {exc}")
        return None
    ms = (moment - _EPOCH) // _MS
    if ms < 0:
        problems.add("timestamp", "Kafka timestamps start at 1970-01-01T00:00:00Z")
        return None
    return ms


def _base64(raw: object, path: str, problems: _Problems) -> bytes | None:
    if not isinstance(raw, str):
        problems.add(path, f"expected base64 text, got {show_value(raw)}")
        return None
    text = raw + "=" * (-len(raw) % 4) if len(raw) % 4 != 1 else raw
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        problems.add(path, "not valid base64 (standard alphabet A-Z a-z 0-9 + /, optionally padded with =)")
        return None


# ---------------------------------------------------------------------------------------------- key and value
def _encode_part(spec: object, *, side: str, topic: str, schemas: RegistrySchemas, validate: bool,
                 problems: _Problems) -> tuple[bytes | None, str | None]:
    """The key's or value's bytes and its REST type; (None, None) when the record has none."""
    if spec is None:
        return None, None
    if not isinstance(spec, dict):
        problems.add(side, f'expected {{"type": ..., "data": ...}} or null, got {show_value(spec)}')
        return None, None
    _unknown_fields(spec, _PART_FIELDS, f"{side}.", problems)
    declared = spec.get("type")
    if declared is not None and declared not in TYPES:
        close = difflib.get_close_matches(str(declared).upper(), TYPES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.add(f"{side}.type", f"unknown type {show_value(declared)}{hint}; use one of {', '.join(TYPES)}")
        return None, None
    # A Protobuf message name makes the part schema'd too, so it is never silently dropped from a JSON value.
    named = [name for name in (*_SCHEMA_FIELDS, "message") if spec.get(name) is not None]
    if declared in _PLAIN_TYPES:
        for name in named:
            problems.add(f"{side}.{name}", f"{declared} data has no schema; leave {name} out")
    message = spec.get("message")
    data = spec.get("data")  # left out: null, as REST Proxy v3 documents
    if declared is None and not named:
        # Neither a type nor a schema: the subject's latest schema when the topic's side has one (REST Proxy v3's
        # "latest schema" request), else plain JSON; so a v3 client never writes JSON into an Avro topic.
        schema = _latest_if_any(schemas, f"{topic}-{side}")
        if schema is None:
            return (None if data is None else _plain("JSON", data, f"{side}.data", problems)), "JSON"
    elif declared in _PLAIN_TYPES:
        return (None if data is None else _plain(declared, data, f"{side}.data", problems)), declared
    else:
        schema = _writer_schema(spec, side=side, topic=topic, schemas=schemas, problems=problems)
    if schema is None:
        return None, declared
    rest_type = _REST_TYPES.get(schema.schema_type)
    if declared is not None and _REGISTRY_TYPES[declared] != schema.schema_type:
        problems.add(f"{side}.type", f"{declared} does not match schema {schema.schema_id}, which is "
                                     f"{rest_type or schema.schema_type}")
        return None, declared
    if rest_type is None:
        problems.add(side, f"schema {schema.schema_id} is of type {schema.schema_type}, which the gateway cannot write")
        return None, None
    if message is not None and rest_type != "PROTOBUF":
        problems.add(f"{side}.message", f"names a Protobuf message; schema {schema.schema_id} is {rest_type}")
        return None, rest_type
    if schema.problem:
        problems.add(side, schema.problem)
        return None, rest_type
    if data is None:
        return None, rest_type
    if rest_type == "AVRO":
        return _avro(schema, data, f"{side}.data", validate, problems), rest_type
    if rest_type == "PROTOBUF":
        return _protobuf(schema, message, data, side, problems), rest_type
    return _json_schema(schema, data, f"{side}.data", validate, problems), rest_type


def _latest_if_any(schemas: RegistrySchemas, subject: str) -> WriterSchema | None:
    """The subject's latest schema, or None when the registry has no such subject (both cached by schemas)."""
    try:
        return schemas.by_subject(subject, None)
    except SchemaNotFound:
        return None


def _plain(rest_type: str, data: object, path: str, problems: _Problems) -> bytes | None:
    if rest_type == "BINARY":
        return _base64(data, path, problems)
    if rest_type == "STRING":
        if not isinstance(data, str):
            problems.add(path, f"STRING data is text, got {show_value(data)}")
            return None
        return _utf8(data, path, problems)
    return _json_bytes(data, path, problems, ascii_only=True)


def _utf8(text: str, path: str, problems: _Problems) -> bytes | None:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Only a lone surrogate escape (\ud800) in the JSON can get here.
        problems.add(path, "contains a lone UTF-16 surrogate, which is not text")
        return None


def _json_bytes(data: object, path: str, problems: _Problems, *, ascii_only: bool) -> bytes | None:
    try:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=ascii_only, allow_nan=False)
    except ValueError:
        problems.add(path, "NaN and Infinity are not JSON numbers")
        return None
    return _utf8(text, path, problems)


def _writer_schema(spec: dict, *, side: str, topic: str, schemas: RegistrySchemas,
                   problems: _Problems) -> WriterSchema | None:
    """The schema the key or value names, or the topic's latest for its side; None after a problem."""
    subject, schema_id = spec.get("subject"), spec.get("schema_id")
    version, strategy = spec.get("schema_version"), spec.get("subject_name_strategy")
    before = len(problems.by_path)
    if subject is not None and (not isinstance(subject, str) or not subject):
        problems.add(f"{side}.subject", f"expected a subject name, got {show_value(subject)}")
    if schema_id is not None and (isinstance(schema_id, bool) or not isinstance(schema_id, int)
                                  or not 0 <= schema_id <= wire.MAX_SCHEMA_ID):
        problems.add(f"{side}.schema_id", f"expected a schema id (a whole number, 0 or more), "
                                          f"got {show_value(schema_id)}")
    if version in ("latest", -1):
        version = None  # the registry's own spellings of "latest"
    elif version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        problems.add(f"{side}.schema_version", f'expected a version number (1 or more) or "latest", '
                                               f"got {show_value(version)}")
    if schema_id is not None and spec.get("schema_version") is not None:
        problems.add(f"{side}.schema_version", "give schema_id or schema_version, not both")
    if strategy is not None and strategy != "TOPIC_NAME":
        problems.add(f"{side}.subject_name_strategy", f"only TOPIC_NAME is supported, got {show_value(strategy)}; "
                                                      "give the subject itself for any other name")
    elif strategy is not None and subject is not None:
        problems.add(f"{side}.subject_name_strategy", "give subject or subject_name_strategy, not both")
    if len(problems.by_path) > before:
        return None
    try:
        if schema_id is not None:
            return schemas.by_id(schema_id)
        return schemas.by_subject(subject or f"{topic}-{side}", version)
    except SchemaNotFound as exc:
        problems.schema_missing(f"{side}.{exc.field}", str(exc))
        return None


def _event_path(base: str, path: str) -> str:
    """``$.patient.birth_date`` from the schema checks as ``value.data.patient.birth_date``."""
    return base + path[1:] if path.startswith("$") else f"{base}.{path}"


def _avro(schema: WriterSchema, data: object, path: str, validate: bool, problems: _Problems) -> bytes | None:
    if validate:
        found = check_value(schema.avro_model, data, "$")
        if found:
            for problem in found:
                problems.add(_event_path(path, problem.path), problem.message)
            return None
    try:
        return wire.avro_frame(schema_id=schema.schema_id, parsed_schema=schema.avro,
                               datum=to_datum(schema.avro_model, data))
    except Exception as exc:  # fastavro raises ValueError, TypeError, struct.error... for data that does not fit
        problems.add(path, f"cannot be written with Avro schema {schema.schema_id}: {exc}")
        return None


def _json_schema(schema: WriterSchema, data: object, path: str, validate: bool, problems: _Problems) -> bytes | None:
    if validate:
        found = _jsonschema.check_event(schema.json_schema, data, validator=schema.json_validator)
        if found:
            for problem in found:
                problems.add(_event_path(path, problem.path), problem.message)
            return None
    payload = _json_bytes(data, path, problems, ascii_only=False)
    return None if payload is None else wire.frame(schema_id=schema.schema_id, payload=payload)


def _protobuf(schema: WriterSchema, message: object, data: object, side: str, problems: _Problems) -> bytes | None:
    """Checked and built in one step: json_format is both the check and the encoder, so ``validate`` has no say."""
    if message is not None and (not isinstance(message, str) or not message):
        problems.add(f"{side}.message", f"expected a message name such as Order or shop.Order, got "
                                        f"{show_value(message)}")
        return None
    try:
        indexes, message_class = schema.protobuf.find(message) if message else schema.protobuf.first()
    except ProtobufSchemaError as exc:
        problems.add(f"{side}.message" if message else side, f"{exc} (schema {schema.schema_id})")
        return None
    built, found = to_message(message_class, data)
    if built is None:
        for path, problem in found:
            problems.add(_event_path(f"{side}.data", path), problem)
        return None
    try:
        payload = serialize(built)
    except ValueError as exc:
        problems.add(f"{side}.data", f"cannot be written with Protobuf schema {schema.schema_id}: {exc}")
        return None
    return wire.frame(schema_id=schema.schema_id, payload=encode_indexes(indexes) + payload)
