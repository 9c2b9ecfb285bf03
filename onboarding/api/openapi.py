"""What the OpenAPI document says beyond what each view declares: the answers every operation can give.

- Request bodies of strict serializers declare ``additionalProperties: false``: the API refuses
  unknown fields, so generated clients and fuzzers should know it.
- Every operation may answer 400 (a bad query parameter, e.g. a NUL character), 401 (no, an
  expired or a revoked token), 404 (an unknown object, a page past the end) and 429 (throttled);
  writes 403 (a read-scope token), bodies 413 and 415; If-Match 412 and a body ``generation`` 409.
  Each with the error shape of ``portal/api_errors.py``.
- The audit trail also answers ``text/csv`` (``?format=csv``).
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance

from onboarding.api.serializers.topics import StrictSerializer

METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
UNSAFE = {"put", "post", "patch", "delete"}
DETAIL = "Detail"
ERRORS = "ValidationErrors"
STALE = "StaleGeneration"
COMPONENTS = {
    DETAIL: {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]},
    ERRORS: {"type": "object", "properties": {"errors": {
        "type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "description": "Field (or path, e.g. configs.retention.ms, tags[0]) to messages; problems of the whole "
                       "request are under non_field_errors."}}, "required": ["errors"]},
    STALE: {"type": "object", "properties": {"detail": {"type": "string"}, "current_generation": {"type": "integer"}},
            "required": ["detail", "current_generation"]},
}
ANSWERS = {
    "400": (ERRORS, "The request was refused; the messages say what to change."),
    "401": (DETAIL, "No credentials, or the token is unknown, expired or revoked."),
    "403": (DETAIL, "You may not do this (role, team or token scope)."),
    "404": (DETAIL, "No such object (or it is private to another team), or no such page."),
    "409": (STALE, "The `generation` in the body is no longer current: reload and retry."),
    "412": (STALE, "The `If-Match` generation is no longer current."),
    "413": (DETAIL, "The body is over the API's size limit."),
    "415": (DETAIL, "The body is not in a media type this operation reads (JSON)."),
    "429": (DETAIL, "Too many requests; wait as long as the Retry-After header says."),
}
AUDIT_PATH = "/api/v1/audit/"


class PortalAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema; strict request serializers refuse unknown properties, and say so."""

    def _map_basic_serializer(self, serializer, direction):
        result = super()._map_basic_serializer(serializer, direction)
        instance = force_instance(serializer)
        if direction == "request" and isinstance(instance, StrictSerializer):
            properties = result.setdefault("properties", {})
            for name in sorted(instance.echoed_fields - set(properties)):
                properties[name] = {"description": "Sent back from a GET: accepted and ignored."}
            result["additionalProperties"] = False
        return result


def document_errors(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: the answers of ANSWERS on every operation where they can happen."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, shape in COMPONENTS.items():
        schemas.setdefault(name, shape)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            for code in _codes(method, operation, schemas):
                component, description = ANSWERS[code]
                operation["responses"].setdefault(code, {
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
                    "description": description})
            if path == AUDIT_PATH and method == "get":
                _add_csv(operation)
    return result


def _codes(method: str, operation: dict, schemas: dict) -> list[str]:
    codes = ["400", "401", "404", "429"]
    if method in UNSAFE:
        codes.append("403")
    if "requestBody" in operation:
        codes += ["413", "415"]
    if any(parameter.get("name") == "If-Match" for parameter in operation.get("parameters", [])):
        codes.append("412")
    if _body_has(operation, "generation", schemas):
        codes.append("409")
    return codes


def _body_has(operation: dict, field: str, schemas: dict) -> bool:
    for media in operation.get("requestBody", {}).get("content", {}).values():
        ref = media.get("schema", {}).get("$ref", "")
        if ref and field in schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}):
            return True
    return False


def _add_csv(operation: dict) -> None:
    ok = operation["responses"].setdefault("200", {"description": ""})
    ok.setdefault("content", {})["text/csv"] = {"schema": {
        "type": "string", "description": "With ?format=csv: every matching event (not paged), one row each."}}
