"""Topics a user sees, and who produces, reads and routes them."""

from __future__ import annotations

from django.db.models import F, OuterRef, Q, QuerySet, Subquery

from onboarding.errors import NotFound
from onboarding.models import ApplyAttempt, Membership, ResourceStatus, ServiceAccount, Subscription, Topic
from onboarding.models.schemas import Schema, SchemaVersion
from onboarding.permissions import is_operator


def topics_visible_to(user, *, include_deleted: bool = False) -> QuerySet[Topic]:
    """Operators see everything; others see their teams' topics and every public topic.

    The teams are a subquery, not a join: no duplicate rows, so no DISTINCT over every column of the page
    (and of its COUNT), which made the topic list several times slower than the same rows by hand."""
    topics = Topic.objects.select_related("cluster", "team")
    if not include_deleted:
        topics = topics.exclude(status=ResourceStatus.DELETED)
    if is_operator(user):
        return topics
    own_teams = Membership.objects.filter(user=user).values("team_id")
    return topics.filter(Q(visibility=Topic.Visibility.PUBLIC) | Q(team_id__in=own_teams))


def topic_for(user, pk) -> Topic:
    """A topic the user may see; a private topic of another team is 'not found', not 'forbidden'."""
    topic = topics_visible_to(user, include_deleted=True).filter(pk=pk).first()
    if topic is None:
        raise NotFound("No such topic.")
    return topic


def topic_attempts(topic: Topic, limit: int = 20) -> list[ApplyAttempt]:
    """The latest apply attempts, newest first (the model's order). A raw query: the history tab reads nothing
    else, and the ORM took longer to build this statement than to run it."""
    return list(ApplyAttempt.objects.raw(
        "SELECT * FROM onboarding_applyattempt WHERE topic_id = %s ORDER BY started_at DESC, id DESC LIMIT %s",
        [topic.pk, limit]))


def topic_readers(topic: Topic) -> list[Subscription]:
    """The topic's approved, live subscriptions, direct and routed (with their destinations), in one query."""
    return list(topic.subscriptions.filter(decision=Subscription.Decision.APPROVED, delete_requested_at__isnull=True)
                .select_related("subscriber", "service_account", "destination__team").order_by("subscriber__slug",
                                                                                                 "pk"))


def topic_producers(topic: Topic):
    """Principals that may write to the topic: the owning team's live service accounts on its cluster, which
    get WRITE on the team's prefix (see reconcile.access_plan.team_acls); none when the name is outside it."""
    if not topic.name.startswith(f"{topic.team.slug}."):
        return ServiceAccount.objects.none()
    return (ServiceAccount.objects.filter(team_id=topic.team_id, cluster_id=topic.cluster_id)
            .exclude(status=ResourceStatus.DELETED).order_by("name"))


def topic_schemas_with_fields(topic: Topic) -> list[Schema]:
    """The topic's live schemas with their latest version's number and text and their sensitive tags (2 queries)."""
    latest = SchemaVersion.objects.filter(schema=OuterRef("pk")).order_by("-number")
    return list(Schema.objects.filter(topic=topic).exclude(status=ResourceStatus.DELETED)
                .annotate(latest_text=Subquery(latest.values("text")[:1]),
                          latest_number=Subquery(latest.values("number")[:1]))
                .prefetch_related("sensitive_fields").order_by("side"))


# What the topic table shows (partials/_topic_table.html): the page loads only these, not the reconciler's
# JSON columns (observed state, drift, configs); the team's slug and the cluster's name come as annotations.
TABLE_COLUMNS = ("name", "description", "visibility", "partitions", "replication_factor", "tags", "status")


def topic_table_rows(topics: QuerySet[Topic]) -> QuerySet[Topic]:
    """The topics in the table's order, with the table's columns only: one model per row (select_related
    would build a team and a cluster for each, most of the page's cost after the SQL)."""
    return (topics.select_related(None).only(*TABLE_COLUMNS)
            .annotate(team_slug=F("team__slug"), cluster_name=F("cluster__name")).order_by("name", "pk"))
