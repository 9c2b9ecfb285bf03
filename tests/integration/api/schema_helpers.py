"""Shared by the schema API tests: schema documents and request helpers."""

import copy

from onboarding.models import Schema, Topic
from tests.fixtures.waiting import wait_for_status

SCHEMAS = "/api/v1/schemas/"

AVRO_V1 = {"type": "record", "name": "Payment", "namespace": "com.example.payments",
           "fields": [{"name": "id", "type": "string"}, {"name": "amount", "type": "long"}]}
# Compatible under BACKWARD: the new field has a default, so old events still read.
AVRO_V2 = copy.deepcopy(AVRO_V1)
AVRO_V2["fields"].append({"name": "currency", "type": "string", "default": "EUR"})
# Incompatible under BACKWARD: old events have no merchant and there is no default.
AVRO_V3 = copy.deepcopy(AVRO_V2)
AVRO_V3["fields"].append({"name": "merchant", "type": "string"})

JSON_V1 = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
           "properties": {"id": {"type": "string"}, "amount": {"type": "integer"}}, "required": ["id"]}
PROTOBUF_V1 = 'syntax = "proto3";\npackage payments;\n\nmessage Payment {\n  string id = 1;\n  int64 amount = 2;\n}\n'


def schema_url(schema_id) -> str:
    return f"{SCHEMAS}{schema_id}/"


def body(topic: Topic, schema, fmt: str = "AVRO", **extra) -> dict:
    return {"topic": topic.pk, "side": "value", "format": fmt, "schema": schema, **extra}


def submit(client, topic: Topic, schema, fmt: str = "AVRO", **extra):
    return client.post(SCHEMAS, body(topic, schema, fmt, **extra), format="json")


def check(client, topic: Topic, schema, fmt: str = "AVRO", **extra):
    return client.post(f"{SCHEMAS}check/", body(topic, schema, fmt, **extra), format="json")


def settled(schema_id: int) -> Schema:
    """Wait until the worker registered the schema's latest generation."""
    schema = wait_for_status(Schema.objects.get(pk=schema_id), "ready", "failed", timeout=90)
    assert schema.status == "ready", schema.last_error
    return schema
