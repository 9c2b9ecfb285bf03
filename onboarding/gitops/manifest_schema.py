"""The shape of a team's GitOps manifest as a JSON Schema (Draft 2020-12), kept as a plain dict.

``manifest.validate`` checks documents against it with ``jsonschema`` and words each error for the person who
wrote the manifest. Field order here is the order ``render`` writes and the order unknown-field hints list.
Value lists come from ``onboarding.choices``. What a schema cannot say stays in ``manifest``: the same resource
twice (resources are keyed by cluster and name, not compared whole), and that a whole number is not written
``3.0`` (JSON Schema counts 3.0 as an integer).
"""

from __future__ import annotations

from onboarding.choices import (
    COMPATIBILITY_MODES,
    MEASURE_OPS,
    SCHEMA_FORMATS,
    EmitMode,
    LateHandling,
    SchemaFormat,
    StartFrom,
    SubscriptionMode,
    TimeSource,
    TopicVisibility,
    WindowType,
)
from onboarding.mapping.rules import FUNCTIONS as MAPPING_FUNCTIONS

API_VERSION = "portal/v1"
KIND = "TeamManifest"
SIDES = ("key", "value")
VISIBILITIES = tuple(TopicVisibility.values)
MODES = tuple(SubscriptionMode.values)

NAME = {"type": "string", "pattern": r"\S"}  # required text: present, not null, not blank
TEXT = {"type": ["string", "null"]}  # optional fields accept null: "left out, not managed"
WHOLE_NUMBER = {"type": ["integer", "null"]}
FLAG = {"type": ["boolean", "null"]}


def choice(values, **annotations) -> dict:
    """One of ``values``, or null (left out)."""
    return {"type": ["string", "null"], "enum": [*values, None], **annotations}


def record(properties: dict, *, required: tuple[str, ...]) -> dict:
    """A mapping of known fields; unknown fields are refused."""
    return {"type": "object", "additionalProperties": False, "required": list(required), "properties": properties}


TOPIC = record({
    "cluster": NAME,
    "name": NAME,
    "partitions": WHOLE_NUMBER,
    "replication_factor": WHOLE_NUMBER,
    "configs": {"type": ["object", "null"], "additionalProperties": {"type": ["string", "number", "boolean"]}},
    "description": TEXT,
    "tags": {"type": ["array", "null"], "items": {"type": "string"}},
    "visibility": choice(VISIBILITIES),
    "subscriptions_need_approval": FLAG,
    "schemas": {"type": ["object", "null"], "additionalProperties": False,
                "properties": {side: {"$ref": "#/$defs/schema"} for side in SIDES}},
}, required=("cluster", "name"))
SCHEMA_ENTRY = record({  # a topic's key or value schema
    "format": choice(SCHEMA_FORMATS, default=SchemaFormat.AVRO.value),
    "compatibility": choice(sorted(COMPATIBILITY_MODES)),
    "schema": NAME,
}, required=("schema",))
# An account's client quotas: present, the whole set is managed (a key left out or null has no quota); absent or
# null, the quotas are not managed by the manifest.
CLIENT_QUOTA = {"type": ["object", "null"], "additionalProperties": False,
                "properties": {key: WHOLE_NUMBER for key in ("producer_byte_rate", "consumer_byte_rate",
                                                             "request_percentage")}}
SERVICE_ACCOUNT = record({"cluster": NAME, "name": NAME, "description": TEXT, "quota": CLIENT_QUOTA},
                         required=("cluster", "name"))
SUBSCRIPTION = record({
    "cluster": NAME,
    "source": NAME,
    "mode": choice(MODES),
    "filter": TEXT,
    "service_account": NAME,
    "destination": TEXT,
    "reason": TEXT,
}, required=("cluster", "source", "service_account"))
# Durations as the portal reads them everywhere: "15m", "1h", "30s", "500ms" or milliseconds.
DURATION = {"type": ["string", "integer", "null"]}
MEASURE = record({"name": NAME, "op": choice(MEASURE_OPS), "field": TEXT}, required=("name", "op"))
AGGREGATION = record({
    "cluster": NAME,
    "name": NAME,
    "description": TEXT,
    "source": NAME,
    "filter": TEXT,
    "group_by": TEXT,
    "window_type": choice(WindowType.values),
    "size": DURATION,
    "advance": DURATION,
    "gap": DURATION,
    "grace": DURATION,
    "time_source": choice(TimeSource.values),
    "time_field": TEXT,
    "measures": {"type": "array", "items": {"$ref": "#/$defs/measure"}},
    "emit": choice(EmitMode.values),
    "late": choice(LateHandling.values),
    "output_topic": NAME,
    "start_from": choice(StartFrom.values),
}, required=("cluster", "name", "source", "window_type", "measures", "output_topic"))

