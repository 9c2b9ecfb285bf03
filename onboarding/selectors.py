"""Read queries shared by the browser views and the API."""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from onboarding.errors import NotFound
from onboarding.models import ApiToken, ApplyAttempt, Cluster, Membership, ResourceStatus, Subscription, Team, Topic
from onboarding.models.schemas import Schema, SchemaVersion
from onboarding.permissions import is_operator
from onboarding.platform import PlatformError
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.kafka_admin import KafkaAdmin
from onboarding.routing import traffic
from onboarding.routing.router import default_group_id


def in_users_teams(user, rows: QuerySet, field: str = "team_id") -> QuerySet:
    """Operators see every row; anyone else only rows of the teams they belong to (any role)."""
    if is_operator(user):
        return rows
    return rows.filter(**{f"{field}__in": Membership.objects.filter(user=user).values("team_id")})

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


def _tokens() -> QuerySet[ApiToken]:
    return ApiToken.objects.select_related("user", "team", "created_by").order_by("-created_at", "-id")


def personal_tokens_of(user) -> QuerySet[ApiToken]:
    return _tokens().filter(user=user, team__isnull=True)


def team_tokens_of(team: Team) -> QuerySet[ApiToken]:
    return _tokens().filter(team=team)


def tokens_manageable_by(user) -> QuerySet[ApiToken]:
    """A person's own tokens and the tokens of the teams they own. Operators own every team (as in
    services/access.py), so they manage every team token; other people's personal tokens stay in the admin."""
    if is_operator(user):
        return _tokens().filter(Q(user=user, team__isnull=True) | Q(team__isnull=False))
    owned = Membership.objects.filter(user=user, role=Membership.Role.OWNER).values("team_id")
    return _tokens().filter(Q(user=user, team__isnull=True) | Q(team__in=owned))


def token_for(user, pk) -> ApiToken:
    token = tokens_manageable_by(user).filter(pk=pk).first()
    if token is None:
        raise NotFound("No such token.")
    return token


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


def _subscriptions():

    return Subscription.objects.select_related("subscriber", "source__team", "source__cluster", "service_account",
                                               "destination", "requested_by", "decided_by")


def subscriptions_visible_to(user):
    """Subscriptions either side of which is one of the user's teams (operators see all)."""
    subscriptions = _subscriptions()
    if is_operator(user):
        return subscriptions
    teams = Membership.objects.filter(user=user).values("team_id")
    return subscriptions.filter(Q(subscriber_id__in=teams) | Q(source__team_id__in=teams))


def subscriptions_for_team(user, team: Team):
    """A team's subscriptions from both sides: what it subscribes to and who subscribes to its topics."""
    from onboarding.permissions import can_read_team

    if not can_read_team(user, team):
        return _subscriptions().none()
    return _subscriptions().filter(Q(subscriber=team) | Q(source__team=team))


def pending_approvals_for(user):
    """Requests waiting for the user's decision: on topics of teams they own (all, for operators),
    except their own requests, which someone else must decide."""

    waiting = _subscriptions().filter(decision=Subscription.Decision.REQUESTED).exclude(requested_by=user)
    if is_operator(user):
        return waiting
    owned = Membership.objects.filter(user=user, role=Membership.Role.OWNER).values("team_id")
    return waiting.filter(source__team_id__in=owned)


def subscription_for(user, pk):
    """A subscription on either side of which the user is; anyone else gets 'not found'."""
    subscription = subscriptions_visible_to(user).filter(pk=pk).first()
    if subscription is None:
        raise NotFound("No such subscription.")
    return subscription


def service_accounts_visible_to(user):
    """Service accounts of the user's teams (operators see all)."""
    from onboarding.models import ServiceAccount

    accounts = ServiceAccount.objects.select_related("team", "cluster")
    return in_users_teams(user, accounts)


def service_account_for(user, pk):
    account = service_accounts_visible_to(user).filter(pk=pk).first()
    if account is None:
        raise NotFound("No such service account.")
    return account


