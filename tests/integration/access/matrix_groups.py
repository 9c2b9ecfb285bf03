"""The World's consumer groups: a public payments topic that also exists on the broker, a payments group with a
committed offset on it, and research's group on it (research subscribes directly) whose reset waits for payments'
owners; and the other way round, alice's reset of payments' group over a research topic, waiting for research.
Kafka state is made once with the real broker; the reset requests go through the service."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from django.conf import settings

from onboarding.models import AuditEvent, OffsetReset, Subscription, Topic
from onboarding.services.groups import ResetRequest, offset_reset_request
from onboarding.services.subscriptions import subscription_request
from tests.fixtures.waiting import wait_for


@dataclass(frozen=True)
class ConsumerGroup:
    """A group as a row target: its id stands for the pk, so a 404 is checked not to name it."""

    cluster: str
    group_id: str

    @property
    def pk(self) -> str:
        return self.group_id


def commit_offset(group_id: str, topic: str, offset: int = 0) -> None:
    """Commit without joining (assign, not subscribe), so the group has offsets and no active member."""
    consumer = Consumer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "group.id": group_id,
                         "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition(topic, 0, offset)], asynchronous=False)
    finally:
        consumer.close()


class GroupObjects:
    """Mixed into ``World``: expects ``cluster``, ``payments``, ``research``, ``users``, ``research_account``,
    ``broker_topics`` and ``topic()`` from it."""

    def _made_on_broker(self, topic: Topic) -> Topic:
        admin = AdminClient({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})
        admin.create_topics([NewTopic(topic.name, num_partitions=1, replication_factor=1)])[topic.name].result(30)
        self.broker_topics.append(topic.name)
        wait_for(lambda: topic.name in admin.list_topics(timeout=10).topics, timeout=15, message=topic.name)
        return topic

    @cached_property
    def lag_topic(self) -> Topic:
        """A public payments topic, made on the broker too (groups commit on it, records are deleted from it)."""
        return self._made_on_broker(self.topic(self.payments, self.alice, "lagged", Topic.Visibility.PUBLIC))

    @cached_property
    def studied_topic(self) -> Topic:
        """A public research topic on the broker, which payments reads directly (approved at once)."""
        topic = self._made_on_broker(self.topic(self.research, self.users["robin"], "studied", Topic.Visibility.PUBLIC))
        subscription_request(actor=self.alice, subscriber=self.payments, source=topic,
                             service_account=self.payments_account, mode=Subscription.Mode.DIRECT,
                             reason="Billing rereads the study", via=AuditEvent.Via.SYSTEM)
        return topic

    def _group(self, team, stem: str) -> ConsumerGroup:
        group = ConsumerGroup(self.cluster.name, f"{team.slug}.{stem}-{self.lag_topic.name[-8:]}")
        commit_offset(group.group_id, self.lag_topic.name)
        return group

    @cached_property
    def payments_group(self) -> ConsumerGroup:
        return self._group(self.payments, "billing")

    @cached_property
    def research_group(self) -> ConsumerGroup:
        return self._group(self.research, "study")

    @cached_property
    def lag_subscription(self) -> Subscription:
        """research reads the lagged topic directly (public: approved at once), so its group may be reset on it."""
        return subscription_request(actor=self.users["robin"], subscriber=self.research, source=self.lag_topic,
                                    service_account=self.research_account, mode=Subscription.Mode.DIRECT,
                                    reason="Research studies billing", via=AuditEvent.Via.SYSTEM)

    @cached_property
    def waiting_reset(self) -> OffsetReset:
        """research asks to reread payments' topic: waiting for one of payments' owners."""
        _ = self.lag_subscription
        return offset_reset_request(actor=self.users["robin"], cluster=self.cluster,
                                    group_id=self.research_group.group_id, topic=self.lag_topic,
                                    request=ResetRequest("earliest"), reason="Rerun the study",
                                    via=AuditEvent.Via.SYSTEM)

    @cached_property
    def alice_reset(self) -> OffsetReset:
        """alice asks to reread research's topic with payments' group: waiting for research's owners, and only
        she may withdraw it."""
        return offset_reset_request(actor=self.alice, cluster=self.cluster, group_id=self.payments_group.group_id,
                                    topic=self.studied_topic, request=ResetRequest("earliest"),
                                    reason="Reread the study", via=AuditEvent.Via.SYSTEM)
