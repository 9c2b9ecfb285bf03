"""The isolation matrix's vocabulary: roles, outcomes, rows, and the world of objects a row acts on.

The ``World`` is made once per module, through the services, inside a transaction that stays open
around the module; every test runs in a savepoint inside it that is rolled back afterwards. So each
(row, role) pair starts from the same fresh rows: a delete or a rotate for one role is never seen by
another, and the rows are made once instead of ~600 times.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from confluent_kafka.admin import AdminClient, NewTopic
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from onboarding.models import ApiToken, AuditEvent, Membership, ResourceStatus, Subscription, Topic
from onboarding.services.schemas import schema_version_submit
from onboarding.services.service_accounts import service_account_create
from onboarding.services.subscriptions import subscription_request
from onboarding.services.teams import membership_set, team_create
from onboarding.services.tokens import token_create
from onboarding.services.topics import topic_create
from tests.fixtures.waiting import wait_for
from tests.integration.access.matrix_aggregations import AggregationObjects
from tests.integration.access.matrix_connectors import ConnectorObjects
from tests.integration.access.matrix_event_store import EventStoreObjects
from tests.integration.access.matrix_governance import GovernanceObjects
from tests.integration.access.matrix_groups import GroupObjects
from tests.integration.access.matrix_mappings import MappingObjects

# Columns of the table, in the order an expectation string lists them.
ROLES = ("anon", "carol", "vera", "bob", "alice", "olivia")
ROLE_HELP = {"anon": "anonymous", "carol": "outsider (owner of clinical)", "vera": "viewer of payments",
             "bob": "member of payments", "alice": "owner of payments", "olivia": "platform operator"}

# What a role gets, as written in an expectation string:
OK = "ok"          # 2xx or 3xx (not to a login page), and the row's audited effect happened
FORBIDDEN = "403"  # refused, nothing changed
HIDDEN = "404"     # the object's existence is secret to the role, nothing changed
LOGIN = "login"    # anonymous: 401 from the API, a redirect to the login page from the browser
INVALID = "400"    # the choice offered by the form excludes it (the form re-renders), nothing changed
BOUNCE = "bounce"  # a browser button refused by the service: back to the page with an error message, no change
OUTCOMES = {OK, FORBIDDEN, HIDDEN, LOGIN, INVALID, BOUNCE}

ORDER_V1 = {"type": "record", "name": "Order", "namespace": "payments.matrix",
            "fields": [{"name": "id", "type": "string"}, {"name": "amount", "type": "long"}]}
ORDER_EVENT = {"id": "o-1", "amount": 12}


def expect(columns: str) -> dict[str, str]:
    """``"login 404 403 ok ok ok"`` -> one outcome per role, in ROLES order."""
    outcomes = columns.split()
    assert len(outcomes) == len(ROLES) and set(outcomes) <= OUTCOMES, f"bad expectation {columns!r}"
    return dict(zip(ROLES, outcomes, strict=True))


@dataclass(frozen=True)
class Row:
    """One request and what each role must get from it.

    ``route`` is the URL name with its namespace; ``target`` names the World object the URL points at
    (its URL arguments come from ``args``); ``body`` builds the request data from the world; ``effect``
    is the audit action an allowed call writes (None for reads: nobody may write anything).
    ``listed`` names World objects that a list must show to every role that may read them, and never
    to the outsider.
    """

    route: str
    method: str
    target: str
    expected: dict[str, str]
    args: Callable[[World], tuple] = lambda world: ()
    body: Callable[[World], dict] | None = None
    query: Callable[[World], str] | str = ""
    effect: str | None = None
    listed: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.route} {self.method} {self.target}".rstrip()


def row(route: str, method: str, target: str, columns: str, **options) -> Row:
    """A table line: ``row("api:topic-detail", "PATCH", "private_topic", "login 404 403 ok ok ok", ...)``.

    Without ``args``, a URL with an id gets the target's primary key.
    """
    if "args" not in options and target:
        options["args"] = lambda world: (world.obj(target).pk,)
    return Row(route, method.upper(), target, expect(columns), **options)


def unique(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


class World(ConnectorObjects, GovernanceObjects, AggregationObjects, MappingObjects, GroupObjects,
            EventStoreObjects):
    """The actors, and one of every object a row may act on, all made through the services.

    The people: payments (alice owner, bob member, vera viewer), clinical (carol owner: the outsider),
    research (robin owner: a third team that trades events with payments) and olivia, the operator.
    Every ``cached_property`` below is made when the world is; a row names them as its target.
    """

    def __init__(self, cluster):
        self.cluster = cluster
        self.payments = team_create(actor=None, slug="payments", name="Payments", contacts="payments@example.org")
        self.clinical = team_create(actor=None, slug="clinical", name="Clinical systems")
        self.research = team_create(actor=None, slug="research", name="Research")
        self.users, self.tokens, self.sessions = {}, {}, {}
        self.broker_topics: list[str] = []  # made on the shared broker; removed with the world
        for name, team, role in (("alice", self.payments, Membership.Role.OWNER),
                                 ("bob", self.payments, Membership.Role.MEMBER),
                                 ("vera", self.payments, Membership.Role.VIEWER),
                                 ("carol", self.clinical, Membership.Role.OWNER),
                                 ("robin", self.research, Membership.Role.OWNER),
                                 ("olivia", None, None)):
            # No password: clients log in with a session made here, and hashing one is slow.
            user = get_user_model().objects.create_user(name, f"{name}@example.org", None,
                                                        is_staff=team is None, is_superuser=team is None)
            if team is not None:
                membership_set(actor=None, team=team, user=user, role=role)
            self.users[name] = user
            self.tokens[name] = ApiToken.new(user=user, name="matrix", scope=ApiToken.Scope.WRITE)[1]
            browser = Client()
            browser.force_login(user)
            self.sessions[name] = browser.cookies[settings.SESSION_COOKIE_NAME].value
        for klass in type(self).__mro__:
            for name, value in vars(klass).items():
                if isinstance(value, cached_property):
                    getattr(self, name)  # made now, so that every test starts from the same rows

    def obj(self, name: str):
        return getattr(self, name)

    def topic(self, team, actor, stem: str, visibility: str) -> Topic:
        return topic_create(actor=actor, cluster=self.cluster, team=team, name=f"{team.slug}.{unique(stem)}",
                            partitions=1, replication_factor=1, visibility=visibility)

    @property
    def alice(self):
        return self.users["alice"]

    # ------------------------------------------------------------------------------------------ topics

    @cached_property
    def public_topic(self) -> Topic:
        return self.topic(self.payments, self.alice, "public", Topic.Visibility.PUBLIC)

    @cached_property
    def private_topic(self) -> Topic:
        return self.topic(self.payments, self.alice, "private", Topic.Visibility.PRIVATE)

    @cached_property
    def drifted_topic(self) -> Topic:
        """A private topic whose retention was changed on the broker by hand: revert and adopt apply (grown
        partitions could only be adopted)."""
        topic = self.topic(self.payments, self.alice, "drifted", Topic.Visibility.PRIVATE)
        Topic.objects.filter(pk=topic.pk).update(
            status=ResourceStatus.DRIFTED, observed_generation=topic.generation,
            observed={"partitions": topic.partitions, "replication_factor": 1, "configs": {"retention.ms": "60000"}},
            drift={"configs": {"retention.ms": {"desired": None, "observed": "60000"}}})
        topic.refresh_from_db()
        return topic

    @cached_property
    def unmanaged_topic(self) -> str:
        """A topic on the broker that the portal does not manage yet: operators may import it."""
        name = f"payments.{unique('unmanaged')}"
        admin = AdminClient({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})
        admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])[name].result(30)
        self.broker_topics.append(name)
        wait_for(lambda: name in admin.list_topics(timeout=10).topics, timeout=15, message=name)
        return name

    def remove_broker_topics(self) -> None:
        if self.broker_topics:
            admin = AdminClient({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})
            for future in admin.delete_topics(self.broker_topics, operation_timeout=30).values():
                future.result(30)

    @cached_property
    def research_topic(self) -> Topic:
        """A public topic of a third team, which payments may subscribe to."""
        return self.topic(self.research, self.users["robin"], "public", Topic.Visibility.PUBLIC)

    # ------------------------------------------------------------------------------------------ schemas

    def _schema(self, topic: Topic, document):
        return schema_version_submit(actor=self.alice, topic=topic, side="value", fmt="AVRO",
                                     text=json.dumps(document), via=AuditEvent.Via.SYSTEM).schema

    @cached_property
    def public_schema(self):
        return self._schema(self.public_topic, ORDER_V1)

    @cached_property
    def private_schema(self):
        return self._schema(self.private_topic, ORDER_V1)

    # ------------------------------------------------------------------------------ accounts, subscriptions

    @cached_property
    def payments_account(self):
        return service_account_create(actor=self.alice, cluster=self.cluster, team=self.payments,
                                      name=unique("reader"), via=AuditEvent.Via.SYSTEM)[0]

    @cached_property
    def drifted_account(self):
        """A payments account whose WRITE on the team's prefix was removed on the broker by hand."""
        from onboarding.reconcile.access_plan import AclSpec, team_acls

        sa = service_account_create(actor=self.alice, cluster=self.cluster, team=self.payments,
                                    name=unique("drifted"), via=AuditEvent.Via.SYSTEM)[0]
        write = AclSpec("TOPIC", "payments.", "PREFIXED", sa.principal, "WRITE")
        seen = sorted(team_acls(sa.principal, "payments") - {write})
        type(sa).objects.filter(pk=sa.pk).update(
            status=ResourceStatus.DRIFTED, observed_generation=sa.generation,
            drift={"missing": [write.as_dict()], "extra": []}, observed={"acls": [s.as_dict() for s in seen]})
        sa.refresh_from_db()
        return sa

    @cached_property
    def spare_account(self):
        """A payments account no subscription uses, so it may be deleted."""
        return service_account_create(actor=self.alice, cluster=self.cluster, team=self.payments,
                                      name=unique("spare"), via=AuditEvent.Via.SYSTEM)[0]

    @cached_property
    def clinical_account(self):
        return service_account_create(actor=self.users["carol"], cluster=self.cluster, team=self.clinical,
                                      name=unique("reader"), via=AuditEvent.Via.SYSTEM)[0]

    @cached_property
    def research_account(self):
        return service_account_create(actor=self.users["robin"], cluster=self.cluster, team=self.research,
                                      name=unique("reader"), via=AuditEvent.Via.SYSTEM)[0]

    @cached_property
    def approval_topic(self) -> Topic:
        """A public topic of payments whose subscriptions its owners approve (no service sets the flag yet)."""
        topic = self.topic(self.payments, self.alice, "approved", Topic.Visibility.PUBLIC)
        Topic.objects.filter(pk=topic.pk).update(subscriptions_need_approval=True)
        topic.refresh_from_db()
        return topic

    @cached_property
    def incoming_request(self) -> Subscription:
        """research asks for a payments topic: waiting for payments' owners to decide."""
        return subscription_request(actor=self.users["robin"], subscriber=self.research, source=self.approval_topic,
                                    service_account=self.research_account, mode=Subscription.Mode.DIRECT,
                                    reason="Research needs it", via=AuditEvent.Via.SYSTEM)

    @cached_property
    def incoming_public(self) -> Subscription:
        """research reads payments' public topic (approved at once): payments' owners may end it."""
        return subscription_request(actor=self.users["robin"], subscriber=self.research, source=self.public_topic,
                                    service_account=self.research_account, mode=Subscription.Mode.DIRECT,
                                    reason="Research needs it", via=AuditEvent.Via.SYSTEM)

    @cached_property
    def drifted_subscription(self) -> Subscription:
        """research reads a public payments topic directly; its READ was removed on the broker by hand."""
        from onboarding.reconcile.access_plan import AclSpec

        source = self.topic(self.payments, self.alice, "drift-source", Topic.Visibility.PUBLIC)
        sub = subscription_request(actor=self.users["robin"], subscriber=self.research, source=source,
                                   service_account=self.research_account, mode=Subscription.Mode.DIRECT,
                                   reason="Research needs it", via=AuditEvent.Via.SYSTEM)
        read = AclSpec("TOPIC", source.name, "LITERAL", self.research_account.principal, "READ")
        Subscription.objects.filter(pk=sub.pk).update(status=ResourceStatus.DRIFTED,
                                                      drift={"missing": [read.as_dict()], "extra": []})
        sub.refresh_from_db()
        return sub

    @cached_property
    def outgoing(self) -> Subscription:
        """payments routes research's public topic into its own (approved at once), with a filter."""
        destination = self.topic(self.payments, self.alice, "copy", Topic.Visibility.PRIVATE)
        return subscription_request(actor=self.alice, subscriber=self.payments, source=self.research_topic,
                                    service_account=self.payments_account, mode=Subscription.Mode.ROUTED,
                                    destination=destination, filter="value.amount > `1`",
                                    reason="We bill research", via=AuditEvent.Via.SYSTEM)

    @cached_property
    def alice_token(self) -> ApiToken:
        return token_create(actor=self.alice, user=self.alice, name=unique("ci"), scope=ApiToken.Scope.WRITE,
                            via=AuditEvent.Via.SYSTEM)[0]

    # ------------------------------------------------------------------------------------------ clients

    def api_client(self, role: str) -> APIClient:
        client = APIClient()
        if role != "anon":
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.tokens[role]}")
        return client

    def browser_client(self, role: str) -> Client:
        client = Client()
        if role != "anon":
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[role]
        return client
