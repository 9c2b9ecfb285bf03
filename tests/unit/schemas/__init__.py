"""Unit tests of onboarding.schemas, with the hospital Admission schema in each format as the running example."""

import json

ADDRESS = {
    "type": "record",
    "name": "Address",
    "fields": [
        {"name": "street", "type": "string"},
        {"name": "zip", "type": "int"},
        {"name": "city", "type": ["null", "string"], "default": None},
    ],
}

ADMISSION = {
    "type": "record",
    "name": "Admission",
    "namespace": "org.hospital",
    "doc": "A patient admitted to a ward.",
    "fields": [
        {"name": "patient_id", "type": "string", "doc": "Hospital patient number"},
        {"name": "age", "type": "int"},
        {"name": "ward", "type": {"type": "enum", "name": "Ward", "symbols": ["ICU", "CARDIOLOGY", "MATERNITY"]}},
        {"name": "address", "type": ADDRESS},
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "admitted_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "contacts", "type": {"type": "array", "items": "Address"}, "default": []},
    ],
}


def admission(**changes) -> dict:
    """A deep copy of ADMISSION, to edit freely in a test."""
    copy = json.loads(json.dumps(ADMISSION))
    copy.update(changes)
    return copy


def field(schema: dict, name: str) -> dict:
    return next(f for f in schema["fields"] if f["name"] == name)


def text(schema: object) -> str:
    return json.dumps(schema, indent=2)


ADMISSION_JSON_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Admission",
    "type": "object",
    "properties": {
        "patient_id": {"type": "string", "description": "Hospital patient number"},
        "age": {"type": "integer", "minimum": 0},
        "ward": {"enum": ["ICU", "CARDIOLOGY", "MATERNITY"]},
        "address": {
            "type": "object",
            "properties": {"street": {"type": "string"}, "zip": {"type": "string"}},
            "required": ["street", "zip"],
        },
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["patient_id", "age"],
    "additionalProperties": False,
}

ADMISSION_PROTO = """syntax = "proto3";
package org.hospital;

// A patient admitted to a ward.
message Admission {
  string patient_id = 1;
  int32 age = 2;
  Ward ward = 3;
  Address address = 4;
  repeated string tags = 5;
  map<string, int64> counters = 6;
  oneof contact {
    string phone = 7;
    string email = 8;
  }

  message Address {
    string street = 1;
    string zip = 2;
  }
}

enum Ward {
  WARD_UNSPECIFIED = 0;
  ICU = 1;
  CARDIOLOGY = 2;
}
"""


def proto(*edits: tuple[str, str]) -> str:
    """ADMISSION_PROTO with each (old, new) text replaced once; every old text must be there."""
    out = ADMISSION_PROTO
    for old, new in edits:
        assert old in out
        out = out.replace(old, new, 1)
    return out
