"""What the routers did for a subscription and how far its readers lag: the one selector that asks Kafka,
through the platform adapter, and answers None while the cluster is unreachable."""

from __future__ import annotations

from django.conf import settings

from onboarding.models import Subscription
from onboarding.platform import PlatformError
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.kafka_admin import KafkaAdmin
from onboarding.routing import traffic


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
            return admin.consumer_lag(sub.source.name, group=settings.ROUTER_GROUP_ID)
        return admin.consumer_lag(sub.source.name, group_prefix=f"{sub.subscriber.slug}.")
    except PlatformError:
        return None  # the page still shows everything else while the cluster is unreachable
