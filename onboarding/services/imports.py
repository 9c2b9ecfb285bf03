"""Bring topics that already exist on a cluster under the portal's management, without recreating them."""

from __future__ import annotations

from django.db import transaction

from onboarding.models import AuditEvent, Cluster, ResourceStatus, Team, Topic
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.kafka_admin import KafkaAdmin
from onboarding.reconcile.planner import ObservedTopic
from onboarding.services.access import is_operator
from onboarding.services.audit import audit_record
from onboarding.services.errors import PermissionDenied, ValidationError
from onboarding.services.scheduling import reconcile_soon
from onboarding.services.topics import policy_for, topic_snapshot


def unmanaged_topics(cluster: Cluster) -> list[ObservedTopic]:
    """Topics on the cluster that no live portal record manages (raises PlatformError if unreachable)."""
    admin = KafkaAdmin(kafka_connection_for(cluster))
    managed = set(Topic.objects.filter(cluster=cluster).exclude(status=ResourceStatus.DELETED)
                  .values_list("name", flat=True))
    names = admin.list_topic_names() - managed - _reserved_names()
    observed = admin.describe_topics(names)
    return sorted(observed.values(), key=lambda t: t.name)


def _reserved_names() -> set[str]:
    """Topics the platform itself runs on; never handed to a team."""
    return {"_schemas", "kafkasql-journal", "__consumer_offsets", "__transaction_state"}


def topics_import(*, actor, cluster: Cluster, team: Team, names: list[str],
                  via: str = AuditEvent.Via.SYSTEM) -> list[Topic]:
    """Operators assign existing topics to a team; their current shape becomes the desired state."""
    if not is_operator(actor):
        raise PermissionDenied("Only platform operators can import topics.")
    if not names:
        raise ValidationError({"names": ["Choose at least one topic to import."]})
    if not cluster.is_active:
        raise ValidationError({"cluster": ["This cluster is not accepting changes."]})
    available = {t.name: t for t in unmanaged_topics(cluster)}
    missing = sorted(set(names) - set(available))
    if missing:
        raise ValidationError({"names": [f"Not on the cluster or already managed: {', '.join(missing)}."]})
    allowed_keys = set(policy_for(cluster).config_rules)
    imported = []
    with transaction.atomic():
        for name in sorted(set(names)):
            seen = available[name]
            topic = Topic.objects.create(
                cluster=cluster, team=team, name=name, partitions=seen.partitions,
                replication_factor=seen.replication_factor, configs=dict(seen.configs),
                description="Imported from the cluster.", status=ResourceStatus.PENDING)
            audit_record(actor=actor, via=via, action="topic.import", obj=topic, team=team,
                         after=topic_snapshot(topic),
                         note=_note_for(seen, allowed_keys))
            imported.append(topic)
    reconcile_soon(cluster.pk)
    return imported


def _note_for(seen: ObservedTopic, allowed_keys) -> str:
    outside = sorted(set(seen.configs) - set(allowed_keys))
    if outside:
        return "Kept configs that teams cannot normally set: " + ", ".join(outside)
    return ""
