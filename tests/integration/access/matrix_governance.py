"""The World's governance objects: change requests on a gated cluster, a webhook, a team token, a sensitive
field, and a topic that exists on the broker so that it can be peeked at. Made through the services, like
the rest of the World (``matrix_support.World`` inherits them)."""

from __future__ import annotations

import uuid
from functools import cached_property

from confluent_kafka.admin import AdminClient, NewTopic
from django.conf import settings

from onboarding.changes.gate import change_policy_for, change_request_open
from onboarding.models import ApiToken, AuditEvent, ChangeRequest, Cluster, Topic, Webhook
from onboarding.notifications.webhooks import webhook_create, webhook_send_test
from onboarding.services.clusters import cluster_create
from onboarding.services.sensitivity import sensitive_field_set
from onboarding.services.tokens import team_token_create
from onboarding.services.topics import topic_create
from tests.fixtures.waiting import wait_for

SYSTEM = AuditEvent.Via.SYSTEM


def unique_name(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


class GovernanceObjects:
    """Mixed into ``World``: expects ``cluster``, ``payments``, ``users``, ``alice``, ``private_schema`` and
    ``broker_topics`` from it."""

    @cached_property
    def gated_cluster(self) -> Cluster:
        """The environment after the World's cluster (same broker), where creating a topic needs approval by
        another owner of the team: promotions land here as waiting change requests."""
        cluster = cluster_create(actor=None, name="matrix-gated", environment="prod",
                                 bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS,
                                 registry_url=settings.SCHEMA_REGISTRY_URL, order=self.cluster.order + 10)
        policy = change_policy_for(cluster)
        policy.operations_needing_approval = ["topic.create"]
        policy.approvers = "owners_or_operators"
        policy.save()
        return cluster

    def _change_request(self, who: str) -> ChangeRequest:
        payload = {"cluster": self.gated_cluster.pk, "team": self.payments.pk, "name": f"payments.{unique_name('cr')}",
                   "partitions": 1, "replication_factor": 1, "configs": {}, "description": "", "tags": [],
                   "visibility": Topic.Visibility.PRIVATE}
        return change_request_open(actor=self.users[who], cluster=self.gated_cluster, team=self.payments,
                                   title=f"Create {payload['name']}", via=SYSTEM,
                                   changes=[{"operation": "topic.create", "payload": payload}])

    @cached_property
    def bob_request(self) -> ChangeRequest:
        """A member asks for a topic on the gated cluster: payments' owners (or an operator) decide."""
        return self._change_request("bob")

    @cached_property
    def alice_request(self) -> ChangeRequest:
        """An owner's own request: she may not decide it herself (four eyes)."""
        return self._change_request("alice")

    @cached_property
    def webhook(self) -> Webhook:
        return webhook_create(actor=self.alice, team=self.payments, name=unique_name("hook"),
                              url="https://hooks.example.org/portal", events=["resource.drifted"], via=SYSTEM)[0]

    @cached_property
    def team_token(self) -> ApiToken:
        """payments' automation token, managed by its owners."""
        return team_token_create(actor=self.alice, team=self.payments, name=unique_name("deploy"),
                                 scope=ApiToken.Scope.READ, via=SYSTEM)[0]

    @cached_property
    def sensitive_schema(self):
        """The private schema with its ``amount`` field tagged as confidential."""
        sensitive_field_set(actor=self.alice, schema=self.private_schema, path="amount", classification="confidential",
                            via=SYSTEM)
        return self.private_schema

    @cached_property
    def delivery(self):
        """A test event queued to the webhook (never sent: the world is never committed)."""
        return webhook_send_test(actor=self.alice, webhook=self.webhook)

    def _on_broker(self, stem: str, visibility: str) -> Topic:
        """A payments topic that exists on the broker (made there directly; it holds no events)."""
        name = f"payments.{unique_name(stem)}"
        admin = AdminClient({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})
        admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])[name].result(30)
        self.broker_topics.append(name)
        wait_for(lambda: name in admin.list_topics(timeout=10).topics, timeout=15, message=name)
        return topic_create(actor=self.alice, cluster=self.cluster, team=self.payments, name=name, partitions=1,
                            replication_factor=1, visibility=visibility)

    @cached_property
    def peek_topic(self) -> Topic:
        return self._on_broker("peek", Topic.Visibility.PRIVATE)

    @cached_property
    def public_peek_topic(self) -> Topic:
        return self._on_broker("peek-public", Topic.Visibility.PUBLIC)
