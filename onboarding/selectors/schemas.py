"""Schemas and their versions a user sees."""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from onboarding.errors import NotFound
from onboarding.models import ResourceStatus
from onboarding.models.schemas import Schema, SchemaVersion
from onboarding.selectors.topics import topics_visible_to


def schemas_visible_to(user, *, include_deleted: bool = False, with_texts: bool = False) -> QuerySet[Schema]:
    """Schemas of the topics the user may see, with their versions and the latest text annotated.

    The versions' texts (which may be large) are loaded only ``with_texts``.
    """
    latest = SchemaVersion.objects.filter(schema=OuterRef("pk")).order_by("-number")
    versions = SchemaVersion.objects.select_related("author")
    schemas = (Schema.objects.select_related("topic__cluster", "topic__team")
               .filter(topic__in=topics_visible_to(user, include_deleted=True).values("pk"))
               .annotate(latest_text=Subquery(latest.values("text")[:1]))
               .prefetch_related(Prefetch("versions", versions if with_texts else versions.defer("text"))))
    if not include_deleted:
        schemas = schemas.exclude(status=ResourceStatus.DELETED)
    return schemas


def schema_for(user, pk, *, with_texts: bool = False) -> Schema:
    """A schema the user may see; one of another team's private topic is 'not found', like the topic."""
    schema = schemas_visible_to(user, include_deleted=True, with_texts=with_texts).filter(pk=pk).first()
    if schema is None:
        raise NotFound("No such schema.")
    return schema


def schema_version(schema: Schema, number: int) -> SchemaVersion:
    version = schema.versions.select_related("author").filter(number=number).first()
    if version is None:
        raise NotFound(f"{schema.subject} has no version {number}.")
    return version
