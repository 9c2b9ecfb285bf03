"""Promotion onto a topic that the next environment already has: what differs, as change-request steps.

Configs and portal metadata follow the source; partitions only grow (Kafka cannot shrink them) and
the replication factor never changes in place, so a target that is larger or differs there keeps its
own and the plan says so. Schema versions the target lacks are submitted in order; subscriptions the
target already has are not proposed again.
"""

from __future__ import annotations

from onboarding import policies
from onboarding.models import ResourceStatus, Schema, Subscription, Topic

METADATA = ("description", "tags", "visibility", "subscriptions_need_approval")


def topic_update_change(source: Topic, target: Topic, desired: dict) -> tuple[list[dict], list[str]]:
    """The ``topic.update`` of ``target`` towards ``desired`` (the source's shape with overrides), if any,
    and notes on what is kept as it is."""
    kept, payload = [], {}
    configs = {key: policies.normalize_config_value(value) for key, value in desired["configs"].items()}
    if configs != target.configs:
        payload["configs"] = configs
    if desired["partitions"] > target.partitions:
        payload["partitions"] = desired["partitions"]
    elif desired["partitions"] < target.partitions:
        kept.append(f"partitions: {target.partitions} on {target.cluster.name}, {desired['partitions']} asked; "
                    "partitions never shrink")
    if desired["replication_factor"] != target.replication_factor:
        kept.append(f"replication factor: {target.replication_factor} on {target.cluster.name}, "
                    f"{desired['replication_factor']} asked; it cannot change in place")
    for field in METADATA:
        value = getattr(source, field)
        if value != getattr(target, field):
            payload[field] = list(value) if field == "tags" else value
    if not payload:
        return [], kept
    return [{"operation": "topic.update", "payload": {"topic": target.pk, **payload}}], kept


def schema_changes(source: Topic, target: Topic) -> list[dict]:
    """New versions for each of the source's subjects, and compatibility where only that differs."""
    changes = []
    for schema in _live_schemas(source):
        versions = list(schema.versions.order_by("number"))
        if not versions:
            continue
        there = _live_schemas(target).filter(side=schema.side).first()
        have = set(there.versions.values_list("fingerprint", flat=True)) if there else set()
        shared = [i for i, version in enumerate(versions) if version.fingerprint in have]
        # After the newest version both have; with none in common only the latest (as a first promotion does).
        missing = versions[shared[-1] + 1:] if shared else versions[-1:]
        for version in missing:
            changes.append({"operation": "schema.submit", "payload": {
                "cluster": target.cluster_id, "topic_name": target.name, "side": schema.side, "fmt": schema.format,
                "text": version.text, "note": f"Promoted from {source.cluster.name} (version {version.number})",
                "compatibility": schema.compatibility}})
        if not missing and there is not None and there.compatibility != schema.compatibility:
            changes.append({"operation": "schema.compatibility",
                            "payload": {"schema": there.pk, "compatibility": schema.compatibility}})
    return changes


def already_subscribed(target: Topic, change: dict) -> bool:
    """Whether the target topic already has this promoted subscription (same account and mode)."""
    p = change["payload"]
    return Subscription.objects.filter(
        source=target, service_account_id=p["service_account"], mode=p["mode"], delete_requested_at__isnull=True,
        decision__in=[Subscription.Decision.REQUESTED, Subscription.Decision.APPROVED],
    ).exclude(status=ResourceStatus.DELETED).exists()


def _live_schemas(topic: Topic):
    return Schema.objects.filter(topic=topic, delete_requested_at__isnull=True).exclude(
        status=ResourceStatus.DELETED).order_by("side")