def subscription_traffic(sub: Subscription) -> list[tuple[str, int]]:
    """Routed / filtered out / dead-lettered from the routers, and the consumer lag on the source."""
    rows = []
    if sub.mode == Subscription.Mode.ROUTED and sub.decision != Subscription.Decision.REQUESTED:
        counts = traffic.read_counts(sub.pk) or {}
        if any(counts.values()):
            rows = [("Routed", counts["routed"]), ("Filtered out", counts["filtered_out"]),
                    ("Dead-lettered", counts["dead_lettered"])]
    if sub.decision == Subscription.Decision.APPROVED:
        lag = subscription_lag(sub)
        if lag is not None:
            rows.append(("Consumer lag", lag))
    return rows


def subscription_lag(sub: Subscription) -> int | None:
    """Lag of whoever reads the source for this subscription: the routers, or the subscriber's groups."""
    try:
        admin = KafkaAdmin(kafka_connection_for(sub.source.cluster), timeout=3)
        if sub.mode == Subscription.Mode.ROUTED:
            return admin.consumer_lag(sub.source.name, group=default_group_id())
        return admin.consumer_lag(sub.source.name, group_prefix=f"{sub.subscriber.slug}.")
    except PlatformError:
        return None  # the page still shows everything else while the cluster is unreachable


def _change_requests():
    from onboarding.models import ChangeRequest

    return ChangeRequest.objects.select_related("cluster", "team", "requested_by", "decided_by")


def change_requests_visible_to(user):
    """Operators see every request; team members (any role) see their teams' requests."""
    requests = _change_requests()
    return in_users_teams(user, requests)


def change_request_for(user, pk):
    """A request the user may see; anyone outside its team gets 'not found'."""
    change_request = change_requests_visible_to(user).filter(pk=pk).first()
    if change_request is None:
        raise NotFound("No such change request.")
    return change_request


def change_requests_awaiting(user):
    """Waiting requests the user may decide: not their own, and as the cluster's policy names approvers."""
    waiting = change_requests_visible_to(user).filter(status="pending").exclude(requested_by=user)
    if is_operator(user):
        return waiting
    owned = Membership.objects.filter(user=user, role=Membership.Role.OWNER).values("team_id")
    return waiting.filter(team_id__in=owned, cluster__change_policy__approvers="owners_or_operators")


def webhooks_visible_to(user):
    """Webhooks of the user's teams, any role (operators see all); secrets are never selected for display."""
    from onboarding.models import Webhook

    hooks = Webhook.objects.select_related("team", "created_by")
    return in_users_teams(user, hooks)


def webhook_for(user, pk):
    """A webhook of one of the user's teams; anyone else gets 'not found'."""
    hook = webhooks_visible_to(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if hook is None:
        raise NotFound("No such webhook.")
    return hook


def deliveries_visible_to(user):
    """The notification log (webhooks and e-mail) of the user's teams (operators see all)."""
    from onboarding.models import NotificationDelivery

    rows = NotificationDelivery.objects.select_related("team", "webhook")
    return in_users_teams(user, rows)


# ---------------------------------------------------------------------------------------------- topic page

def topic_readers(topic: Topic) -> list[Subscription]:
    """The topic's approved, live subscriptions, direct and routed (with their destinations), in one query."""
    return list(topic.subscriptions.filter(decision=Subscription.Decision.APPROVED, delete_requested_at__isnull=True)
                .select_related("subscriber", "service_account", "destination__team").order_by("subscriber__slug",
                                                                                                 "pk"))


def topic_routed_sources(topic: Topic) -> list[Subscription]:
    """Approved, live routed subscriptions whose destination is this topic: where its copies come from."""
    return list(topic.routed_from.filter(decision=Subscription.Decision.APPROVED, delete_requested_at__isnull=True)
                .select_related("source__team").order_by("source__name", "pk"))


def topic_producers(topic: Topic):
    """Principals that may write to the topic: the owning team's live service accounts on its cluster, which
    get WRITE on the team's prefix (see reconcile.access_plan.team_acls); none when the name is outside it."""
    from onboarding.models import ServiceAccount

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
