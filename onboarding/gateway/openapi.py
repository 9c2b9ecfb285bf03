"""The OpenAPI 3.1 description of the gateway's REST API, served at ``/openapi.json`` (``/docs``: a page for people).

Maintained by hand beside the routes (app.py, consume_routes.py): tests/unit/gateway/test_openapi.py fails when a
route of ``create_app`` is not described here or a described path is not served, and validates the document.
The produce shapes follow Confluent REST Proxy v3 (``ProduceRequest``, ``ProduceResponse``); the batch and the
consume routes are this gateway's own.
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

TOPIC_PATH = "/v3/clusters/{cluster_id}/topics/{topic}"
UNDOCUMENTED = ("/healthz", "/metrics", "/openapi.json", "/docs")  # operational, not part of the API


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(_ref("Error"), description)


_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                                "schema": {"type": "integer", "minimum": 1}}}
_LIMITED = {**_error("A token's rate limit (error_code 42902) or the producer's full queue (42901)."),
            "headers": _RETRY_AFTER}
_COMMON_ERRORS = {
    "401": _error("No valid gateway token (error_code 40101); the same answer for every reason."),
    "429": _LIMITED,
}
_TOPIC_ERRORS = {
    **_COMMON_ERRORS,
    "400": _error("A malformed request: ``errors`` maps each field's path to its problems."),
    "403": _error("The token's grant does not cover this topic (error_code 40301)."),
    "404": _error("No such cluster (40401) or topic (40403)."),
    "503": _error("Kafka or the schema registry is unavailable (error_code 50301); retry."),
}
_PARAMS = [
    {"name": "cluster_id", "in": "path", "required": True, "schema": {"type": "string"},
     "description": "The one cluster's id (GET /v3/clusters)."},
    {"name": "topic", "in": "path", "required": True, "schema": {"type": "string"}},
]
_GROUP = {"name": "group", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1,
                                                                       "maxLength": 200},
          "description": "The consumer group; forced under the team's prefix."}
_CURSOR = {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"},
           "description": "Where to continue: the cursor of the previous page (else the group's committed offsets, "
                          "else the beginning)."}

SCHEMAS = {
    "Error": {
        "type": "object", "required": ["error_code", "message"],
        "properties": {
            "error_code": {"type": "integer", "description": "Confluent's code: the HTTP status, or it and two "
                                                             "digits (40101, 40301, 42901, 42902, 50301)."},
            "message": {"type": "string"},
            "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                       "description": "Each field's path (value.data.id, entries[2].id) and what is wrong there."},
        },
    },
    "Data": {
        "type": "object", "required": ["data"],
        "properties": {
            "type": {"type": "string", "enum": ["BINARY", "STRING", "JSON", "AVRO", "JSONSCHEMA", "PROTOBUF"]},
            "subject": {"type": "string"}, "schema_id": {"type": "integer"},
            "schema_version": {"oneOf": [{"type": "integer"}, {"type": "string", "const": "latest"}]},
            "subject_name_strategy": {"type": "string"},
            "data": {"description": "base64 for BINARY, text for STRING, any JSON otherwise; null: a tombstone."},
        },
    },
    "ProduceRecord": {
        "type": "object",
        "properties": {
            "partition_id": {"type": "integer", "minimum": 0},
            "headers": {"type": "array", "items": {
                "type": "object", "required": ["name"],
                "properties": {"name": {"type": "string"}, "value": {"type": ["string", "null"],
                                                                     "contentEncoding": "base64"}}}},
            "key": _ref("Data"), "value": _ref("Data"),
            "timestamp": {"type": "string", "format": "date-time"},
        },
    },
    "PartReport": {"type": ["object", "null"],
                   "properties": {"type": {"type": ["string", "null"]}, "size": {"type": "integer"}}},
    "ProduceReport": {
        "type": "object", "required": ["error_code"],
        "description": "A delivery report (error_code 200) or an Error of that record.",
        "properties": {
            "error_code": {"type": "integer"}, "message": {"type": "string"},
            "cluster_id": {"type": "string"}, "topic_name": {"type": "string"},
            "partition_id": {"type": "integer"}, "offset": {"type": "integer"},
            "timestamp": {"type": ["string", "null"], "format": "date-time"},
            "key": _ref("PartReport"), "value": _ref("PartReport"),
            "errors": {"type": "object"},
        },
    },
    "BatchRequest": {
        "type": "object", "required": ["entries"],
        "properties": {"entries": {"type": "array", "minItems": 1, "maxItems": 1000, "items": {
            "allOf": [_ref("ProduceRecord"), {"type": "object", "required": ["id"],
                                              "properties": {"id": {"type": "string", "minLength": 1}}}]}}},
    },
    "BatchResponse": {
        "type": "object", "required": ["successes", "failures"],
        "properties": {name: {"type": "array", "items": {"allOf": [
            _ref("ProduceReport"), {"type": "object", "properties": {"id": {"type": "string"}}}]}}
            for name in ("successes", "failures")},
    },
    "Cluster": {
        "type": "object", "required": ["kind", "cluster_id"],
        "properties": {"kind": {"type": "string", "const": "KafkaCluster"}, "cluster_id": {"type": "string"},
                       "metadata": {"type": "object"}, "topics": {"type": "object"}},
    },
    "ClusterList": {
        "type": "object", "required": ["kind", "data"],
        "properties": {"kind": {"type": "string", "const": "KafkaClusterList"}, "metadata": {"type": "object"},
                       "data": {"type": "array", "items": _ref("Cluster")}},
    },
    "Event": {
        "type": "object",
        "properties": {
            "partition": {"type": "integer"}, "offset": {"type": "integer"},
            "timestamp": {"type": ["string", "null"]},
            "key": {"type": ["object", "null"]},
            "value": {"type": ["object", "null"], "description": "{type, data, schema_id?}; null: a tombstone."},
            "headers": {"type": "array", "items": {"type": "object"}},
        },
    },
    "EventPage": {
        "type": "object", "required": ["events", "cursor"],
        "properties": {"events": {"type": "array", "items": _ref("Event")},
                       "cursor": {"type": "string", "description": "Signed; pass it to the next read or commit."}},
    },
    "CommitRequest": {
        "type": "object", "required": ["group", "cursor"],
        "properties": {"group": {"type": "string"}, "cursor": {"type": "string"}},
    },
    "CommitResponse": {
        "type": "object", "required": ["group", "committed"],
        "properties": {"group": {"type": "string", "description": "The group with the team's prefix."},
                       "committed": {"type": "object", "additionalProperties": {"type": "integer"},
                                     "description": "The next offset of each partition."}},
    },
}

PATHS = {
    "/v3/clusters": {"get": {
        "operationId": "listClusters", "summary": "The one Kafka cluster behind this gateway.",
        "responses": {"200": _json(_ref("ClusterList"), "The cluster."), **_COMMON_ERRORS}}},
    "/v3/clusters/{cluster_id}": {"get": {
        "operationId": "getCluster", "summary": "The cluster by its id.", "parameters": _PARAMS[:1],
        "responses": {"200": _json(_ref("Cluster"), "The cluster."), **_COMMON_ERRORS,
                      "404": _error("No such cluster (40401).")}}},
    f"{TOPIC_PATH}/records": {"post": {
        "operationId": "produceRecords", "parameters": _PARAMS,
        "summary": "One record and its report; or, chunked, a stream of records answered one report a line.",
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ProduceRecord")}}},
        "responses": {"200": _json(_ref("ProduceReport"), "The delivery report (a stream: one JSON report a "
                                                          "line, in the records' order)."),
                      **_TOPIC_ERRORS, "413": _error("A body over 8 MiB that is not streamed (41301).")}}},
    f"{TOPIC_PATH}/records:batch": {"post": {
        "operationId": "produceBatch", "parameters": _PARAMS,
        "summary": "Up to 1000 records, each answered by its id.",
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("BatchRequest")}}},
        "responses": {"207": _json(_ref("BatchResponse"), "Each entry's report, by id."), **_TOPIC_ERRORS,
                      "413": _error("A body over 8 MiB (41301).")}}},
    f"{TOPIC_PATH}/events": {"get": {
        "operationId": "readEvents", "summary": "A page of decoded events and the cursor after them (no commit).",
        "parameters": [*_PARAMS, _GROUP, _CURSOR,
                       {"name": "max", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000,
                                                                 "default": 100}},
                       {"name": "wait_ms", "in": "query", "schema": {"type": "integer", "minimum": 0,
                                                                     "maximum": 30000, "default": 0}}],
        "responses": {"200": _json(_ref("EventPage"), "The events and the next cursor."), **_TOPIC_ERRORS}}},
    f"{TOPIC_PATH}/events:commit": {"post": {
        "operationId": "commitCursor", "parameters": _PARAMS,
        "summary": "Commit a cursor's offsets for the (prefixed) group.",
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("CommitRequest")}}},
        "responses": {"200": _json(_ref("CommitResponse"), "The committed offsets."), **_TOPIC_ERRORS,
                      "409": _error("Kafka refused the commit (40901), e.g. the group has live members.")}}},
    f"{TOPIC_PATH}/events:stream": {"get": {
        "operationId": "streamEvents", "summary": "Server-Sent Events, resumable by Last-Event-ID (a cursor).",
        "parameters": [*_PARAMS, _GROUP, _CURSOR,
                       {"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "An event stream: each event's data is an Event, its id the cursor "
                                             "after it.", "content": {"text/event-stream": {"schema": {
                                                 "type": "string"}}}}, **_TOPIC_ERRORS}}},
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "Event gateway", "version": "1",
             "description": "Produce (Confluent REST Proxy v3 compatible) and consume by signed cursor. Errors are "
                            "Confluent's {error_code, message}, with ``errors`` by field path. Rate limits are per "
                            "token and per gateway replica; over them the answer is 429 with Retry-After."},
    "security": [{"bearer": []}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "pep_<key id>_<secret>",
                                       "description": "A team token made in the portal."}},
        "schemas": SCHEMAS,
    },
}


def document(server_url: str | None = None) -> dict:
    """The document, naming ``server_url`` (where it was fetched from) as its server when given."""
    return {**DOCUMENT, "servers": [{"url": server_url}]} if server_url else DOCUMENT


async def serve(request: Request) -> Response:
    return JSONResponse(document(str(request.base_url).rstrip("/")))


async def page(request: Request) -> Response:
    """A plain page listing the operations, for people; the document itself is /openapi.json."""
    items = "".join(f"<li><code>{method.upper()} {html.escape(path)}</code>: {html.escape(op['summary'])}</li>"
                    for path, operations in PATHS.items() for method, op in operations.items())
    return HTMLResponse(f"<!doctype html><title>Event gateway API</title><h1>Event gateway API</h1>"
                        f"<p>The OpenAPI document: <a href=\"/openapi.json\">/openapi.json</a>.</p><ul>{items}</ul>")
