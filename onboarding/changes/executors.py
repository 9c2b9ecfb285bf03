"""Operation name -> the service that performs it, fed from a change request's JSON payload; registered in
``changes/registry.py`` when this module is imported (the app's ``ready``).

Payloads hold ids (or, for a promotion, names on the target cluster of objects created by an earlier
change of the same request); they are resolved here, when the request is applied.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from onboarding.changes import registry
from onboarding.changes.promotion import subscription_promote
from onboarding.errors import ValidationError
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
from onboarding.services import aggregations, connectors, event_store, mappings
from onboarding.services import groups as group_resets
from onboarding.services.records_delete import records_delete
from onboarding.services.schemas import schema_set_compatibility, schema_version_submit
from onboarding.services.service_account_quotas import QUOTA_FIELDS, service_account_set_quota
from onboarding.services.service_accounts import service_account_create, service_account_delete
from onboarding.services.subscriptions import subscription_request
from onboarding.services.topics import topic_create, topic_delete, topic_update


def _topic(payload: dict) -> Topic:
    """The topic by id, or by name on the request's cluster (a topic created earlier in the same request)."""
    if "topic" in payload:
        return Topic.objects.select_related("cluster", "team").get(pk=payload["topic"])
    topic = (Topic.objects.select_related("cluster", "team").filter(cluster_id=payload["cluster"],
             name=payload["topic_name"]).exclude(status=ResourceStatus.DELETED).first())
    if topic is None:
        raise ValidationError({"topic": [f"The topic {payload['topic_name']} does not exist on the cluster."]})
    return topic


def _topic_create(actor, p, via, cr):
    return topic_create(actor=actor, cluster=Cluster.objects.get(pk=p["cluster"]), team=Team.objects.get(pk=p["team"]),
                        name=p["name"], partitions=p["partitions"], replication_factor=p["replication_factor"],
                        configs=p["configs"], description=p.get("description", ""), tags=p.get("tags", []),
                        visibility=p.get("visibility", Topic.Visibility.PUBLIC),
                        subscriptions_need_approval=p.get("subscriptions_need_approval", False), via=via,
                        change_request=cr)


def _topic_update(actor, p, via, cr):
    fields = {k: v for k, v in p.items() if k != "topic"}
    return topic_update(actor=actor, topic=_topic(p), via=via, change_request=cr, **fields)


def _topic_delete(actor, p, via, cr):
    return topic_delete(actor=actor, topic=_topic(p), confirm_name=p["confirm_name"],
                        delete_schemas=p.get("delete_schemas", False), via=via, change_request=cr)


def _schema_submit(actor, p, via, cr):
    return schema_version_submit(actor=actor, topic=_topic(p), side=p["side"], fmt=p["fmt"], text=p["text"],
                                 note=p.get("note", ""), compatibility=p.get("compatibility"), via=via,
                                 change_request=cr)


def _schema_compatibility(actor, p, via, cr):
    return schema_set_compatibility(actor=actor, schema=Schema.objects.get(pk=p["schema"]),
                                    compatibility=p["compatibility"], via=via, change_request=cr)


def _service_account_create(actor, p, via, cr):
    sa, _password = service_account_create(actor=actor, cluster=Cluster.objects.get(pk=p["cluster"]),
                                           team=Team.objects.get(pk=p["team"]), name=p["name"],
                                           description=p.get("description", ""),
                                           can_consume_own_topics=p.get("can_consume_own_topics", True), via=via,
                                           change_request=cr)
    # The password was never shown to anyone: the team rotates it to get one.
    return sa


def _service_account_delete(actor, p, via, cr):
    return service_account_delete(actor=actor, sa=ServiceAccount.objects.get(pk=p["service_account"]), via=via,
                                  change_request=cr)


def _service_account_quota(actor, p, via, cr):
    return service_account_set_quota(actor=actor, sa=ServiceAccount.objects.get(pk=p["service_account"]), via=via,
                                     change_request=cr, **{k: p.get(k) for k in QUOTA_FIELDS})


def _subscription_request(actor, p, via, cr):
    return subscription_request(
        actor=actor, subscriber=Team.objects.get(pk=p["subscriber"]), source=_topic({"topic": p["source"]}),
        service_account=ServiceAccount.objects.filter(pk=p.get("service_account")).first(), mode=p["mode"],
        reason=p["reason"], destination=Topic.objects.filter(pk=p.get("destination")).first(),
        destination_name=p.get("destination_name") or None, filter=p.get("filter", ""), via=via,
        change_request=cr)


def _subscription_promote(actor, p, via, cr):
    return subscription_promote(actor=actor, original=Subscription.objects.get(pk=p["subscription"]),
                                source=_topic(p), service_account=ServiceAccount.objects.get(pk=p["service_account"]),
                                destination=_destination(p), via=via, change_request=cr)


def _destination(p: dict) -> Topic | None:
    if not p.get("destination_name"):
        return None
    return _topic({"cluster": p["cluster"], "topic_name": p["destination_name"]})


def _aggregation_create(actor, p, via, cr):
    # A promotion names the source on the target cluster (created earlier in the same request).
    promoted = "topic_name" in p
    values = aggregations.values_from_payload(
        {k: v for k, v in p.items() if k not in ("team", "name", "cluster", "topic_name")})
    if promoted:
        values["source"] = _topic(p)
    return aggregations.aggregation_create(actor=actor, team=Team.objects.get(pk=p["team"]), name=p["name"],
                                           via=via, change_request=cr, **values)


