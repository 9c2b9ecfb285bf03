"""Everything a manifest asks for that the services would refuse, found before anything is applied.

Errors are keyed by manifest path (``topics[1].partitions``), with the services' own wording where a
service has an ``*_errors`` helper. Another team's private topic is "No such topic.", as everywhere else.
"""

from __future__ import annotations

import re

from onboarding import selectors
from onboarding.connector_rules import split_topics
from onboarding.gitops.event_store import event_store_errors
from onboarding.gitops.export import TeamState
from onboarding.gitops.manifest import subscription_key, topic_key
from onboarding.gitops.mappings import mapping_errors
from onboarding.gitops.plan import CREATE, DELETE, UPDATE, Plan
from onboarding.models import Cluster, ResourceStatus, Subscription, Team
from onboarding.routing.filters import FilterError, compile_filter
from onboarding.schemas.validation import check_schema_text
from onboarding.services.aggregations import EDITABLE as AGGREGATION_FIELDS
from onboarding.services.aggregations import aggregation_errors
from onboarding.services.connectors import connector_errors, readable_topic_names
from onboarding.services.topics import policy_for, topic_create_errors, topic_update_errors

ACCOUNT_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
# Service field names that the manifest spells differently.
MANIFEST_FIELDS = {"text": "schema", "destination_name": "destination"}
NO_SCHEMA_REMOVAL = ("Removing a schema from a live topic is not supported: keep it in the manifest (deleting the "
                     "topic deletes its schemas too).")


def at(path: str, field: str) -> str:
    """The error key of a service's field in the manifest: ``__all__`` is the resource itself."""
    if field in ("__all__", "non_field_errors"):
        return path
    return f"{path}.{MANIFEST_FIELDS.get(field, field)}"


def _add(errors: dict, path: str, field_errors: dict) -> None:
    for field, messages in field_errors.items():
        errors.setdefault(at(path, field), []).extend(messages)


SECTIONS = ("topics", "service_accounts", "subscriptions", "aggregations", "connectors", "mappings", "event_store")


def clusters_named(desired: dict) -> dict[str, Cluster]:
    names = {item["cluster"] for section in SECTIONS for item in desired[section] or []}
    return {c.name: c for c in Cluster.objects.filter(name__in=names)}


