"""API views, one module per resource."""

from onboarding.api.views.catalog import ClusterViewSet, TeamViewSet
from onboarding.api.views.changes import ChangeRequestViewSet
from onboarding.api.views.fallback import endpoint_not_found
from onboarding.api.views.schemas import SchemaViewSet
from onboarding.api.views.service_accounts import ServiceAccountViewSet
from onboarding.api.views.subscriptions import SubscriptionViewSet
from onboarding.api.views.topics import TopicViewSet

__all__ = [
    "ChangeRequestViewSet", "ClusterViewSet", "SchemaViewSet", "ServiceAccountViewSet", "SubscriptionViewSet",
    "TeamViewSet", "TopicViewSet", "endpoint_not_found",
]
