"""Produce records encoded with writer schemas from the real Schema Registry, read back as the router reads them."""

import json

import pytest

from onboarding.gateway.records import SCHEMA_NOT_FOUND, RecordError, encode_record
from onboarding.gateway.writer_schemas import RegistrySchemas
from onboarding.platform.registry import Registry
from onboarding.routing.decode import SchemaCache, decode_value

ADDRESS = {"type": "record", "name": "Address", "namespace": "gateway.records",
           "fields": [{"name": "zip", "type": "string"}, {"name": "city", "type": ["null", "string"], "default": None}]}
ADMISSION_V1 = {
    "type": "record", "name": "Admission", "namespace": "gateway.records",
    "fields": [
        {"name": "patient", "type": {"type": "record", "name": "Patient", "fields": [
            {"name": "name", "type": "string"},
            {"name": "birth_date", "type": {"type": "int", "logicalType": "date"}},
        ]}},
        {"name": "ward", "type": "string"},
        {"name": "scan", "type": ["null", "string", "bytes"], "default": None},
    ],
}
ADMISSION_V2 = {**ADMISSION_V1, "fields": [*ADMISSION_V1["fields"],
                                          {"name": "bed", "type": ["null", "int"], "default": None}]}
VISIT = {"type": "record", "name": "Visit", "namespace": "gateway.records",
         "fields": [{"name": "home", "type": "gateway.records.Address"}]}
PATIENT_KEY = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
               "properties": {"patient_id": {"type": "string", "pattern": "^P[0-9]+$"}},
               "required": ["patient_id"]}
ADA = {"name": "Ada", "birth_date": 19000}


@pytest.fixture
def client():
    with Registry() as registry:
        yield registry


@pytest.fixture
def schemas(client):
    return RegistrySchemas(client)


@pytest.fixture
def reader(client):
    """How the router reads values: by the id in the wire-format header, from the registry."""
    return SchemaCache(client)


@pytest.fixture
def topic(unique):
    return f"gateway.records-{unique}"


@pytest.fixture
def subject(registry, registry_subjects):
    """``subject(name, document, schema_type="AVRO", **extra)``: registered now, removed after the test; its id."""

    def register(name, document, schema_type="AVRO", **extra):
        registry_subjects.append(name)
        return registry.register(name, document, schemaType=schema_type, **extra)

    return register


def test_an_avro_value_by_topic_name_strategy_and_latest_reads_back(topic, subject, schemas, reader):
    subject(f"{topic}-value", ADMISSION_V1)
    latest = subject(f"{topic}-value", ADMISSION_V2)
    record = encode_record({"value": {"type": "AVRO", "data": {"patient": ADA, "ward": "ICU", "bed": {"int": 4},
                                                               "scan": {"bytes": "\u00ff\u0000"}}}},
                           topic=topic, schemas=schemas)
    assert record.value[:5] == b"\x00" + latest.to_bytes(4, "big")
    assert decode_value(record.value, reader) == {"patient": {"name": "Ada", "birth_date": "2022-01-08"},
                                                  "ward": "ICU", "bed": 4, "scan": "\u00ff\u0000"}


def test_an_avro_value_by_schema_id_and_by_version_reads_back(topic, subject, schemas, reader):
    first = subject(f"{topic}-value", ADMISSION_V1)
    subject(f"{topic}-value", ADMISSION_V2)
    data = {"patient": ADA, "ward": "MATERNITY"}
    by_id = encode_record({"value": {"schema_id": first, "data": data}}, topic=topic, schemas=schemas)
    by_version = encode_record({"value": {"type": "AVRO", "schema_version": 1, "data": data}}, topic=topic,
                               schemas=schemas)
    assert by_id.value == by_version.value
    assert by_id.value_type == "AVRO"
    assert decode_value(by_id.value, reader)["ward"] == "MATERNITY"


def test_a_jsonschema_key_by_subject_reads_back(topic, subject, schemas, reader):
    key_id = subject(f"{topic}-patients", PATIENT_KEY, "JSON")
    record = encode_record({"key": {"type": "JSONSCHEMA", "subject": f"{topic}-patients",
                                    "data": {"patient_id": "P7"}}, "value": {"type": "STRING", "data": "x"}},
                           topic=topic, schemas=schemas)
    assert record.key[:5] == b"\x00" + key_id.to_bytes(4, "big")
    assert decode_value(record.key, reader) == {"patient_id": "P7"}


def test_an_avro_schema_with_a_reference_to_another_subject(topic, subject, schemas, reader):
    subject(f"{topic}-address", ADDRESS)
    subject(f"{topic}-value", VISIT, references=[{"name": "gateway.records.Address",
                                                  "subject": f"{topic}-address", "version": 1}])
    record = encode_record({"value": {"type": "AVRO", "data": {"home": {"zip": "1011", "city": {"string": "Ams"}}}}},
                           topic=topic, schemas=schemas)
    assert decode_value(record.value, reader) == {"home": {"zip": "1011", "city": "Ams"}}


def test_a_payload_that_does_not_fit_its_registered_schemas_is_refused_with_every_path(topic, subject, schemas):
    subject(f"{topic}-value", ADMISSION_V1)
    subject(f"{topic}-key", PATIENT_KEY, "JSON")
    with pytest.raises(RecordError) as caught:
        encode_record({"key": {"type": "JSONSCHEMA", "data": {"patient_id": 7}},
                       "value": {"type": "AVRO", "data": {"patient": {"name": "Ada", "birth_date": "1990-01-01"},
                                                          "wrd": "ICU"}}}, topic=topic, schemas=schemas)
    assert set(caught.value.errors) == {"key.data.patient_id", "value.data.patient.birth_date", "value.data.ward",
                                        "value.data.wrd"}


def test_a_subject_or_id_the_registry_does_not_have_is_schema_not_found(topic, schemas):
    for part, path in (({"type": "AVRO", "data": {}}, "value.subject"),
                       ({"schema_id": 2**31 - 11, "data": {}}, "value.schema_id")):
        with pytest.raises(RecordError) as caught:
            encode_record({"value": part}, topic=topic, schemas=schemas)
        assert (caught.value.code, list(caught.value.errors)) == (SCHEMA_NOT_FOUND, [path])


def test_schema_by_id_answers_like_get_version(topic, subject, client):
    schema_id = subject(f"{topic}-value", ADMISSION_V1)
    found = client.schema_by_id(schema_id)
    assert (found["id"], found["schemaType"], json.loads(found["schema"])["name"]) == (schema_id, "AVRO", "Admission")
