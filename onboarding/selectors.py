"""Read queries shared by the browser views and the API."""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from onboarding.models import ApiToken, ApplyAttempt, Cluster, Membership, ResourceStatus, Team, Topic
from onboarding.models.schemas import Schema, SchemaVersion
from onboarding.services.access import is_operator
from onboarding.services.errors import NotFound


def teams_of(user) -> QuerySet[Team]:
    if is_operator(user):
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user).distinct()


def writable_teams_of(user) -> QuerySet[Team]:
    if is_operator(user):
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user,
                               memberships__role__in=[Membership.Role.OWNER, Membership.Role.MEMBER]).distinct()


def topics_visible_to(user, *, include_deleted: bool = False) -> QuerySet[Topic]:
    """Operators see everything; others see their teams' topics and every public topic."""
    topics = Topic.objects.select_related("cluster", "team")
    if not include_deleted:
        topics = topics.exclude(status=ResourceStatus.DELETED)
    if is_operator(user):
        return topics
    return topics.filter(Q(visibility=Topic.Visibility.PUBLIC) | Q(team__memberships__user=user)).distinct()


def topic_for(user, pk) -> Topic:
    """A topic the user may see; a private topic of another team is 'not found', not 'forbidden'."""
    topic = topics_visible_to(user, include_deleted=True).filter(pk=pk).first()
    if topic is None:
        raise NotFound("No such topic.")
    return topic


def topic_attempts(topic: Topic, limit: int = 20) -> list[ApplyAttempt]:
    return list(topic.attempts.all()[:limit])


def clusters_with_policies() -> QuerySet[Cluster]:
    """Every cluster with its topic policy (one query); any signed-in user may read them."""
    return Cluster.objects.select_related("topic_policy")


def cluster_named(name: str) -> Cluster | None:
    return Cluster.objects.filter(name=name).first()


def team_with_slug(slug: str) -> Team | None:
    """Any team by slug: whether the actor may act for it is the service's decision."""
    return Team.objects.filter(slug=slug).first()


def teams_with_members_of(user) -> QuerySet[Team]:
    """The teams a user may see, with their memberships loaded for listing members."""
    return teams_of(user).prefetch_related("memberships__user")


def api_token_with_key_id(key_id: str) -> ApiToken | None:
    return ApiToken.objects.select_related("user").filter(key_id=key_id).first()


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
