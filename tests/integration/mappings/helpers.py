"""Schemas, rules and makers shared by the mapping tests (services, API, pages, acceptance)."""

from __future__ import annotations

import hashlib
import json

from onboarding.models import Schema, SchemaVersion

ADMISSION = {"type": "record", "name": "Admission", "namespace": "clinical.src", "fields": [
    {"name": "pid", "type": "string"},
    {"name": "sex", "type": "string"},
    {"name": "dob", "type": "string"},
    {"name": "weight_lb", "type": ["null", "double"], "default": None},
    {"name": "ssn", "type": ["null", "string"], "default": None},
]}
PATIENT = {"type": "record", "name": "Patient", "namespace": "std", "fields": [
    {"name": "id", "type": "string"},
    {"name": "gender", "type": {"type": "enum", "name": "Gender", "symbols": ["male", "female", "other", "unknown"]}},
    {"name": "birth_date", "type": {"type": "int", "logicalType": "date"}},
    {"name": "weight_kg", "type": ["null", "double"], "default": None},
    {"name": "national_id", "type": ["null", "string"], "default": None},
]}
GENDER_CODES = {"M": "male", "F": "female", "O": "other"}

RULES = [
    {"target": "id", "sources": ["pid"], "fn": "rename", "args": {}},
    {"target": "gender", "sources": ["sex"], "fn": "code", "args": {"table": "hl7-gender"}},
    {"target": "birth_date", "sources": ["dob"], "fn": "date_parse",
     "args": {"formats": ["%Y%m%d"], "output": "epoch_days"}},
    {"target": "weight_kg", "sources": ["weight_lb"], "fn": "unit", "args": {"from": "lb", "to": "kg", "digits": 1}},
    {"target": "national_id", "sources": ["ssn"], "fn": "rename", "args": {}},
]
EVENT = {"pid": "p-1", "sex": "F", "dob": "19800102", "weight_lb": 150.0, "ssn": "123-45-6789"}


def value_schema(topic, document, *, registry_id: int | None = None) -> SchemaVersion:
    """A value schema with one version, written with the ORM (the mapping services read rows, not the
    registry)."""
    # ready: as if the registry had it, so a later version may be submitted through the service
    schema, _ = Schema.objects.get_or_create(topic=topic, side="value",
                                             defaults={"format": "AVRO", "status": "ready", "observed_generation": 1})
    number = (schema.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    body = json.dumps(document)
    return SchemaVersion.objects.create(schema=schema, number=number, text=body, registry_id=registry_id,
                                        fingerprint=hashlib.sha256(body.encode()).hexdigest())
