"""The Schema Registry is real: Avro registration, BACKWARD checks and idempotent ids."""

import json

import pytest

V1 = {"type": "record", "name": "Admission", "namespace": "stack.probe",
      "fields": [{"name": "patient_id", "type": "string"}, {"name": "ward", "type": "string"}]}
V2_REMOVES_WITHOUT_DEFAULT = {"type": "record", "name": "Admission", "namespace": "stack.probe",
                              "fields": [{"name": "patient_id", "type": "string"}]}
V2_ADDS_FIELD_WITHOUT_DEFAULT = {**V1, "fields": V1["fields"] + [{"name": "bed", "type": "string"}]}


def _body(schema):
    return json.dumps({"schemaType": "AVRO", "schema": json.dumps(schema)})


@pytest.fixture
def subject(registry_http, registry_url, unique):
    name = f"stack.probe-{unique}-value"
    yield name
    registry_http.delete(f"{registry_url}/subjects/{name}")
    registry_http.delete(f"{registry_url}/subjects/{name}?permanent=true")


def test_the_global_default_compatibility_is_backward(registry_http, registry_url):
    response = registry_http.get(f"{registry_url}/config")
    assert response.status_code == 200
    assert response.json()["compatibilityLevel"] == "BACKWARD"


def test_it_registers_avro_and_returns_the_same_id_for_the_same_schema(registry_http, registry_url, subject):
    first = registry_http.post(f"{registry_url}/subjects/{subject}/versions", data=_body(V1))
    assert first.status_code == 200, first.text
    again = registry_http.post(f"{registry_url}/subjects/{subject}/versions", data=_body(V1))
    assert again.json()["id"] == first.json()["id"]
    versions = registry_http.get(f"{registry_url}/subjects/{subject}/versions").json()
    assert versions == [1]


def _verdict(registry_http, registry_url, subject, schema):
    response = registry_http.post(
        f"{registry_url}/compatibility/subjects/{subject}/versions/latest?verbose=true", data=_body(schema))
    assert response.status_code == 200, response.text
    return response.json()


def test_backward_refuses_a_new_field_without_default_with_reasons(registry_http, registry_url, subject):
    # BACKWARD: readers on the new schema must read old data, so a new field needs a default.
    assert registry_http.post(f"{registry_url}/subjects/{subject}/versions", data=_body(V1)).status_code == 200

    verdict = _verdict(registry_http, registry_url, subject, V2_ADDS_FIELD_WITHOUT_DEFAULT)

    assert verdict["is_compatible"] is False
    refused = registry_http.post(f"{registry_url}/subjects/{subject}/versions",
                                 data=_body(V2_ADDS_FIELD_WITHOUT_DEFAULT))
    assert refused.status_code == 409
    # Apicurio answers verbose=true without reasons; its refusal names the offending field.
    reasons = " ".join(verdict.get("messages", [])) + refused.json()["message"]
    assert "bed" in reasons


def test_removing_a_field_without_default_is_backward_compatible_but_not_forward(registry_http, registry_url,
                                                                                 subject):
    # Removing a field breaks old readers (FORWARD), not new ones (BACKWARD): the registry must know both.
    assert registry_http.post(f"{registry_url}/subjects/{subject}/versions", data=_body(V1)).status_code == 200
    assert _verdict(registry_http, registry_url, subject, V2_REMOVES_WITHOUT_DEFAULT)["is_compatible"] is True

    set_mode = registry_http.put(f"{registry_url}/config/{subject}", data=json.dumps({"compatibility": "FORWARD"}))
    assert set_mode.status_code == 200, set_mode.text

    verdict = _verdict(registry_http, registry_url, subject, V2_REMOVES_WITHOUT_DEFAULT)
    assert verdict["is_compatible"] is False