CONFIG_VALUE = {"type": ["string", "number", "boolean"]}
CONNECTOR = record({
    "cluster": NAME,
    "name": NAME,
    "description": TEXT,
    "connector_class": NAME,
    "config": {"type": "object", "additionalProperties": CONFIG_VALUE,
               "description": "The connector's config without name, connector.class or secrets."},
    "secret_refs": {"type": ["object", "null"], "additionalProperties": {"type": "string"},
                    "description": "Config key -> env:VARIABLE or file:/path:key; the worker resolves them."},
    "desired_state": choice(("running", "paused", "stopped")),
}, required=("cluster", "name", "connector_class", "config"))

CODE_TABLE = record({
    "name": NAME,
    "description": TEXT,
    "entries": {"type": "object", "additionalProperties": CONFIG_VALUE, "description": "code -> value."},
    "default": {"type": ["string", "number", "boolean", "null"],
                "description": "The value of codes the table lacks; left out: unknown codes fail the rule."},
}, required=("name", "entries"))

MAPPING_RULE = record({
    "target": NAME,
    "sources": {"type": ["array", "null"], "items": {"type": "string"}},
    "fn": choice(MAPPING_FUNCTIONS),
    "args": {"type": ["object", "null"]},
}, required=("target",))

MAPPING = record({
    "cluster": NAME,
    "name": NAME,
    "description": TEXT,
    "source_topic": NAME,
    "canonical_topic": NAME,
    "rules": {"type": "array", "items": {"$ref": "#/$defs/mapping_rule"},
              "description": "Field rules in the API's rule format (docs/mappings.md)."},
}, required=("cluster", "name", "source_topic", "canonical_topic", "rules"))

EVENT_STORE = record({
    "cluster": NAME,
    "topic": {**NAME, "description": "One of the team's topics."},
    "mode": choice(("log", "table")),
    "retention_days": {"type": ["integer", "null"], "description": "Days kept by event time; null: for ever."},
    "indexed_fields": {"type": ["array", "null"], "items": {"type": "string"},
                       "description": "Value fields to index, as paths like customer.id."},
}, required=("cluster", "topic"))

MANIFEST_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Team manifest",
    "description": "A team's topics, schemas, service accounts, subscriptions and aggregations, declared in one "
                   "document.",
    **record({
        "apiVersion": {"const": API_VERSION},
        "kind": {"const": KIND},
        "team": {"type": "string", "minLength": 1, "description": "The team's slug."},
        "topics": {"type": ["array", "null"], "items": {"$ref": "#/$defs/topic"}},
        "service_accounts": {"type": ["array", "null"], "items": {"$ref": "#/$defs/service_account"}},
        "subscriptions": {"type": ["array", "null"], "items": {"$ref": "#/$defs/subscription"}},
        # Left out (not null, not a list): the manifest does not manage the team's aggregations, so manifests
        # written before aggregations existed never delete the ones defined in the portal.
        "aggregations": {"type": ["array", "null"], "items": {"$ref": "#/$defs/aggregation"}},
        # Like aggregations: left out, the team's connectors are not managed by the manifest.
        "connectors": {"type": ["array", "null"], "items": {"$ref": "#/$defs/connector"}},
        # Like aggregations: left out, the team's code tables and mappings are not managed by the manifest.
        "code_tables": {"type": ["array", "null"], "items": {"$ref": "#/$defs/code_table"}},
        "mappings": {"type": ["array", "null"], "items": {"$ref": "#/$defs/mapping"}},
        # Like aggregations: left out, the team's event store bindings are not managed by the manifest.
        "event_store": {"type": ["array", "null"], "items": {"$ref": "#/$defs/event_store"}},
    }, required=("apiVersion", "kind", "team")),
    "$defs": {"topic": TOPIC, "schema": SCHEMA_ENTRY, "service_account": SERVICE_ACCOUNT,
              "subscription": SUBSCRIPTION, "aggregation": AGGREGATION, "measure": MEASURE,
              "connector": CONNECTOR, "code_table": CODE_TABLE, "mapping": MAPPING,
              "mapping_rule": MAPPING_RULE, "event_store": EVENT_STORE},
}
