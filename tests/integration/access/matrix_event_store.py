"""The World's event-store bindings: payments keeps a private topic, a public one, and a public one clinical
subscribes to (approved at once) in the event store. Bindings are Postgres rows made through the service; no sink
connector is started (the matrix checks permissions, not the data path), and a query of a binding's collection
that no sink ever wrote answers an empty page."""

from __future__ import annotations

from functools import cached_property

from onboarding.models import AuditEvent, EventStoreBinding, Subscription, Topic
from onboarding.services.event_store import event_store_bind
from onboarding.services.subscriptions import subscription_request


class EventStoreObjects:
    """Mixed into ``World``: expects ``cluster``, ``payments``, ``clinical``, ``users``, ``clinical_account`` and
    ``topic()`` from it. The event store and Connect settings come from the world's fixture."""

    def _stored(self, stem: str, visibility: str) -> Topic:
        topic = self.topic(self.payments, self.alice, stem, visibility)
        event_store_bind(actor=self.alice, topic=topic, mode=EventStoreBinding.Mode.LOG, via=AuditEvent.Via.SYSTEM)
        return topic

    @cached_property
    def stored_topic(self) -> Topic:
        return self._stored("stored", Topic.Visibility.PRIVATE)

    @cached_property
    def stored_public_topic(self) -> Topic:
        return self._stored("stored-public", Topic.Visibility.PUBLIC)

    @cached_property
    def shared_stored_topic(self) -> Topic:
        """Kept in the store, and clinical (carol's team) reads it with an approved subscription."""
        topic = self._stored("stored-shared", Topic.Visibility.PUBLIC)
        subscription_request(actor=self.users["carol"], subscriber=self.clinical, source=topic,
                             service_account=self.clinical_account, mode=Subscription.Mode.DIRECT,
                             reason="Clinical audits billing", via=AuditEvent.Via.SYSTEM)
        return topic