def manifest_errors(*, actor, team: Team, desired: dict, state: TeamState, plan: Plan,
                    clusters: dict[str, Cluster]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if desired["team"] != team.slug:
        errors["team"] = [f"This manifest is for team {desired['team']!r}, but it was sent to {team.slug}'s "
                          "manifest."]
    for section in SECTIONS:
        for index, item in enumerate(desired[section] or []):
            if item["cluster"] not in clusters:
                errors[f"{section}[{index}].cluster"] = [f"There is no cluster named {item['cluster']!r}."]
    by_kind = {}
    for action in plan.actions:
        by_kind.setdefault(action.kind, []).append(action)
    for action in by_kind.get("topic", []):
        if action.path and action.desired["cluster"] in clusters:
            _topic_errors(errors, action, team, clusters[action.desired["cluster"]], state)
    for action in by_kind.get("schema", []):
        if action.op == DELETE and action.path:
            errors.setdefault(action.path, []).append(NO_SCHEMA_REMOVAL)
        elif action.op in (CREATE, UPDATE) and action.key[0] in clusters:
            _schema_errors(errors, action, clusters[action.key[0]])
    for action in by_kind.get("service_account", []):
        if action.op == CREATE and not ACCOUNT_NAME.match(action.desired["name"]):
            errors[f"{action.path}.name"] = ["Use lowercase letters, digits and '-', starting with a letter."]
    for index, sub in enumerate(desired["subscriptions"]):
        if sub["cluster"] in clusters:
            _subscription_errors(errors, f"subscriptions[{index}]", sub, actor, team, desired, state,
                                 clusters[sub["cluster"]])
    for action in by_kind.get("aggregation", []):
        if action.op in (CREATE, UPDATE) and action.desired["cluster"] in clusters:
            _aggregation_errors(errors, action, actor, team, desired, state, clusters[action.desired["cluster"]])
    for action in by_kind.get("connector", []):
        if action.op in (CREATE, UPDATE) and action.desired["cluster"] in clusters:
            _connector_errors(errors, action, team, desired, state, clusters[action.desired["cluster"]])
    for action in by_kind.get("mapping", []):
        if action.op in (CREATE, UPDATE) and action.desired["cluster"] in clusters:
            mapping_errors(errors, action, actor=actor, team=team, desired=desired, state=state,
                           cluster=clusters[action.desired["cluster"]])
    for action in by_kind.get("event_store", []):
        if action.op in (CREATE, UPDATE) and action.desired["cluster"] in clusters:
            event_store_errors(errors, action, team=team, desired=desired, state=state,
                               cluster=clusters[action.desired["cluster"]])
    return errors


def _connector_errors(errors: dict, action, team: Team, desired: dict, state: TeamState, cluster: Cluster) -> None:
    """The connector services' own checks (Connect's validate among them), unless a topic it reads is one this
    manifest still has to create or subscribe to (then the apply checks it, after those)."""
    spec = action.desired
    read = set(split_topics(str(spec["config"].get("topics", ""))))
    pending = {t["name"] for t in desired["topics"] if t["cluster"] == cluster.name} | {
        s["source"] for s in desired["subscriptions"]
        if s["cluster"] == cluster.name and subscription_key(s) not in state.subscriptions}
    if read & pending and not read <= set(readable_topic_names(team, cluster)):
        return
    found = connector_errors(team=team, cluster=cluster, connector_class=spec["connector_class"],
                             config=spec["config"], secret_refs=spec["secret_refs"] or {},
                             name=spec["name"] if action.op == CREATE else None,
                             current=state.connectors.get(action.key) if action.op == UPDATE else None)
    _add(errors, action.path, found)


def _aggregation_errors(errors: dict, action, actor, team: Team, desired: dict, state: TeamState,
                        cluster: Cluster) -> None:
    """The aggregation services' own checks, unless the source is a topic or a subscription this manifest
    still has to create (then the apply checks it, after those)."""
    spec = action.desired
    source = selectors.topics_visible_to(actor).filter(cluster=cluster, name=spec["source"]).first()
    made_here = any(t["cluster"] == cluster.name and t["name"] == spec["source"] for t in desired["topics"])
    subscribed_here = any(s["cluster"] == cluster.name and s["source"] == spec["source"]
                          and subscription_key(s) not in state.subscriptions for s in desired["subscriptions"])
    if source is None:
        if not made_here:
            errors[f"{action.path}.source"] = ["No such topic."]
        return
    if subscribed_here and source.team_id != team.pk:
        return
    values = {name: spec[name] for name in AGGREGATION_FIELDS if spec[name] is not None}
    values["source"] = source
    if action.op == CREATE:
        found = aggregation_errors(team=team, name=spec["name"], values=values)
    else:
        changed = {name: values[name] for name in action.changes if name in values}
        found = aggregation_errors(team=team, values=changed, current=state.aggregations[action.key])
    _add(errors, action.path, found)


def _topic_errors(errors: dict, action, team: Team, cluster: Cluster, state: TeamState) -> None:
    topic = action.desired
    if action.op == CREATE:
        policy = policy_for(cluster)
        partitions = policy.default_partitions if topic["partitions"] is None else topic["partitions"]
        factor = topic["replication_factor"]
        factor = policy.default_replication_factor if factor is None else factor
        _add(errors, action.path, topic_create_errors(
            cluster=cluster, team=team, name=topic["name"], partitions=partitions, replication_factor=factor,
            configs={**policy.default_configs, **(topic["configs"] or {})}, description=topic["description"] or "",
            tags=topic["tags"] or [], visibility=topic["visibility"] or "public", policy=policy))
    elif action.op == UPDATE:
        changes = {field: change["new"] for field, change in action.changes.items()
                   if field != "subscriptions_need_approval"}
        _add(errors, action.path, topic_update_errors(topic=state.topics[action.key], **changes))


def _schema_errors(errors: dict, action, cluster: Cluster) -> None:
    spec = action.desired
    if action.op == UPDATE and "format" in action.changes:
        errors[f"{action.path}.format"] = [f"A subject keeps its format: this one holds "
                                           f"{action.changes['format']['old']} schemas."]
    if spec["compatibility"] in (policy_for(cluster).forbidden_compatibilities or []):
        errors[f"{action.path}.compatibility"] = [f"{spec['compatibility']} is not allowed on the "
                                                  f"{cluster.environment} cluster {cluster.name}."]
    if action.op == CREATE or "schema" in action.changes:
        problems = [str(problem) for problem in check_schema_text(spec["schema"], spec["format"])]
        if problems:
            errors[f"{action.path}.schema"] = problems


def account_name(reference: str, team: Team) -> str | None:
    """A subscription names the team's account as ``reader`` or ``payments.reader``; None if another team's."""
    if "." in reference:
        prefix, _, name = reference.partition(".")
        return name if prefix == team.slug else None
    return reference


def _subscription_errors(errors: dict, path: str, sub: dict, actor, team: Team, desired: dict, state: TeamState,
                         cluster: Cluster) -> None:
    # The manifest is the team's whole state: accounts and topics it leaves out are about to be deleted.
    listed_topics = {topic_key(t) for t in desired["topics"]}
    existing = subscription_key(sub) in state.subscriptions  # its source may have turned private since
    source = selectors.topics_visible_to(actor).filter(cluster=cluster, name=sub["source"]).first()
    live = source is not None and not source.wants_deletion and source.status != ResourceStatus.DELETED
    if not existing and not live and (cluster.name, sub["source"]) not in listed_topics:
        errors[f"{path}.source"] = ["No such topic."]
    elif live and source.team_id == team.pk and (cluster.name, source.name) not in listed_topics:
        errors[f"{path}.source"] = [f"{source.name} is left out of topics, so it would be deleted."]
    name = account_name(sub["service_account"], team)
    if name is None:
        errors[f"{path}.service_account"] = ["The service account must belong to the subscribing team."]
    elif not any((a["cluster"], a["name"]) == (cluster.name, name) for a in desired["service_accounts"]):
        errors[f"{path}.service_account"] = [f"{team.slug} has no service account {name!r} on {cluster.name}: "
                                             "list it under service_accounts."]
    mode = sub["mode"] or Subscription.Mode.DIRECT
    if mode == Subscription.Mode.DIRECT and sub["destination"]:
        errors[f"{path}.destination"] = ["Direct subscriptions read the source topic itself: leave the "
                                         "destination out."]
    if mode == Subscription.Mode.DIRECT and sub["filter"]:
        errors[f"{path}.filter"] = ["Only routed subscriptions have a filter: direct access reads every event."]
    if mode == Subscription.Mode.ROUTED:
        destination = sub["destination"]
        if not destination:
            errors[f"{path}.destination"] = ["Routed subscriptions need a destination topic of the team."]
        elif (cluster.name, destination) not in listed_topics:
            errors[f"{path}.destination"] = [f"{destination} is not a topic of {team.slug} on {cluster.name}: "
                                             "list it under topics."]
        try:
            compile_filter(sub["filter"] or "")
        except FilterError as exc:
            errors[f"{path}.filter"] = [exc.message]
    if not existing and not (sub["reason"] or "").strip():
        errors[f"{path}.reason"] = ["Say why your team needs these events; the topic's owners read it."]
