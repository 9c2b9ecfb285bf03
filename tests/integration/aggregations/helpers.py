"""Shared makers of the aggregation tests (services, API, manifest): a valid definition and a source with a
registered value schema."""

from __future__ import annotations

import hashlib
import json

from onboarding.models import Schema, SchemaVersion, Team, Topic

CLAIM = {"type": "record", "name": "Claim", "namespace": "agg.test",
         "fields": [{"name": "provider_id", "type": "string"}, {"name": "amount", "type": "double"},
                    {"name": "at", "type": "long"}]}


def with_value_schema(topic: Topic, document=CLAIM) -> Topic:
    """Give ``topic`` a value schema with one version, written with the ORM as the schema service would."""
    schema = Schema.objects.create(topic=topic, side="value", format="AVRO")
    body = json.dumps(document)
    SchemaVersion.objects.create(schema=schema, number=1, text=body,
                                 fingerprint=hashlib.sha256(body.encode()).hexdigest())
    return topic


def definition(team: Team, source: Topic, **overrides) -> dict:
    """Keyword arguments of aggregation_create for a valid hourly count and sum per provider."""
    values = {
        "team": team, "name": "per-provider", "source": source, "output_topic": f"{team.slug}.per-provider-hourly",
        "window_type": "tumbling", "size": "1h", "grace": "1m", "group_by": "value.provider_id",
        "filter": "value.amount > `100`",
        "measures": [{"name": "claims", "op": "count"}, {"name": "amount_total", "op": "sum", "field": "value.amount"}],
    }
    values.update(overrides)
    return values
