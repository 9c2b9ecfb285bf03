"""Reads of mappings, code tables and canonical topics for views, the API and the mapper's reconciler.

A mapping's rules say how a team's events are shaped, so like connectors only its team's members and operators
see it; code tables and canonical topics are shared vocabulary that every signed-in user reads."""

from __future__ import annotations

from django.db.models import QuerySet

from onboarding.errors import NotFound
from onboarding.models import CanonicalTopic, Cluster, CodeTable, Mapping, MappingVersion, ResourceStatus
from onboarding.selectors.teams import in_users_teams


def live_mapping_versions(cluster: Cluster) -> list[MappingVersion]:
    """The version of every mapping on ``cluster`` the mapper should run: the current version of each mapping
    that is not deleted or being deleted."""
    mappings = (Mapping.objects.filter(cluster=cluster, delete_requested_at__isnull=True,
                                       current_version__isnull=False)
                .exclude(status=ResourceStatus.DELETED).values_list("current_version_id", flat=True))
    return list(MappingVersion.objects.filter(pk__in=list(mappings))
                .select_related("mapping__team", "mapping__source_topic", "mapping__canonical_topic",
                                "source_schema_version__schema__topic", "canonical_schema_version__schema__topic")
                .order_by("mapping__team__slug", "mapping__name"))


def mappings_visible_to(user, *, include_deleted: bool = False) -> QuerySet[Mapping]:
    rows = Mapping.objects.select_related("team", "cluster", "source_topic", "canonical_topic", "current_version")
    if not include_deleted:
        rows = rows.exclude(status=ResourceStatus.DELETED)
    return in_users_teams(user, rows)


def mapping_for(user, pk) -> Mapping:
    mapping = mappings_visible_to(user, include_deleted=True).filter(pk=pk).first()
    if mapping is None:
        raise NotFound("No such mapping.")
    return mapping


def mapping_versions(mapping: Mapping) -> QuerySet[MappingVersion]:
    return mapping.versions.select_related("author", "source_schema_version", "canonical_schema_version") \
        .order_by("-number")


def code_tables_visible_to(user) -> QuerySet[CodeTable]:
    if not (user and user.is_authenticated):
        return CodeTable.objects.none()
    return CodeTable.objects.filter(deleted_at__isnull=True).select_related("team")


def code_table_for(user, pk) -> CodeTable:
    table = code_tables_visible_to(user).filter(pk=pk).first()
    if table is None:
        raise NotFound("No such code table.")
    return table


def canonical_topics(cluster: Cluster | None = None) -> QuerySet[CanonicalTopic]:
    rows = CanonicalTopic.objects.select_related("topic__team", "topic__cluster") \
        .exclude(topic__status=ResourceStatus.DELETED)
    return rows.filter(topic__cluster=cluster) if cluster is not None else rows


def is_canonical(topic) -> bool:
    return CanonicalTopic.objects.filter(topic_id=getattr(topic, "pk", topic)).exists()