def _aggregation_update(actor, p, via, cr):
    values = aggregations.values_from_payload({k: v for k, v in p.items() if k != "aggregation"})
    return aggregations.aggregation_update(actor=actor, aggregation=Aggregation.objects.get(pk=p["aggregation"]),
                                           via=via, change_request=cr, **values)


def _aggregation_delete(actor, p, via, cr):
    return aggregations.aggregation_delete(actor=actor, aggregation=Aggregation.objects.get(pk=p["aggregation"]),
                                           via=via, change_request=cr)


def _connector(p) -> Connector:
    return Connector.objects.select_related("team", "cluster").get(pk=p["connector"])


def _connector_create(actor, p, via, cr):
    return connectors.connector_create(actor=actor, team=Team.objects.get(pk=p["team"]),
                                       cluster=Cluster.objects.get(pk=p["cluster"]),
                                       **{k: v for k, v in p.items() if k not in ("team", "cluster")},
                                       via=via, change_request=cr)


def _connector_update(actor, p, via, cr):
    return connectors.connector_update(actor=actor, connector=_connector(p), via=via, change_request=cr,
                                       **{k: v for k, v in p.items() if k != "connector"})


def _connector_delete(actor, p, via, cr):
    return connectors.connector_delete(actor=actor, connector=_connector(p), via=via, change_request=cr)


def _connector_offsets(actor, p, via, cr):
    return connectors.connector_offsets_reset(actor=actor, connector=_connector(p), offsets=p.get("offsets"),
                                              via=via, change_request=cr)


def _mapping(p) -> Mapping:
    return Mapping.objects.select_related("team", "cluster", "source_topic", "canonical_topic").get(pk=p["mapping"])


def _mapping_create(actor, p, via, cr):
    return mappings.mapping_create(actor=actor, team=Team.objects.get(pk=p["team"]), name=p["name"],
                                   source_topic=Topic.objects.get(pk=p["source_topic"]),
                                   canonical_topic=Topic.objects.get(pk=p["canonical_topic"]), rules=p["rules"],
                                   description=p.get("description", ""), note=p.get("note", ""),
                                   source_version=p.get("source_version"),
                                   canonical_version=p.get("canonical_version"), via=via, change_request=cr)


def _mapping_update(actor, p, via, cr):
    return mappings.mapping_update(actor=actor, mapping=_mapping(p), rules=p.get("rules"),
                                   description=p.get("description"), note=p.get("note", ""),
                                   source_version=p.get("source_version"),
                                   canonical_version=p.get("canonical_version"), via=via, change_request=cr)


def _mapping_delete(actor, p, via, cr):
    return mappings.mapping_delete(actor=actor, mapping=_mapping(p), via=via, change_request=cr)


def _binding(p) -> EventStoreBinding:
    return EventStoreBinding.objects.select_related("team", "topic__cluster", "topic__team").get(pk=p["binding"])


def _event_store_bind(actor, p, via, cr):
    return event_store.event_store_bind(actor=actor, topic=_topic(p), mode=p["mode"],
                                        retention_days=p.get("retention_days"),
                                        indexed_fields=p.get("indexed_fields"), via=via, change_request=cr)


def _event_store_update(actor, p, via, cr):
    return event_store.event_store_update(actor=actor, binding=_binding(p), via=via, change_request=cr,
                                          **{k: v for k, v in p.items() if k != "binding"})


def _event_store_unbind(actor, p, via, cr):
    return event_store.event_store_unbind(actor=actor, binding=_binding(p), via=via, change_request=cr)


def _group_reset(actor, p, via, cr):
    timestamp = datetime.fromisoformat(p["timestamp"]) if p.get("timestamp") else None
    request = group_resets.ResetRequest(p["strategy"], timestamp, p.get("shift"), p.get("offset"),
                                        tuple(p.get("partitions") or ()))
    return group_resets.offset_reset_request(actor=actor, cluster=Cluster.objects.get(pk=p["cluster"]),
                                             group_id=p["group_id"], topic=_topic(p), request=request,
                                             reason=p.get("reason", ""), via=via, change_request=cr)


def _records_delete(actor, p, via, cr):
    return records_delete(actor=actor, topic=_topic(p), before={int(k): v for k, v in p["before"].items()},
                          confirm_name=p["confirm_name"], via=via, change_request=cr)


EXECUTORS: dict[str, Callable] = {
    "topic.create": _topic_create,
    "topic.update": _topic_update,
    "topic.delete": _topic_delete,
    "schema.submit": _schema_submit,
    "schema.compatibility": _schema_compatibility,
    "service_account.create": _service_account_create,
    "service_account.delete": _service_account_delete,
    "service_account.quota": _service_account_quota,
    "subscription.request": _subscription_request,
    "subscription.promote": _subscription_promote,
    "aggregation.create": _aggregation_create,
    "aggregation.update": _aggregation_update,
    "aggregation.delete": _aggregation_delete,
    "connector.create": _connector_create,
    "connector.update": _connector_update,
    "connector.delete": _connector_delete,
    "connector.offsets": _connector_offsets,
    "mapping.create": _mapping_create,
    "mapping.update": _mapping_update,
    "mapping.delete": _mapping_delete,
    "event_store.bind": _event_store_bind,
    "event_store.update": _event_store_update,
    "event_store.unbind": _event_store_unbind,
    "group.reset": _group_reset,
    "topic.delete_records": _records_delete,
}


for _operation, _executor in EXECUTORS.items():
    registry.register(_operation, _executor)
