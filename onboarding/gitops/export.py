"""A team's live resources as a manifest (what export renders and the planner compares against), with the
rows behind each entry so that apply can hand them to the services."""

from __future__ import annotations

from dataclasses import dataclass, field

from onboarding.aggregation_rules import format_duration
from onboarding.gitops.event_store import event_store_entry
from onboarding.gitops.manifest import (
    API_VERSION,
    KIND,
    account_key,
    aggregation_key,
    code_table_key,
    connector_key,
    event_store_key,
    mapping_key,
    subscription_key,
    topic_key,
)
from onboarding.gitops.mappings import code_table_entry, mapping_entry
from onboarding.models import (
    Aggregation,
    CodeTable,
    Connector,
    EventStoreBinding,
    Mapping,
    ResourceStatus,
    Schema,
    ServiceAccount,
    Subscription,
    Team,
    Topic,
)

LIVE_DECISIONS = (Subscription.Decision.REQUESTED, Subscription.Decision.APPROVED)


@dataclass
class TeamState:
    """The current manifest of a team and its rows by manifest key."""

    manifest: dict
    topics: dict[tuple, Topic] = field(default_factory=dict)
    schemas: dict[tuple, Schema] = field(default_factory=dict)  # (cluster, topic, side)
    accounts: dict[tuple, ServiceAccount] = field(default_factory=dict)
    subscriptions: dict[tuple, Subscription] = field(default_factory=dict)
    aggregations: dict[tuple, Aggregation] = field(default_factory=dict)
    connectors: dict[tuple, Connector] = field(default_factory=dict)
    code_tables: dict[tuple, CodeTable] = field(default_factory=dict)
    mappings: dict[tuple, Mapping] = field(default_factory=dict)
    event_store: dict[tuple, EventStoreBinding] = field(default_factory=dict)


def _live(queryset):
    return queryset.exclude(status=ResourceStatus.DELETED).filter(delete_requested_at__isnull=True)


def topic_entry(topic: Topic) -> dict:
    return {
        "cluster": topic.cluster.name, "name": topic.name, "partitions": topic.partitions,
        "replication_factor": topic.replication_factor, "configs": dict(topic.configs),
        "description": topic.description, "tags": list(topic.tags), "visibility": topic.visibility,
        "subscriptions_need_approval": topic.subscriptions_need_approval, "schemas": {},
    }


def schema_entry(schema: Schema) -> dict | None:
    latest = max(schema.versions.all(), key=lambda v: v.number, default=None)
    if latest is None:
        return None
    return {"format": schema.format, "compatibility": schema.compatibility, "schema": latest.text}


def account_entry(account: ServiceAccount) -> dict:
    entry = {"cluster": account.cluster.name, "name": account.name, "description": account.description}
    if account.quota:  # left out when none is set, so a manifest without quotas stays as it was written
        entry["quota"] = account.quota
    return entry


def subscription_entry(sub: Subscription) -> dict:
    return {
        "cluster": sub.source.cluster.name, "source": sub.source.name, "mode": sub.mode, "filter": sub.filter,
        "service_account": sub.service_account.name,
        "destination": sub.destination.name if sub.destination_id else None, "reason": sub.reason,
    }


def aggregation_entry(agg: Aggregation) -> dict:
    """Durations as the shortest exact text ("1h"), so an export reads like a hand-written manifest."""
    return {
        "cluster": agg.cluster.name, "name": agg.name, "description": agg.description, "source": agg.source.name,
        "filter": agg.filter, "group_by": agg.group_by, "window_type": agg.window_type,
        "size": format_duration(agg.size_ms) or None, "advance": format_duration(agg.advance_ms) or None,
        "gap": format_duration(agg.gap_ms) or None, "grace": format_duration(agg.grace_ms),
        "time_source": agg.time_source, "time_field": agg.time_field or None,
        "measures": [{"name": m["name"], "op": m["op"], "field": m.get("field")} for m in agg.measures],
        "emit": agg.emit, "late": agg.late, "output_topic": agg.output_topic, "start_from": agg.start_from,
    }


def connector_entry(connector: Connector) -> dict:
    return {"cluster": connector.cluster.name, "name": connector.name, "description": connector.description,
            "connector_class": connector.connector_class, "config": dict(connector.config),
            "secret_refs": dict(connector.secret_refs), "desired_state": connector.desired_state}


def team_state(team: Team) -> TeamState:
    """Only live resources: nothing deleted or being deleted, subscriptions requested or approved."""
    state = TeamState(manifest={"apiVersion": API_VERSION, "kind": KIND, "team": team.slug, "topics": [],
                                "service_accounts": [], "subscriptions": [], "aggregations": [],
                                "connectors": [], "code_tables": [], "mappings": [], "event_store": []})
    # An aggregation's output topic is the aggregations section's (created, changed and released with it), so it
    # is not listed as a topic while its aggregation lives: a manifest without it must not plan its deletion.
    managed = Aggregation.objects.filter(output__isnull=False).exclude(status=ResourceStatus.DELETED)
    topics = (_live(Topic.objects.filter(team=team)).exclude(pk__in=managed.values("output_id"))
              .select_related("cluster"))
    by_pk = {}
    for topic in topics:
        entry = topic_entry(topic)
        state.manifest["topics"].append(entry)
        state.topics[topic_key(entry)] = topic
        by_pk[topic.pk] = entry
    schemas = (_live(Schema.objects.filter(topic__in=list(by_pk)))
               .select_related("topic__cluster", "topic__team").prefetch_related("versions"))
    for schema in schemas:
        entry = schema_entry(schema)
        if entry is not None:
            by_pk[schema.topic_id]["schemas"][schema.side] = entry
            state.schemas[(schema.topic.cluster.name, schema.topic.name, schema.side)] = schema
    for account in _live(ServiceAccount.objects.filter(team=team)).select_related("cluster", "team"):
        entry = account_entry(account)
        state.manifest["service_accounts"].append(entry)
        state.accounts[account_key(entry)] = account
    subscriptions = (_live(Subscription.objects.filter(subscriber=team, decision__in=LIVE_DECISIONS))
                     .select_related("source__cluster", "source__team", "service_account", "destination",
                                     "subscriber"))
    for sub in subscriptions:
        entry = subscription_entry(sub)
        state.manifest["subscriptions"].append(entry)
        state.subscriptions[subscription_key(entry)] = sub
    for agg in _live(Aggregation.objects.filter(team=team)).select_related("cluster", "source", "team"):
        entry = aggregation_entry(agg)
        state.manifest["aggregations"].append(entry)
        state.aggregations[aggregation_key(entry)] = agg
    for connector in _live(Connector.objects.filter(team=team)).select_related("cluster", "team"):
        entry = connector_entry(connector)
        state.manifest["connectors"].append(entry)
        state.connectors[connector_key(entry)] = connector
    for table in CodeTable.objects.filter(team=team, deleted_at__isnull=True).select_related("team"):
        entry = code_table_entry(table)
        state.manifest["code_tables"].append(entry)
        state.code_tables[code_table_key(entry)] = table
    mappings = (_live(Mapping.objects.filter(team=team))
                .select_related("cluster", "team", "source_topic", "canonical_topic", "current_version"))
    for mapping in mappings:
        entry = mapping_entry(mapping)
        state.manifest["mappings"].append(entry)
        state.mappings[mapping_key(entry)] = mapping
    for binding in _live(EventStoreBinding.objects.filter(team=team)).select_related("topic__cluster"):
        entry = event_store_entry(binding)
        state.manifest["event_store"].append(entry)
        state.event_store[event_store_key(entry)] = binding
    return state
