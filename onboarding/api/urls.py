"""/api/v1/: the REST API (mounted by portal/urls.py; schema at /api/schema/, docs at /api/docs/)."""

from django.urls import path, re_path
from rest_framework.routers import DefaultRouter

from onboarding.api import views
from onboarding.api.views.fallback import NOT_FOUND_NAME
from onboarding.api.views.search import SearchView

app_name = "api"

router = DefaultRouter(use_regex_path=False)  # path converters: ids are <int:pk>
router.register("teams", views.TeamViewSet, basename="team")
router.register("clusters", views.ClusterViewSet, basename="cluster")
router.register("topics", views.TopicViewSet, basename="topic")
router.register("schemas", views.SchemaViewSet, basename="schema")
router.register("service-accounts", views.ServiceAccountViewSet, basename="service-account")
router.register("subscriptions", views.SubscriptionViewSet, basename="subscription")

urlpatterns = [
    path("search/", SearchView.as_view(), name="search"),
    *router.urls,
    # Last: anything else under /api/v1/ is a JSON 404.
    re_path(r"^(?P<path>.*)$", views.endpoint_not_found, name=NOT_FOUND_NAME),
]
