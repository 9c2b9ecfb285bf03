"""Carry out a plan through the services, in dependency order (the plan's order): service accounts, topics,
schemas, subscriptions, aggregations, then deletions in reverse. The caller holds the transaction, so a refusal part-way
leaves nothing applied; a refusal comes back as a ValidationError keyed by the resource's manifest path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from onboarding.errors import NotFound
from onboarding.gitops.checks import account_name, at
from onboarding.gitops.event_store import EventStoreSteps
from onboarding.gitops.mappings import MappingSteps
from onboarding.gitops.plan import UNCHANGED, Action, Plan
from onboarding.models import ChangeRequest
from onboarding.services.aggregations import aggregation_create, aggregation_delete, aggregation_update
from onboarding.services.connectors import connector_create, connector_delete, connector_update
from onboarding.services.schemas import schema_set_compatibility, schema_version_submit
from onboarding.services.service_account_quotas import QUOTA_FIELDS, service_account_set_quota
from onboarding.services.service_accounts import service_account_create, service_account_delete, service_account_update
from onboarding.services.subscriptions import subscription_request, subscription_revoke, subscription_update_filter
from onboarding.services.topics import topic_create, topic_delete, topic_update

NOTE = "Applied from the team manifest."
WAITING = "Not applied: it depends on a change that waits for an approval."


class _Waiting:
    """A handler's answer when a resource it needs is itself waiting for an approval."""


WAITS = _Waiting()


@dataclass
class Outcome:
    """What an apply did: one entry per changed resource, and changes that wait for an approval."""

    results: list[dict] = field(default_factory=list)
    change_requests: list[dict] = field(default_factory=list)


def is_change_request(value) -> bool:
    """Services may answer with a ChangeRequest (the cluster's policy wants an approval) instead of the row."""
    return isinstance(value, ChangeRequest)


