"""What a change request will do (plan) and what it touches (impact), against the live cluster.

The plan reuses the reconciler's pure planner and the ACL planner, so it lists the operations the
reconcilers will actually run. The Kafka and registry reads go through the platform adapters; when
a system does not answer, the plan or impact says so and the request still opens.
"""

from __future__ import annotations

import time

from django.conf import settings

from onboarding import policies
from onboarding.models import (
    Aggregation,
    Cluster,
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
from onboarding.platform import PlatformError
from onboarding.platform.connection import kafka_connection_for, registry_connection_for
from onboarding.platform.kafka_admin import KafkaAdmin
from onboarding.platform.registry import Registry
from onboarding.reconcile import access_plan
from onboarding.reconcile.topics_plan import DesiredTopic, ObservedTopic, plan_topic
from onboarding.schemas.diff import diff_schemas

THROUGHPUT_WINDOW_MINUTES = 15
DEFAULT = "(cluster default)"


# ---------------------------------------------------------------------------------------- pure parts

def topic_step(operation: str, desired: DesiredTopic, observed: ObservedTopic | None, *, summary: str) -> dict:
    """One plan step of a topic: the reconciler's actions and the config/partition diff, old -> new."""
    result = plan_topic(desired, observed)
    config_diff = {}
    if observed is not None and desired.present:
        for key, value in sorted(result.set_configs.items()):
            config_diff[key] = [observed.configs.get(key, DEFAULT), value]
        for key in result.delete_configs:
            config_diff[key] = [observed.configs[key], DEFAULT]
    details = {"name": desired.name, "partitions": desired.partitions,
               "replication_factor": desired.replication_factor, "configs": dict(desired.configs),
               "exists_on_cluster": observed is not None}
    if config_diff:
        details["config_diff"] = config_diff
    if result.partitions_to and observed is not None:
        details["partitions_diff"] = [observed.partitions, result.partitions_to]
    return {"operation": operation, "summary": summary, "actions": result.actions() or ["nothing to change on Kafka"],
            "problems": list(result.problems), "details": details}


def config_diff_lines(details: dict) -> list[str]:
    """``key: old -> new`` lines, as the request page shows them."""
    lines = [f"{key}: {old} -> {new}" for key, (old, new) in sorted(details.get("config_diff", {}).items())]
    if "partitions_diff" in details:
        old, new = details["partitions_diff"]
        lines.append(f"partitions: {old} -> {new}")
    return lines


def acl_step(operation: str, summary: str, specs, verb: str) -> dict:
    return {"operation": operation, "summary": summary, "problems": [], "details": {},
            "actions": [f"{verb} ACL {spec.label()} for {spec.principal}" for spec in sorted(specs)]}


# ---------------------------------------------------------------------------------------- plan

def _timeout() -> float:
    # A person waits for the answer: a cluster that does not answer quickly is reported, not waited for.
    return min(5.0, float(settings.KAFKA_ADMIN_TIMEOUT_SECONDS))


def _observed(cluster: Cluster, names: list[str]) -> tuple[dict[str, ObservedTopic], str]:
    if not names:
        return {}, ""
    try:
        return KafkaAdmin(kafka_connection_for(cluster), timeout=_timeout()).describe_topics(names), ""
    except PlatformError as exc:
        return {}, f"Kafka did not answer ({exc}); the plan assumes the cluster matches the portal."


def _topic_names(cluster: Cluster, changes: list[dict]) -> list[str]:
    names = []
    for change in changes:
        payload = change["payload"]
        if change["operation"].startswith("topic.") and change["operation"] != "topic.delete_records":
            names.append(payload["name"] if "name" in payload else Topic.objects.get(pk=payload["topic"]).name)
    return names


def plan_of(cluster: Cluster, changes: list[dict]) -> dict:
    """Every step the request will take, computed against the cluster as it is now."""
    observed, error = _observed(cluster, _topic_names(cluster, changes))
    steps, earlier = [], {}
    for change in changes:
        steps.append(_step(cluster, change["operation"], change["payload"], observed))
        if change["operation"] == "schema.submit":
            _number_after_earlier_steps(steps[-1], earlier)
    return {"steps": steps, "kafka_error": error, "cluster": cluster.name}


def _number_after_earlier_steps(step: dict, earlier: dict) -> None:
    """Several versions of one subject in one request (a promotion catching up): each registers after the
    one before it, so number them on, and diff each against its predecessor in the request."""
    subject = step["details"]["subject"]
    if subject in earlier:
        previous = earlier[subject]
        number = previous["number"] + 1
        step["actions"][0] = f"register version {number} of {subject} ({step['details']['format']})"
        step["details"]["against_version"] = previous["number"]
        step["details"]["changes"] = [c.describe() for c in diff_schemas(previous["text"], step["details"]["text"],
                                                                         step["details"]["format"])]
    else:
        number = (step["details"]["against_version"] or 0) + 1
    earlier[subject] = {"number": number, "text": step["details"]["text"]}


def _step(cluster: Cluster, operation: str, p: dict, observed: dict) -> dict:
    if operation == "topic.create":
        desired = DesiredTopic(p["name"], p["partitions"], p["replication_factor"], p["configs"])
        return topic_step(operation, desired, observed.get(p["name"]),
                          summary=f"Create topic {p['name']} on {cluster.name}")
    if operation in ("topic.update", "topic.delete"):
        topic = Topic.objects.get(pk=p["topic"])
        return _existing_topic_step(operation, topic, p, observed.get(topic.name))
    if operation == "schema.submit":
        return _schema_submit_step(cluster, p)
    if operation == "schema.compatibility":
        schema = Schema.objects.select_related("topic").get(pk=p["schema"])
        live = _registry_mode(cluster, schema.subject) or schema.compatibility
        return {"operation": operation, "summary": f"Change the compatibility of {schema.subject}", "problems": [],
                "actions": [f"set compatibility {live} -> {p['compatibility']}"], "details": {}}
    if operation in ("service_account.create", "service_account.delete"):
        return _account_step(cluster, operation, p)
    if operation == "service_account.quota":
        return _quota_step(p)
    if operation.startswith("aggregation."):
        return _aggregation_step(operation, p)
    if operation.startswith("connector."):
        return _connector_step(operation, p)
    if operation.startswith("mapping."):
        return _mapping_step(operation, p)
    if operation.startswith("event_store."):
        return _event_store_step(operation, p)
    if operation in ("group.reset", "topic.delete_records"):
        return _offsets_step(operation, p)
    if operation.startswith("subscription."):
        return _subscription_step(cluster, operation, p)
    # An operation added to the gate without a planner: its request is still shown and decided, not a crash.
    return {"operation": operation, "summary": operation, "actions": [], "details": {},
            "problems": [f"The portal cannot plan {operation!r} ahead; it is checked when applied."]}


def _offsets_step(operation: str, p: dict) -> dict:
    """A group's offset reset (planned again when applied: the offsets may move meanwhile) or deleting records."""
    topic = Topic.objects.get(pk=p["topic"])
    if operation == "group.reset":
        target = {"timestamp": p.get("timestamp"), "shift": p.get("shift"), "offset": p.get("offset")}.get(
            p["strategy"]) or p["strategy"]
        partitions = ", ".join(map(str, p.get("partitions") or [])) or "all"
        return {"operation": operation, "summary": f"Reset offsets of {p['group_id']} on {topic.name}",
                "problems": [], "details": {"partitions": p.get("partitions") or []},
                "actions": [f"set the committed offsets of partitions {partitions} to {p['strategy']} {target}"]}
    return {"operation": operation, "summary": f"Delete records of {topic.name}", "problems": [], "details": {},
            "actions": [f"delete the records of partition {partition} before offset {offset}"
                        for partition, offset in sorted(p["before"].items(), key=lambda item: int(item[0]))]}


def _existing_topic_step(operation: str, topic: Topic, p: dict, observed: ObservedTopic | None) -> dict:
    if operation == "topic.delete":
        step = topic_step(operation, DesiredTopic(topic.name, topic.partitions, topic.replication_factor,
                                                  topic.configs, present=False), observed,
                          summary=f"Delete topic {topic.name}")
        subjects = [s.subject for s in topic.schemas.exclude(status=ResourceStatus.DELETED)]
        step["actions"] = ["delete topic"] + [f"delete subject {s} (soft, then permanent)" for s in subjects]
        step["details"]["subjects"] = subjects
        return step
    configs = topic.configs if p.get("configs") is None else {
        k: policies.normalize_config_value(v) for k, v in p["configs"].items()}
    desired = DesiredTopic(topic.name, p.get("partitions") or topic.partitions, topic.replication_factor, configs)
    base = observed or ObservedTopic(topic.name, topic.partitions, topic.replication_factor, topic.configs)
    step = topic_step(operation, desired, base, summary=f"Change topic {topic.name}")
    portal_only = [f"{field}: {getattr(topic, field)!r} -> {p[field]!r}"
                   for field in ("description", "tags", "visibility", "drift_reaction", "subscriptions_need_approval")
                   if p.get(field) is not None and p[field] != getattr(topic, field)]
    if portal_only:
        step["details"]["portal_changes"] = portal_only
    return step


def _registry_mode(cluster: Cluster, subject: str) -> str | None:
    try:
        return Registry.shared(registry_connection_for(cluster)).get_compatibility(subject)
    except PlatformError:
        return None


def _schema_submit_step(cluster: Cluster, p: dict) -> dict:
    topic = (Topic.objects.filter(pk=p["topic"]).first() if "topic" in p else
             Topic.objects.filter(cluster=cluster, name=p["topic_name"]).exclude(status="deleted").first())
    name = topic.name if topic else p["topic_name"]
    subject = f"{name}-{p['side']}"
    schema = topic.schemas.filter(side=p["side"]).exclude(status=ResourceStatus.DELETED).first() if topic else None
    latest = schema.versions.order_by("-number").first() if schema else None
    mode = p.get("compatibility") or (schema.compatibility if schema else "the cluster's default")
    actions = [f"register version {latest.number + 1 if latest else 1} of {subject} ({p['fmt']})",
               f"compatibility mode {mode}"]
    details = {"subject": subject, "format": p["fmt"], "against_version": latest.number if latest else None,
               "changes": [c.describe() for c in diff_schemas(latest.text, p["text"], p["fmt"])] if latest else [],
               "text": p["text"]}
    return {"operation": "schema.submit", "summary": f"New schema version for {subject}", "actions": actions,
            "problems": [], "details": details}


def _account_step(cluster: Cluster, operation: str, p: dict) -> dict:
    if operation == "service_account.create":
        team = Team.objects.get(pk=p["team"])
        username = f"{team.slug}.{p['name']}"
        step = acl_step(operation, f"Create service account {username}",
                        access_plan.team_acls(f"User:{username}", team.slug,
                                              consume_own=p.get("can_consume_own_topics", True)), "create")
        step["actions"].insert(0, f"set a SCRAM credential for {username}")
        return step
    sa = ServiceAccount.objects.select_related("team").get(pk=p["service_account"])
    specs = set(access_plan.team_acls(sa.principal, sa.team.slug, consume_own=sa.can_consume_own_topics))
    step = acl_step(operation, f"Delete service account {sa.username}", specs, "delete")
    step["actions"].insert(0, f"remove the SCRAM credential of {sa.username}")
    return step


def _quota_step(p: dict) -> dict:
    sa = ServiceAccount.objects.get(pk=p["service_account"])
    actions = [f"set client quota {key} of user={sa.username}: {getattr(sa, key) or 'none'} -> {p.get(key) or 'none'}"
               for key in ("producer_byte_rate", "consumer_byte_rate", "request_percentage")
               if getattr(sa, key) != p.get(key)]
    return {"operation": "service_account.quota", "summary": f"Change the client quotas of {sa.username}",
            "actions": actions, "problems": [], "details": {}}


def _connector_step(operation: str, p: dict) -> dict:
    """What the connectors reconciler (or, for offsets, the service) will do on the Connect worker."""
    if operation == "connector.create":
        name = f"{Team.objects.get(pk=p['team']).slug}.{p['name']}"
        summary, actions = f"Declare connector {name}", [f"PUT /connectors/{name}/config ({p.get('connector_class')})",
                                                          f"bring it to {p.get('desired_state', 'running')}"]
    else:
        connector = Connector.objects.select_related("team").get(pk=p["connector"])
        name = connector.connector_name
        if operation == "connector.delete":
            summary, actions = f"Delete connector {name}", [f"DELETE /connectors/{name}"]
        elif operation == "connector.offsets":
            reset = p.get("offsets") is None
            summary = f"{'Reset' if reset else 'Alter'} the offsets of connector {name}"
            actions = [f"{'DELETE' if reset else 'PATCH'} /connectors/{name}/offsets (the connector is stopped)"]
        else:
            changed = sorted(k for k in p if k != "connector")
            summary = f"Change connector {name}"
            actions = [f"PUT /connectors/{name}/config" if {"config", "secret_refs", "connector_class"} & set(p)
                       else "no config change", f"fields: {', '.join(changed)}"]
    return {"operation": operation, "summary": summary, "problems": [], "actions": actions, "details": {}}


def _mapping_step(operation: str, p: dict) -> dict:
    """The mapper's table row the mapping reconciler will write (or tombstone); the rules were checked already."""
    if operation == "mapping.create":
        mapping_id = f"{Team.objects.get(pk=p['team']).slug}.{p['name']}"
        source, canonical = (Topic.objects.get(pk=p["source_topic"]).name,
                             Topic.objects.get(pk=p["canonical_topic"]).name)
        summary = f"Declare mapping {mapping_id}"
        actions = [f"map {source} (value v{p.get('source_version')}) into {canonical} "
                   f"(value v{p.get('canonical_version')}) with {len(p.get('rules') or [])} rules",
                   f"write row {mapping_id} version 1 to the mapper's table"]
    else:
        mapping = Mapping.objects.select_related("team").get(pk=p["mapping"])
        mapping_id = mapping.mapping_id
        if operation == "mapping.delete":
            summary, actions = f"Delete mapping {mapping_id}", [f"tombstone row {mapping_id} of the mapper's table"]
        else:
            summary = f"New version of mapping {mapping_id}"
            actions = [f"{len(p.get('rules') or [])} rules against value schema versions v{p.get('source_version')}"
                       f" -> v{p.get('canonical_version')}", f"rewrite row {mapping_id} of the mapper's table"]
    return {"operation": operation, "summary": summary, "problems": [], "actions": actions,
            "details": {"rules": p.get("rules")} if "rules" in p else {}}


def _aggregation_step(operation: str, p: dict) -> dict:
    """The definitions-table row the aggregation reconciler will write (or tombstone)."""
    if operation == "aggregation.create":
        team = Team.objects.get(pk=p["team"])
        definition = f"{team.slug}.{p['name']}"
        summary = f"Define aggregation {definition}"
        actions = [f"write definition {definition} (version 1) to the engine's definitions table",
                   f"results into {p.get('output_topic')}"]
    else:
        agg = Aggregation.objects.select_related("team").get(pk=p["aggregation"])
        definition = agg.definition_id
        if operation == "aggregation.delete":
            summary = f"Delete aggregation {definition}"
            actions = [f"tombstone definition {definition}: the engine stops it and deletes its internal topics"]
        else:
            summary = f"Change aggregation {definition}"
            changed = sorted(k for k in p if k != "aggregation")
            actions = [f"rewrite definition {definition}: {', '.join(changed)}"]
    return {"operation": operation, "summary": summary, "actions": actions, "problems": [],
            "details": {"definition": definition}}


def _subscription_step(cluster: Cluster, operation: str, p: dict) -> dict:
    source = (Topic.objects.get(pk=p["source"]) if "source" in p else
              Topic.objects.filter(cluster=cluster, name=p["topic_name"]).exclude(status="deleted").first())
    source_name = source.name if source else p["topic_name"]
    sa = ServiceAccount.objects.select_related("team").get(pk=p["service_account"])
    summary = f"Subscribe {sa.team.slug} to {source_name} ({p['mode']})"
    if p["mode"] == Subscription.Mode.DIRECT:
        specs = access_plan.direct_acls(access_plan.DirectAccessInput(sa.principal, sa.team.slug, source_name))
        return acl_step(operation, summary, specs, "create")
    destination = p.get("destination_name") or (Topic.objects.get(pk=p["destination"]).name
                                                if p.get("destination") else "?")
    actions = [f"upsert routing rule {source_name} -> {destination}" + (f" where {p['filter']}"
                                                                        if p.get("filter") else "")]
    if p.get("destination_name") and operation == "subscription.request":
        actions.insert(0, f"create topic {destination} with the cluster's defaults")
    return {"operation": operation, "summary": summary, "actions": actions, "problems": [], "details": {}}


# ---------------------------------------------------------------------------------------- impact

def _impacted_topics(changes: list[dict]) -> list[Topic]:
    ids = []
    for change in changes:
        payload = change["payload"]
        if "topic" in payload:
            ids.append(payload["topic"])
        elif "schema" in payload:
            ids.append(Schema.objects.filter(pk=payload["schema"]).values_list("topic_id", flat=True).first())
        elif "source" in payload:
            ids.append(payload["source"])
    return list(Topic.objects.filter(pk__in=[i for i in ids if i]).order_by("name"))


def impact_of(cluster: Cluster, changes: list[dict]) -> dict:
    """Who reads the topics the request touches: subscribers, consumer groups with lag, recent traffic."""
    topics = _impacted_topics(changes)
    result = {"topics": [], "kafka_error": "", "window_minutes": THROUGHPUT_WINDOW_MINUTES}
    admin = None
    for topic in topics:
        subscribers = [{"team": s.subscriber.slug, "mode": s.mode, "decision": s.decision,
                        "service_account": s.service_account.username}
                       for s in topic.subscriptions.filter(decision__in=["requested", "approved"])
                       .select_related("subscriber", "service_account")]
        entry = {"name": topic.name, "subscribers": subscribers, "consumer_groups": None, "recent_messages": None}
        if not result["kafka_error"]:
            try:
                admin = admin or KafkaAdmin(kafka_connection_for(cluster), timeout=_timeout())
                entry["consumer_groups"] = admin.topic_consumer_groups(topic.name)
                since = int(time.time() * 1000) - THROUGHPUT_WINDOW_MINUTES * 60_000
                entry["recent_messages"] = admin.recent_message_count(topic.name, since_ms=since)
            except PlatformError as exc:
                result["kafka_error"] = f"Kafka did not answer ({exc}): consumer groups and traffic are unknown."
        result["topics"].append(entry)
    return result


def _event_store_step(operation: str, p: dict) -> dict:
    """What the event store run will do: the managed sink connector and the collection with its indexes."""
    if operation == "event_store.bind":
        topic = Topic.objects.get(pk=p["topic"])
        summary = f"Keep {topic.name} in the event store ({p.get('mode')})"
        actions = [f"create the collection {topic.name} with indexes on _ts"
                   + "".join(f", value.{f}" for f in p.get("indexed_fields") or []),
                   f"PUT /connectors/_event-store.{topic.name}/config (MongoDB sink)"]
    else:
        binding = EventStoreBinding.objects.select_related("topic").get(pk=p["binding"])
        if operation == "event_store.unbind":
            summary = f"Stop keeping {binding.topic.name} in the event store"
            actions = [f"DELETE /connectors/{binding.connector_name}",
                       f"drop the collection {binding.collection_name} and its documents"]
        else:
            changed = sorted(k for k in p if k != "binding")
            summary = f"Change how {binding.topic.name} is kept in the event store"
            actions = [f"{k}: {getattr(binding, k)!r} -> {p[k]!r}" for k in changed]
    return {"operation": operation, "summary": summary, "problems": [], "actions": actions, "details": p}
