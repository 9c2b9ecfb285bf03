"""A gRPC ``Record`` (gateway.proto) as the REST v3 record dict, so both APIs share ``records.encode_record``.

A schema'd key or value (``SchemaData``: AVRO, JSONSCHEMA or PROTOBUF) carries its event as JSON text, as REST
does: for Protobuf the message's proto3 JSON mapping, written as the schema's first message (SchemaData has no
field naming another; REST's ``message`` does).

Problems of the conversion itself (JSON text that is not JSON) are reported under the same paths as the
encoder's (``value.data``), and merged with whatever the encoder finds in the rest of the record.
"""

from __future__ import annotations

import base64
import json

from google.rpc import code_pb2, error_details_pb2, status_pb2

from onboarding.gateway.record_error import INVALID_PAYLOAD, RecordError
from onboarding.gateway.records import ProducibleRecord, encode_record

# SchemaData.Type; 0 (unspecified): the registered schema's type
_SCHEMA_TYPES = {1: "AVRO", 2: "JSONSCHEMA", 3: "PROTOBUF"}


def record_body(record) -> tuple[dict, dict[str, list[str]]]:
    """The v3 dict of a proto Record, and the problems found converting it (path -> messages)."""
    problems: dict[str, list[str]] = {}
    body: dict = {}
    if record.HasField("partition_id"):
        body["partition_id"] = record.partition_id
    if record.headers:
        body["headers"] = [{"name": header.name,
                            "value": base64.b64encode(header.value).decode("ascii")
                            if header.HasField("value") else None} for header in record.headers]
    for side in ("key", "value"):
        if record.HasField(side):
            part = _part(getattr(record, side), side, problems)
            if part is not None:
                body[side] = part
    if record.HasField("timestamp"):
        body["timestamp"] = record.timestamp.ToJsonString()
    return body, problems


def _part(data, side: str, problems: dict[str, list[str]]) -> dict | None:
    form = data.WhichOneof("data")
    if form is None:
        problems.setdefault(side, []).append("set one of json, string, bytes or schema (leave the field out "
                                             f"for a null {side})")
        return None
    if form == "json":
        parsed = _json(data.json, f"{side}.data", problems)
        return None if parsed is _BAD else {"type": "JSON", "data": parsed}
    if form == "string":
        return {"type": "STRING", "data": data.string}
    if form == "bytes":
        return {"type": "BINARY", "data": base64.b64encode(data.bytes).decode("ascii")}
    schema = data.schema
    part: dict = {}
    if schema.type:
        part["type"] = _SCHEMA_TYPES.get(schema.type, str(schema.type))
    if schema.subject:
        part["subject"] = schema.subject
    which = schema.WhichOneof("schema")
    if which is not None:
        part[which] = getattr(schema, which)
    if not any(name in part for name in ("type", "subject", "schema_version", "schema_id")):
        part["subject_name_strategy"] = "TOPIC_NAME"  # schema'd all the same: the topic's <topic>-<side> subject
    if not schema.data:
        problems.setdefault(f"{side}.data", []).append("missing: the event as JSON text (leave the "
                                                       f"{side} out for a null {side})")
        return None
    parsed = _json(schema.data, f"{side}.data", problems)
    if parsed is _BAD:
        return None
    part["data"] = parsed
    return part


_BAD = object()


def _json(text: str, path: str, problems: dict[str, list[str]]) -> object:
    try:
        return json.loads(text)
    except ValueError as exc:
        problems.setdefault(path, []).append(f"not JSON text: {exc}")
        return _BAD


def encode(record, *, topic: str, schemas, validate: bool) -> ProducibleRecord:
    """encode_record of a proto Record; RecordError with the conversion's and the encoder's problems together."""
    body, problems = record_body(record)
    try:
        encoded = encode_record(body, topic=topic, schemas=schemas, validate=validate)
    except RecordError as exc:
        merged = dict(problems)
        for path, messages in exc.errors.items():
            merged.setdefault(path, []).extend(messages)
        raise RecordError(merged, code=exc.code) from None
    if problems:
        raise RecordError(problems, code=INVALID_PAYLOAD)
    return encoded


def bad_request(errors: dict[str, list[str]], *, prefix: str = "") -> error_details_pb2.BadRequest:
    return error_details_pb2.BadRequest(field_violations=[
        error_details_pb2.BadRequest.FieldViolation(field=f"{prefix}{path}", description=message)
        for path, messages in errors.items() for message in messages])


def status(code: int, message: str, *details) -> status_pb2.Status:
    """A google.rpc.Status (``code`` a google.rpc.Code / grpc status number) with packed details."""
    result = status_pb2.Status(code=code, message=message)
    for detail in details:
        result.details.add().Pack(detail)
    return result


def invalid(errors: dict[str, list[str]], *, prefix: str = "", message: str = "") -> status_pb2.Status:
    count = sum(len(messages) for messages in errors.values())
    return status(code_pb2.INVALID_ARGUMENT, message or f"The record cannot be produced: {count} problem(s)",
                  bad_request(errors, prefix=prefix))