class Applier(MappingSteps, EventStoreSteps):
    """Runs each action with the rows it needs: those read before the plan, and those made on the way."""

    def __init__(self, *, actor, team, state, clusters: dict, via: str):
        self.actor, self.team, self.state, self.clusters, self.via = actor, team, state, clusters, via
        self.topics = dict(state.topics)
        self.accounts = dict(state.accounts)
        self.waiting_topics: set[tuple] = set()  # created through a change request still waiting

    def run(self, plan: Plan) -> Outcome:
        outcome = Outcome()
        for action in plan.actions:
            if action.op == UNCHANGED:
                continue
            handler = getattr(self, f"{action.op}_{action.kind}")
            try:
                result = handler(action)
            except ValidationError as exc:
                raise ValidationError(_at(action, exc)) from None
            except NotFound as exc:
                raise ValidationError({_where(action): [str(exc)]}) from None
            entry = {**action.as_dict(), "id": getattr(result, "pk", None)}
            if result is WAITS:
                outcome.change_requests.append({**entry, "change_request": None, "detail": WAITING})
            elif is_change_request(result):
                outcome.change_requests.append({**entry, "change_request": result.pk})
            else:
                if isinstance(result, tuple):  # a new service account and its password, shown this once
                    result, entry["password"] = result
                    entry["id"] = result.pk
                outcome.results.append(entry)
        return outcome

    def _common(self) -> dict:
        return {"actor": self.actor, "via": self.via}

    # Service accounts
    def create_service_account(self, action: Action):
        spec = action.desired
        result = service_account_create(**self._common(), cluster=self.clusters[spec["cluster"]], team=self.team,
                                        name=spec["name"], description=spec["description"] or "")
        if not is_change_request(result):
            self.accounts[action.key] = result[0]
            if spec.get("quota"):
                quota = self._set_quota(result[0], spec["quota"])
                if is_change_request(quota):
                    return quota
        return result

    def update_service_account(self, action: Action):
        sa = self.accounts[action.key]
        if "description" in action.changes:
            sa = service_account_update(**self._common(), sa=sa, description=action.desired["description"])
        if "quota" in action.changes:
            return self._set_quota(sa, action.desired["quota"])
        return sa

    def _set_quota(self, sa, quota: dict):
        return service_account_set_quota(**self._common(), sa=sa, **{key: quota.get(key) for key in QUOTA_FIELDS})

    def delete_service_account(self, action: Action):
        return service_account_delete(**self._common(), sa=self.accounts[action.key])

    # Topics
    def create_topic(self, action: Action):
        spec = action.desired
        optional = {name: spec[name] for name in ("partitions", "replication_factor", "configs", "description",
                                                  "tags", "visibility", "subscriptions_need_approval")
                    if spec[name] is not None}
        topic = topic_create(**self._common(), cluster=self.clusters[spec["cluster"]], team=self.team,
                             name=spec["name"], **optional)
        if is_change_request(topic):
            self.waiting_topics.add(action.key)
        else:
            self.topics[action.key] = topic
        return topic

    def update_topic(self, action: Action):
        topic = self.topics[action.key]
        changes = {name: change["new"] for name, change in action.changes.items()}
        return topic_update(**self._common(), topic=topic, expected_generation=topic.generation, **changes)

    def delete_topic(self, action: Action):
        topic = self.topics[action.key]
        return topic_delete(**self._common(), topic=topic, confirm_name=topic.name, delete_schemas=True)

    # Schemas
    def create_schema(self, action: Action):
        spec, topic = action.desired, self.topics.get(action.key[:2])
        if topic is None:
            return WAITS
        return schema_version_submit(**self._common(), topic=topic, side=action.key[2], fmt=spec["format"],
                                     text=spec["schema"], compatibility=spec["compatibility"], note=NOTE)

    def update_schema(self, action: Action):
        """A new text is checked under the subject's current mode, then the mode changes: relaxing the mode
        for a breaking version takes two applies (the mode must be on the registry before the check)."""
        spec, result = action.desired, None
        schema = self.state.schemas[action.key]
        if "schema" in action.changes:
            result = schema_version_submit(**self._common(), topic=schema.topic, side=schema.side, fmt=schema.format,
                                           text=spec["schema"], note=NOTE)
        if "compatibility" in action.changes:
            result = schema_set_compatibility(**self._common(), schema=schema, compatibility=spec["compatibility"])
        return result

    def delete_schema(self, action: Action):
        raise ValidationError({"__all__": ["Removing a schema from a live topic is not supported."]})

    # Subscriptions
    def create_subscription(self, action: Action):
        from onboarding import selectors
        spec = action.desired
        cluster = self.clusters[spec["cluster"]]
        source = selectors.topics_visible_to(self.actor).filter(cluster=cluster, name=spec["source"]).first()
        if source is None:
            raise ValidationError({"source": ["No such topic."]})
        account = self.accounts.get((cluster.name, account_name(spec["service_account"], self.team)))
        destination = self.topics.get((cluster.name, spec["destination"])) if spec["destination"] else None
        if account is None or (spec["destination"] and destination is None):
            return WAITS
        return subscription_request(**self._common(), subscriber=self.team, source=source, service_account=account,
                                    mode=spec["mode"] or "direct", reason=spec["reason"] or "",
                                    destination=destination, filter=spec["filter"] or "")

    def update_subscription(self, action: Action):
        return subscription_update_filter(**self._common(), subscription=self.state.subscriptions[action.key],
                                          filter=action.desired["filter"])

    def delete_subscription(self, action: Action):
        return subscription_revoke(**self._common(), subscription=self.state.subscriptions[action.key],
                                   comment="Removed from the team manifest.")


    # Aggregations
    def _aggregation_values(self, spec: dict, fields) -> dict | _Waiting:
        """The service's arguments for ``fields`` of the manifest entry; the source is looked up as the
        actor sees topics (another team's private topic is "No such topic."), or waits for its creation."""
        values = {name: spec[name] for name in fields if name != "source" and spec[name] is not None}
        if "source" in fields:
            from onboarding import selectors

            cluster = self.clusters[spec["cluster"]]
            source = selectors.topics_visible_to(self.actor).filter(cluster=cluster, name=spec["source"]).first()
            if source is None:
                if (cluster.name, spec["source"]) in self.waiting_topics:
                    return WAITS  # a topic of this manifest whose creation waits for an approval
                raise ValidationError({"source": ["No such topic."]})
            values["source"] = source
        return values

    def create_aggregation(self, action: Action):
        spec = action.desired
        values = self._aggregation_values(spec, [f for f in spec if f not in ("cluster", "name")])
        if values is WAITS:
            return WAITS
        return aggregation_create(**self._common(), team=self.team, name=spec["name"], **values)

    def update_aggregation(self, action: Action):
        agg = self.state.aggregations[action.key]
        values = self._aggregation_values(action.desired, list(action.changes))
        if values is WAITS:
            return WAITS
        return aggregation_update(**self._common(), aggregation=agg, expected_generation=agg.generation, **values)

    def delete_aggregation(self, action: Action):
        return aggregation_delete(**self._common(), aggregation=self.state.aggregations[action.key])


    # Connectors
    def create_connector(self, action: Action):
        spec = action.desired
        return connector_create(**self._common(), team=self.team, cluster=self.clusters[spec["cluster"]],
                                name=spec["name"], connector_class=spec["connector_class"], config=spec["config"],
                                secret_refs=spec["secret_refs"] or {}, description=spec["description"] or "",
                                desired_state=spec["desired_state"] or "running")

    def update_connector(self, action: Action):
        connector = self.state.connectors[action.key]
        changes = {name: action.desired[name] for name in action.changes if action.desired[name] is not None}
        return connector_update(**self._common(), connector=connector, expected_generation=connector.generation,
                                **changes)

    def delete_connector(self, action: Action):
        return connector_delete(**self._common(), connector=self.state.connectors[action.key])


def _where(action: Action) -> str:
    return action.path or f"{action.kind}:{action.name}"


def _at(action: Action, exc: ValidationError) -> dict[str, list[str]]:
    if not hasattr(exc, "error_dict"):
        return {_where(action): exc.messages}
    return {at(_where(action), name): messages for name, messages in exc.message_dict.items()}

