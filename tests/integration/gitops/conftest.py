"""Fixtures of the manifest tests: a payments team with one of each resource, made through the services."""

import uuid
from dataclasses import dataclass

import pytest
from confluent_kafka.admin import (
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    ResourcePatternType,
    ResourceType,
    ScramMechanism,
    UserScramCredentialDeletion,
)

from onboarding.models import AuditEvent, Schema, SchemaVersion, ServiceAccount, Subscription, Topic
from onboarding.services.schemas import schema_version_submit
from onboarding.services.service_accounts import service_account_create
from onboarding.services.subscriptions import subscription_request
from onboarding.services.topics import topic_create
from tests.integration.api.conftest import subjects  # noqa: F401 - shared fixtures

ORDER = ('{"type": "record", "name": "Order", "namespace": "payments.test", '
         '"fields": [{"name": "id", "type": "string"}, {"name": "amount", "type": "long"}]}')
MANIFEST = "/api/v1/teams/{}/manifest/"


@dataclass
class Resources:
    """What the payments team has: a topic with a value schema, an account, a subscription to clinical."""

    topic: Topic
    schema: Schema
    account: ServiceAccount
    subscription: Subscription
    source: Topic


def counts() -> dict:
    """Row counts and generations that an apply changes and a dry run must not."""
    return {
        "rows": [model.objects.count() for model in (Topic, Schema, SchemaVersion, ServiceAccount, Subscription,
                                                     AuditEvent)],
        "generations": sorted((m.__name__, pk, g) for m in (Topic, Schema, ServiceAccount, Subscription)
                              for pk, g in m.objects.values_list("pk", "generation")),
    }


@pytest.fixture
def names(topic_name):
    """Unique names on the shared broker: ``names.topic()`` (payments.*), ``names.account()``."""

    class Names:
        def __init__(self):
            self.accounts: list[str] = []

        @staticmethod
        def topic(stem: str = "m") -> str:
            return topic_name(stem)

        def account(self) -> str:
            name = f"m{uuid.uuid4().hex[:8]}"
            self.accounts.append(f"payments.{name}")
            return name

    return Names()


@pytest.fixture
def clinical_source(carol, cluster, clinical, topic_name, kafka_admin):
    """A public topic of clinical that payments may subscribe to; removed from the broker afterwards."""
    name = f"clinical.visits-{uuid.uuid4().hex[:8]}"
    topic = topic_create(actor=carol, cluster=cluster, team=clinical, name=name, partitions=1, replication_factor=1)
    yield topic
    if name in kafka_admin.list_topics(timeout=10).topics:
        kafka_admin.delete_topics([name], operation_timeout=30)[name].result(30)


@pytest.fixture
def resources(alice, cluster, payments, names, clinical_source, subjects):  # noqa: F811 - the shared fixture
    """One of each resource of payments, made through the services as the API would."""
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=names.topic("orders"), partitions=2,
                         replication_factor=1, configs={"retention.ms": 86_400_000}, description="Orders\nplaced.",
                         tags=["orders"], via="api")
    subjects.extend([f"{topic.name}-value", f"{topic.name}-key"])
    version = schema_version_submit(actor=alice, topic=topic, side="value", fmt="AVRO", text=ORDER, via="api")
    account, _ = service_account_create(actor=alice, cluster=cluster, team=payments, name=names.account(),
                                        description="Billing consumers", via="api")
    subscription = subscription_request(actor=alice, subscriber=payments, source=clinical_source,
                                        service_account=account, mode="direct", reason="Billing needs visits",
                                        via="api")
    return Resources(topic, version.schema, account, subscription, clinical_source)


@pytest.fixture
def account_cleanup(kafka_admin, names):
    """Remove the SCRAM users and ACLs of the accounts a test named, from the shared broker."""
    yield
    for username in names.accounts:
        query = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, f"User:{username}", None,
                                 AclOperation.ANY, AclPermissionType.ANY)
        kafka_admin.delete_acls([query])[query].result(30)
    deletions = [UserScramCredentialDeletion(u, ScramMechanism.SCRAM_SHA_512) for u in names.accounts]
    if deletions:
        for future in kafka_admin.alter_user_scram_credentials(deletions).values():
            try:
                future.result(30)
            except Exception:  # noqa: BLE001 - never created, or already gone
                pass
