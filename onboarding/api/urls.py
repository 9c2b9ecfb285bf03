"""/api/v1/: the REST API (mounted by portal/urls.py; schema at /api/schema/, docs at /api/docs/)."""

from django.urls import path, re_path
from rest_framework.routers import DefaultRouter

from onboarding.api import views
from onboarding.api.views.aggregation_preview import AggregationPreviewView
from onboarding.api.views.connectors import ConnectorViewSet
from onboarding.api.views.event_store import TopicEventStoreView
from onboarding.api.views.event_store_query import EventStoreQueryView
from onboarding.api.views.fallback import NOT_FOUND_NAME
from onboarding.api.views.groups import (
    DeleteRecordsView,
    GroupDetailView,
    GroupLagView,
    GroupListView,
    GroupResetView,
    OffsetResetApproveView,
    OffsetResetDetailView,
    OffsetResetListView,
    OffsetResetRejectView,
    OffsetResetWithdrawView,
)
from onboarding.api.views.mappings import CanonicalTopicViewSet, CodeTableViewSet, MappingViewSet
from onboarding.api.views.members import TeamMembersView, TeamMemberView
from onboarding.api.views.search import SearchView
from onboarding.history.api import AuditTrailView

app_name = "api"

# Path converters (ids are <int:pk>). No format-suffix routes (topics.json, ...{format}): JSON is the only
# rendering, the suffix routes crashed with a TypeError and doubled every path in the OpenAPI document.
class _Router(DefaultRouter):
    include_format_suffixes = False


router = _Router(use_regex_path=False)
router.register("teams", views.TeamViewSet, basename="team")
router.register("clusters", views.ClusterViewSet, basename="cluster")
router.register("topics", views.TopicViewSet, basename="topic")
router.register("schemas", views.SchemaViewSet, basename="schema")
router.register("service-accounts", views.ServiceAccountViewSet, basename="service-account")
router.register("tokens", views.ApiTokenViewSet, basename="token")
router.register("subscriptions", views.SubscriptionViewSet, basename="subscription")
router.register("webhooks", views.WebhookViewSet, basename="webhook")
router.register("notification-deliveries", views.DeliveryViewSet, basename="notification-delivery")
router.register("change-requests", views.ChangeRequestViewSet, basename="change-request")
router.register("aggregations", views.AggregationViewSet, basename="aggregation")
router.register("connectors", ConnectorViewSet, basename="connector")
router.register("mappings", MappingViewSet, basename="mapping")
router.register("code-tables", CodeTableViewSet, basename="code-table")
router.register("canonical-topics", CanonicalTopicViewSet, basename="canonical-topic")

urlpatterns = [
    # Teams are looked up by id in the router; the manifest is addressed by the team's slug.
    path("teams/<slug:slug>/manifest/", views.TeamManifestView.as_view(), name="team-manifest"),
    path("teams/<int:pk>/members/", TeamMembersView.as_view(), name="team-members"),
    path("teams/<int:pk>/members/<str:username>/", TeamMemberView.as_view(), name="team-member"),
    path("schemas/<int:pk>/sensitive-fields/", views.SensitiveFieldsView.as_view(), name="schema-sensitive-fields"),
    path("topics/<int:pk>/peek/", views.TopicPeekView.as_view(), name="topic-peek"),
    path("topics/<int:pk>/event-store/", TopicEventStoreView.as_view(), name="topic-event-store"),
    path("search/", SearchView.as_view(), name="search"),
    re_path(r"^event-store/(?P<topic>[^/]+)/query/?$", EventStoreQueryView.as_view(), name="event-store-query"),
    # Before the router, whose aggregations/<pk>/ would otherwise be asked (and refuse the POST).
    re_path(r"^aggregations/preview/?$", AggregationPreviewView.as_view(), name="aggregation-preview"),
    # Consumer groups (a group id may hold dots, never a slash), their resets, deleting a topic's records.
    path("consumer-groups/", GroupListView.as_view(), name="consumer-group-list"),
    path("consumer-groups/<str:cluster>/<str:group_id>/", GroupDetailView.as_view(), name="consumer-group-detail"),
    path("consumer-groups/<str:cluster>/<str:group_id>/lag/", GroupLagView.as_view(), name="consumer-group-lag"),
    path("consumer-groups/<str:cluster>/<str:group_id>/reset/", GroupResetView.as_view(),
         name="consumer-group-reset"),
    path("offset-resets/", OffsetResetListView.as_view(), name="offset-reset-list"),
    path("offset-resets/<int:pk>/", OffsetResetDetailView.as_view(), name="offset-reset-detail"),
    path("offset-resets/<int:pk>/approve/", OffsetResetApproveView.as_view(), name="offset-reset-approve"),
    path("offset-resets/<int:pk>/reject/", OffsetResetRejectView.as_view(), name="offset-reset-reject"),
    path("offset-resets/<int:pk>/withdraw/", OffsetResetWithdrawView.as_view(), name="offset-reset-withdraw"),
    path("topics/<int:pk>/delete-records/", DeleteRecordsView.as_view(), name="topic-delete-records"),
    *router.urls,
    path("audit/", AuditTrailView.as_view(), name="audit"),
    # Last: anything else under /api/v1/ is a JSON 404.
    re_path(r"^(?P<path>.*)$", views.endpoint_not_found, name=NOT_FOUND_NAME),
]
