"""Reads of mappings, code tables and canonical topics for views, the API and the mapper's reconciler.

A mapping's rules say how a team's events are shaped, so like connectors only its team's members and operators
see it; code tables and canonical topics are shared vocabulary that every signed-in user reads."""

from __future__ import annotations

from functools import lru_cache

from django.db.models import QuerySet

from onboarding.errors import NotFound
from onboarding.mapping.schema_fields import FieldSpec
from onboarding.mapping.schema_fields import fields as schema_field_specs
from onboarding.models import (
    CanonicalTopic,
    Cluster,
    CodeTable,
    Mapping,
    MappingVersion,
    ResourceStatus,
    Schema,
    SchemaVersion,
    Topic,
)
from onboarding.selectors.teams import cluster_named, in_users_teams, team_with_slug
from onboarding.selectors.topics import topics_visible_to


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


def topic_named(user, cluster: Cluster, name: str, *, canonical: bool = False) -> Topic | None:
    """A live topic of ``cluster`` by name that ``user`` may see; canonical topics are shared vocabulary, so any
    signed-in user finds them."""
    rows = (Topic.objects.select_related("cluster", "team") if canonical else topics_visible_to(user)) \
        .filter(cluster=cluster, name=name, delete_requested_at__isnull=True).exclude(status=ResourceStatus.DELETED)
    if canonical:
        rows = rows.filter(canonical__isnull=False)
    return rows.first()


def mapping_inputs(user, *, team: str, cluster: str, source_topic: str, canonical_topic: str) -> tuple:
    """(team, source topic, canonical topic, errors) from the names a form or the API gives; errors are by field,
    and a topic the user may not see reads like a missing one."""
    errors: dict[str, list[str]] = {}
    found_team = team_with_slug(team)
    if found_team is None:
        errors["team"] = [f"There is no team with the slug {team!r}."]
    found_cluster = cluster_named(cluster)
    if found_cluster is None:
        errors["cluster"] = [f"There is no cluster named {cluster!r}."]
        return found_team, None, None, errors
    source = topic_named(user, found_cluster, source_topic)
    if source is None:
        errors["source_topic"] = [f"There is no topic {source_topic!r} on {found_cluster.name} that you can see."]
    canonical = topic_named(user, found_cluster, canonical_topic, canonical=True)
    if canonical is None:
        errors["canonical_topic"] = [f"There is no canonical topic {canonical_topic!r} on {found_cluster.name}."]
    return found_team, source, canonical, errors


def value_schema_version(topic: Topic, number: int | None = None) -> tuple[SchemaVersion | None, str | None]:
    """The topic's value schema version ``number`` (None: its latest), or why there is none."""
    schema = (Schema.objects.filter(topic=topic, side=Schema.Side.VALUE, delete_requested_at__isnull=True)
              .exclude(status=ResourceStatus.DELETED).first())
    if schema is None:
        return None, f"{topic.name} has no value schema; register one first."
    versions = schema.versions.select_related("schema__topic")
    version = versions.order_by("-number").first() if number is None else versions.filter(number=number).first()
    if version is None:
        return None, (f"{schema.subject} has no version yet." if number is None
                      else f"{schema.subject} has no version {number}.")
    return version, None


@lru_cache(maxsize=64)
def fields_of(text: str, fmt: str) -> dict[str, FieldSpec]:
    """A schema version's fields by path; a version's text never changes, so the parse is kept (the editor asks
    for both schemas at every step). Callers only read the answer."""
    return schema_field_specs(text, fmt)


def value_fields(topic: Topic | None) -> tuple[SchemaVersion | None, dict[str, FieldSpec]]:
    """The latest value schema version of ``topic`` and its fields by path (the editor's field trees)."""
    version = value_schema_version(topic)[0] if topic is not None else None
    if version is None:
        return None, {}
    return version, fields_of(version.text, version.schema.format)
