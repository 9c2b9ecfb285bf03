"""API views, one module per resource."""

from onboarding.api.views.aggregations import AggregationViewSet
from onboarding.api.views.changes import ChangeRequestViewSet
from onboarding.api.views.clusters import ClusterViewSet
from onboarding.api.views.fallback import endpoint_not_found
from onboarding.api.views.manifests import TeamManifestView
from onboarding.api.views.peek import TopicPeekView
from onboarding.api.views.schemas import SchemaViewSet
from onboarding.api.views.sensitivity import SensitiveFieldsView
from onboarding.api.views.service_accounts import ServiceAccountViewSet
from onboarding.api.views.subscriptions import SubscriptionViewSet
from onboarding.api.views.teams import TeamViewSet
from onboarding.api.views.tokens import ApiTokenViewSet
from onboarding.api.views.topics import TopicViewSet
from onboarding.api.views.webhooks import DeliveryViewSet, WebhookViewSet

__all__ = [
    "AggregationViewSet", "ApiTokenViewSet", "ChangeRequestViewSet", "ClusterViewSet", "DeliveryViewSet",
    "SchemaViewSet", "SensitiveFieldsView", "ServiceAccountViewSet", "SubscriptionViewSet", "TeamManifestView",
    "TeamViewSet", "TopicPeekView", "TopicViewSet", "WebhookViewSet", "endpoint_not_found",
]
